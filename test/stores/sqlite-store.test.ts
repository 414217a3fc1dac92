// SqliteStore: the conformance suite (with siblings: other connections to the same file), then what
// only the SQLite store promises: a file that survives restarts, WAL and a versioned schema, a cap
// counted across connections, the sweep, and a clear error when the optional driver is missing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SQLITE_APPLICATION_ID,
  SQLITE_SCHEMA_VERSION,
  SqliteStore,
} from '../../src/stores/sqlite-store.js';
import { runStoreConformance } from '../../src/testing/index.js';
import { WAIT_MS, eventually } from '../helpers/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const SQLITE_MODULE = fileURLToPath(new URL('../../src/stores/sqlite-store.ts', import.meta.url));

runStoreConformance(
  'SqliteStore',
  ({ clock }) => SqliteStore.open({ path: join(dir, `store-${++n}.db`), clock }),
  {
    describe,
    it,
    makeSibling: (store, { clock }) =>
      SqliteStore.open({ path: (store as SqliteStore).path, clock }),
  },
);

const far = (s = 3600): number => Date.now() + s * 1000;
const id = (n: number): Uint8Array => Uint8Array.of(n);
const fresh = (): string => join(dir, `extra-${++n}.db`);

describe('SqliteStore: the file', () => {
  it('a store reopened on the same file sees what was written before', async () => {
    const path = fresh();
    const first = await SqliteStore.open({ path });
    first.set('ns', id(1), Uint8Array.of(1, 2, 3), far());
    first.set('ns', id(2), Uint8Array.of(4), far());
    first.take('ns', id(2));
    first.close();
    const second = await SqliteStore.open({ path });
    expect(Buffer.from(second.get('ns', id(1))!)).toEqual(Buffer.of(1, 2, 3));
    expect(second.get('ns', id(2))).toBeUndefined();
    expect(second.stats()).toEqual({ entries: 1, bytes: 3 });
    second.close();
  });

  it('uses WAL, a versioned schema, BLOB ids and an index on expiry', async () => {
    const path = fresh();
    (await SqliteStore.open({ path })).close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
      expect(db.pragma('application_id', { simple: true })).toBe(SQLITE_APPLICATION_ID);
      const columns = db.prepare('PRAGMA table_info(tls_sessions)').all() as {
        name: string;
        type: string;
      }[];
      expect(columns.map((c) => [c.name, c.type])).toEqual([
        ['namespace', 'TEXT'],
        ['id', 'BLOB'],
        ['expires_at', 'INTEGER'],
        ['value', 'BLOB'],
      ]);
      const plan = db
        .prepare(
          'EXPLAIN QUERY PLAN SELECT rowid FROM tls_sessions WHERE expires_at <= 5 ORDER BY expires_at',
        )
        .all() as { detail: string }[];
      expect(plan.map((p) => p.detail).join(' ')).toMatch(
        /USING (COVERING )?INDEX tls_sessions_expires_at/,
      );
    } finally {
      db.close();
    }
  });

  it('refuses a newer schema, another application’s database, and a foreign file, clearly', async () => {
    const newer = fresh();
    (await SqliteStore.open({ path: newer })).close();
    const db = new Database(newer);
    db.pragma('user_version = 2');
    db.close();
    await expect(SqliteStore.open({ path: newer })).rejects.toThrow(
      /schema version 2, newer than the 1 this version of tls-session-cache supports; upgrade/,
    );

    const foreign = fresh();
    const other = new Database(foreign);
    other.exec('CREATE TABLE users (name TEXT)');
    other.close();
    await expect(SqliteStore.open({ path: foreign })).rejects.toThrow(
      /not a tls-session-cache database/,
    );

    const app = fresh();
    const third = new Database(app);
    third.pragma('application_id = 42');
    third.close();
    await expect(SqliteStore.open({ path: app })).rejects.toThrow(/belongs to another application/);

    const text = join(dir, 'not-a-db.txt');
    writeFileSync(
      text,
      'hello, this is not a database at all, just some text to fill a page'.repeat(20),
    );
    await expect(SqliteStore.open({ path: text })).rejects.toThrow(
      /^SqliteStore: cannot open .*not-a-db.txt.*: file is not a database$/,
    );
    // A missing directory is created (test/stores/errors.test.ts); one that cannot be is an error.
    await expect(SqliteStore.open({ path: join(text, 'no-such-dir', 'x.db') })).rejects.toThrow(
      /cannot open .*no-such-dir.*ENOTDIR/,
    );
  });

  it('names the fix when better-sqlite3 is not installed', () => {
    // A real module-resolution failure: a loader hook makes `better-sqlite3` unresolvable.
    const hook = join(dir, 'hide-better-sqlite3.mjs');
    writeFileSync(
      hook,
      `export async function resolve(specifier, context, next) {
        if (specifier === 'better-sqlite3') {
          const error = new Error("Cannot find package 'better-sqlite3'");
          error.code = 'ERR_MODULE_NOT_FOUND';
          throw error;
        }
        return next(specifier, context);
      }`,
    );
    const register = join(dir, 'register.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hook).href)});`,
    );
    const script = join(dir, 'open.ts');
    writeFileSync(
      script,
      `import { SqliteStore } from ${JSON.stringify(SQLITE_MODULE)};
       SqliteStore.open({ path: ':memory:' }).then(
         () => console.log('opened'),
         (error) => console.log('error: ' + error.message),
       );`,
    );
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--import', register, script], {
      encoding: 'utf8',
    });
    expect(out.trim()).toBe(
      'error: SqliteStore needs the optional dependency better-sqlite3: npm install better-sqlite3',
    );
  });
});

