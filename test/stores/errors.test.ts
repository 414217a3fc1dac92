// Proves the one error base class: every store, the store adapter, the stored-record decoder and
// the key loader raise a SessionCacheError whose `code` is the one docs/errors.md lists, so that a
// caller switches on one field whatever the store — MemoryStore and a real SQLite file closed, a
// SQLite file that cannot be opened or belongs to someone else, a real redis-server closed,
// unreachable and paused (the adapter's write timeout), a tampered stored value, a key file that is
// a directory. (The conformance suite checks ERR_STORE_CLOSED for every store as well.)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionCacheError, hasErrorCode } from '../../src/common/errors.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';
import { RedisStore, RedisStoreError } from '../../src/stores/redis-store.js';
import { storeCallbacks } from '../../src/stores/cache-adapter.js';
import { loadKeyring } from '../../src/stores/encryption/index.js';
import {
  StoredSessionError,
  decodeStoredSession,
  encodeStoredSession,
} from '../../src/session/stored-record.js';
import { SessionDecodeError } from '../../src/session/errors.js';
import { decodeSession } from '../../src/session/decode.js';
import { eventually } from '../helpers/eventually.js';
import { CONNECTED, freePort, skipWithoutRedis, startRedis } from '../helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NO_REDIS = skipWithoutRedis('the RedisStore error-code tests');
const id = Uint8Array.of(1);
const later = (): number => Date.now() + 3_600_000;