describe('SqliteStore: cap, sweep and options', () => {
  it('caps the entries across connections, evicting the soonest-expiring first', async () => {
    const path = fresh();
    const a = await SqliteStore.open({ path, maxEntries: 3 });
    const b = await SqliteStore.open({ path, maxEntries: 3 });
    a.set('ns', id(1), id(1), far(300));
    b.set('ns', id(2), id(2), far(100)); // soonest
    a.set('ns', id(3), id(3), far(200));
    expect(b.set('ns', id(4), id(4), far(400))).toBe(true);
    expect(a.get('ns', id(2))).toBeUndefined();
    expect(a.stats().entries).toBe(3);
    // A new entry that would expire first is itself the one evicted.
    expect(a.set('ns', id(5), id(5), far(50))).toBe(false);
    expect(b.get('ns', id(5))).toBeUndefined();
    expect([1, 3, 4].map((k) => b.get('ns', id(k)) !== undefined)).toEqual([true, true, true]);
    a.close();
    b.close();
  });

  it('the sweep deletes expired rows (never returned before either), in bounded batches', async () => {
    let now = Date.now();
    const store = await SqliteStore.open({ path: fresh(), clock: () => now, sweepIntervalMs: 0 });
    for (let k = 0; k < 1200; k++) {
      store.set('ns', Uint8Array.of(k & 0xff, k >> 8), id(1), now + (k < 1100 ? 1000 : 60_000));
    }
    now += 1000;
    expect(store.get('ns', Uint8Array.of(0, 0))).toBeUndefined();
    expect(store.stats().entries).toBe(1200); // not yet swept
    expect(store.sweep()).toBe(1100);
    expect(store.stats()).toEqual({ entries: 100, bytes: 100 });
    store.close();
  });

  it.each([
    ['on the checkpointer thread', {}],
    ['on an unref’d timer (injected clock)', { clock: () => Date.now() }],
    ['on an unref’d timer (no checkpointer)', { checkpointIntervalMs: 0 }],
  ])('the sweep runs by itself, %s, and holds nothing open', async (_where, extra) => {
    const active = (): string[] => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    const before = active().length;
    const store = await SqliteStore.open({ path: fresh(), sweepIntervalMs: 20, ...extra });
    // Neither the timer nor the thread keeps the process alive.
    expect(active().length).toBe(before);
    store.set('ns', id(1), id(1), Date.now() + 30);
    store.set('ns', id(2), id(2), far());
    // The thread needs a moment to start (loading the driver) on a busy machine: poll.
    await eventually(() => store.stats().entries === 1, 'the expired entry swept');
    expect(store.sweepErrors).toBe(0);
    await store.close();
  });

  it('a process that never closes its store still exits by itself', () => {
    const script = join(dir, 'no-close.mts');
    writeFileSync(
      script,
      `import { SqliteStore } from ${JSON.stringify(SQLITE_MODULE)};
       const store = await SqliteStore.open({ path: ${JSON.stringify(fresh())} });
       store.set('ns', Uint8Array.of(1), Uint8Array.of(1), Date.now() + 60_000);
       console.log('done');`,
    );
    // A timer or thread that kept the process alive would keep it alive for good: only a hang
    // limit tells that from a slow start on a busy machine.
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: WAIT_MS,
    });
    expect(out.trim()).toBe('done');
  });

  it('a worker thread checkpoints the WAL into the file, off the event loop', async () => {
    const open = async (checkpointIntervalMs: number) => {
      const path = fresh();
      const store = await SqliteStore.open({ path, checkpointIntervalMs });
      const value = new Uint8Array(600);
      // ~100 sets write ~400 WAL pages: below SQLite’s own automatic checkpoint (1000).
      for (let k = 0; k < 100; k++) store.set('ns', Uint8Array.of(k), value, far());
      return { store, size: () => statSync(path).size };
    };
    // Checkpointed: the rows reach the database file itself (the thread runs every 50 ms, later
    // on a busy machine: wait for it rather than guess how long it takes) ...
    const withThread = await open(50);
    await eventually(() => withThread.size() > 60_000, 'the WAL checkpointed into the file');
    expect(withThread.store.checkpointErrors).toBe(0);
    await withThread.store.close();
    // ... and without the thread they stay in the WAL (SQLite's own checkpoint is at 1000 pages).
    const without = await open(0);
    expect(without.size()).toBeLessThan(20_000);
    await without.store.close();
  });

  it('treats ids it cannot hold as misses, throws after close, refuses invalid options', async () => {
    const store = await SqliteStore.open({ path: ':memory:' });
    expect(store.get('ns', new Uint8Array(33))).toBeUndefined();
    expect(store.take('ns', new Uint8Array(0))).toBeUndefined();
    expect(store.delete('ns', new Uint8Array(99))).toBe(false);
    expect(() => store.set('ns', new Uint8Array(33), id(1), far())).toThrow(RangeError);
    await store.close();
    await store.close();
    expect(() => store.get('ns', id(1))).toThrow(/SqliteStore is closed/);
    await expect(SqliteStore.open({} as never)).rejects.toThrow(/path/);
    await expect(SqliteStore.open({ path: ':memory:', maxEntries: 0 })).rejects.toThrow(
      /maxEntries/,
    );
    await expect(SqliteStore.open({ path: ':memory:', busyTimeoutMs: -1 })).rejects.toThrow(
      /busyTimeoutMs/,
    );
    await expect(SqliteStore.open({ path: ':memory:', sweepIntervalMs: 0.5 })).rejects.toThrow(
      RangeError,
    );
    await expect(SqliteStore.open({ path: ':memory:', clock: 1 as never })).rejects.toThrow(
      /clock/,
    );
  });
});