/** The error `run` throws or rejects with. */
async function failure(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

/** Asserts `error` is a SessionCacheError with `code`. */
function expectCode(error: unknown, code: string): void {
  expect(error).toBeInstanceOf(SessionCacheError);
  expect(error).toBeInstanceOf(Error);
  expect((error as SessionCacheError).code).toBe(code);
}

describe('stores: closed', () => {
  it('MemoryStore throws ERR_STORE_CLOSED at the call', () => {
    const store = new MemoryStore();
    store.close();
    expect(() => store.get('ns', id)).toThrow(SessionCacheError);
    try {
      store.set('ns', id, id, later());
    } catch (error) {
      expectCode(error, 'ERR_STORE_CLOSED');
      expect(hasErrorCode(error, 'ERR_STORE_CLOSED')).toBe(true);
      expect(hasErrorCode(error, 'ERR_STORE_UNAVAILABLE')).toBe(false);
    }
  });

  it('SqliteStore (a real file) throws ERR_STORE_CLOSED at the call', async () => {
    const store = await SqliteStore.open({ path: join(dir, 'closed.db') });
    store.set('ns', id, id, later());
    await store.close();
    for (const call of [() => store.get('ns', id), () => store.take('ns', id)]) {
      expectCode(await failure(call), 'ERR_STORE_CLOSED');
    }
  });
});

describe('SqliteStore: cannot open', () => {
  it('a directory, or a file that is not a database: ERR_STORE_UNAVAILABLE', async () => {
    const directory = join(dir, 'a-directory.db');
    mkdirSync(directory);
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, Buffer.alloc(4096, 0x5a));
    for (const path of [directory, garbage]) {
      const error = await failure(() => SqliteStore.open({ path }));
      expectCode(error, 'ERR_STORE_UNAVAILABLE');
      expect((error as Error).message).toContain(path);
    }
  });

  it("another application's file: ERR_STORE_FOREIGN, and the file is left as it was", async () => {
    const path = join(dir, 'foreign.db');
    const other = new Database(path);
    other.exec('CREATE TABLE invoices (n INTEGER)');
    other.close();
    const before = readFileSync(path);
    expectCode(await failure(() => SqliteStore.open({ path })), 'ERR_STORE_FOREIGN');
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('creates missing directories on the way to the file (owner-only)', async () => {
    const path = join(dir, 'missing', 'deeper', 'sessions.db');
    const store = await SqliteStore.open({ path });
    expect(store.set('ns', id, id, later())).toBe(true);
    await store.close();
    const reopened = await SqliteStore.open({ path });
    expect(Buffer.from(reopened.get('ns', id) as Uint8Array)).toEqual(Buffer.from(id));
    await reopened.close();
  });
});

describe.skipIf(NO_REDIS)('RedisStore (a real redis-server)', () => {
  it('closed: ERR_STORE_CLOSED; the old lower-case reason is kept', async () => {
    const redis = await startRedis();
    try {
      const store = await RedisStore.create({ url: redis.url, ...CONNECTED });
      await store.close();
      const error = await failure(() => store.get('ns', id));
      expectCode(error, 'ERR_STORE_CLOSED');
      expect(error).toBeInstanceOf(RedisStoreError);
      expect((error as RedisStoreError).reason).toBe('closed');
    } finally {
      await redis.stop();
    }
  });

  it('unreachable: ERR_STORE_UNAVAILABLE at create and on every call', async () => {
    const port = await freePort(); // nothing listens there
    expectCode(
      await failure(() => RedisStore.create({ port, requireStore: true, startupTimeoutMs: 500 })),
      'ERR_STORE_UNAVAILABLE',
    );
    const store = await RedisStore.create({ port, startupTimeoutMs: 0 });
    try {
      expectCode(await failure(() => store.get('ns', id)), 'ERR_STORE_UNAVAILABLE');
      expectCode(await failure(() => store.set('ns', id, id, later())), 'ERR_STORE_UNAVAILABLE');
    } finally {
      await store.close();
    }
  });

  it('stopped after connecting: ERR_STORE_UNAVAILABLE once the client sees the socket close', async () => {
    const redis = await startRedis();
    const store = await RedisStore.create({
      url: redis.url,
      maxReconnectDelayMs: 100,
      ...CONNECTED,
    });
    try {
      await store.set('ns', id, id, later());
      await redis.stop();
      // The client learns of the closed socket asynchronously; until then a command fails on the
      // dead socket (each attempt within commandTimeoutMs) with another code.
      let error: unknown;
      await eventually(async () => {
        error = await failure(() => store.get('ns', id));
        return (error as SessionCacheError).code === 'ERR_STORE_UNAVAILABLE';
      }, 'ERR_STORE_UNAVAILABLE once the socket closed');
      expectCode(error, 'ERR_STORE_UNAVAILABLE');
    } finally {
      await store.close();
    }
  });

  it('paused: the adapter reports ERR_STORE_TIMEOUT once writeTimeoutMs has passed', async () => {
    const redis = await startRedis();
    // The store waits far longer than the adapter, so the adapter's bound is what fires.
    const store = await RedisStore.create({
      url: redis.url,
      commandTimeoutMs: 60_000,
      ...CONNECTED,
    });
    const reported: unknown[] = [];
    const adapter = storeCallbacks(store, {
      writeTimeoutMs: 100,
      breaker: false,
      onError: (error) => reported.push(error),
    });
    try {
      redis.pause();
      adapter.onNew({ id, data: Buffer.from('x'), namespace: 'ns', time: Date.now() / 1000 });
      // drain() resolves when the write settles or is written off at writeTimeoutMs.
      await adapter.drain();
      expect(adapter.stats().writeTimeouts).toBe(1);
      expect(reported).toHaveLength(1);
      expectCode(reported[0], 'ERR_STORE_TIMEOUT');
    } finally {
      redis.resume();
      await adapter.close();
      await redis.stop();
    }
  });
});

describe('docs/errors.md', () => {
  it('its example (examples/store-errors.mjs) runs as written and prints the code', () => {
    const example = fileURLToPath(new URL('../../examples/store-errors.mjs', import.meta.url));
    const out = execFileSync(process.execPath, [example], { encoding: 'utf8' });
    expect(out).toBe('SessionCacheError ERR_STORE_CLOSED: MemoryStore is closed\n');
  });
});

describe('values and keys', () => {
  it('a tampered stored value: StoredSessionError, a SessionCacheError with its code', () => {
    const value = encodeStoredSession({ id, data: Buffer.from('session'), namespace: 'ns' });
    const error = (() => {
      try {
        decodeStoredSession(value, 'other-ns', id);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(StoredSessionError);
    expectCode(error, 'NAMESPACE_MISMATCH');
  });

  it('a malformed serialized session: SessionDecodeError, a SessionCacheError with its code', () => {
    const error = (() => {
      try {
        decodeSession(Buffer.from([0x30, 0x05, 0x02]));
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(SessionDecodeError);
    expectCode(error, 'TRUNCATED');
  });

  it('a key file that is a directory or missing: ERR_KEY_FILE', async () => {
    expectCode(await failure(() => loadKeyring({ keyFile: dir })), 'ERR_KEY_FILE');
    expectCode(await failure(() => loadKeyring({ keyFile: join(dir, 'none') })), 'ERR_KEY_FILE');
  });
});
