// RedisStore against real redis-server processes started for this file (no mocks): the layout in
// Redis, binary ids, isolation, expiry, atomic take, authentication, and how it fails — refused,
// stopped, paused — which is the part that decides whether a Redis outage stalls handshakes.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { covers } from '../../src/stores/revocations.js';
import type { Revocation, SessionStore } from '../../src/stores/store.js';
import { RedisStore, RedisStoreError } from '../../src/stores/redis-store.js';
import { runStoreConformance } from '../../src/testing/index.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { WAIT_MS, eventually } from '../helpers/eventually.js';
import {
  CONNECTED,
  freePort,
  skipWithoutRedis,
  sleep,
  startRedis,
  type RedisServer,
} from '../helpers/redis-server.js';
import { ARMING_SLACK_MS, settlesBeforeTimers, settlesWithin } from '../helpers/settles.js';

const NO_REDIS = skipWithoutRedis('the RedisStore tests');
const NS = 'tenant/abcdefghijklmnop';

/** Every store a test made, closed after it. */
const stores = new Set<RedisStore>();
/**
 * A store for a test; by default one that is connected (CONNECTED): a store that fails open with
 * the default startupTimeoutMs may resolve still connecting on a loaded machine, and its first
 * command would then fail.
 */
async function open(options: Parameters<typeof RedisStore.create>[0]): Promise<RedisStore> {
  const store = await RedisStore.create({ ...CONNECTED, ...options });
  stores.add(store);
  return store;
}
afterEach(async () => {
  await Promise.all([...stores].map((store) => store.close()));
  stores.clear();
});

/** How `promise` settles: its value or its error. (How fast: see test/helpers/settles.ts.) */
async function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: RedisStoreError }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error: error as RedisStoreError };
  }
}

/** Milliseconds since `start` (`performance.now()`), rounded: for a console note, never asserted. */
const since = (start: number): number => Math.round(performance.now() - start);

const later = (ms = 60_000): number => Date.now() + ms;
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe.skipIf(NO_REDIS)('RedisStore conformance', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  // Each store gets a fresh key prefix (an empty store); its siblings share the prefix, as other
  // processes of one service would.
  const prefixes = new WeakMap<SessionStore, string>();
  let made = 0;
  const make = async (
    clock: (() => number) | undefined,
    keyPrefix: string,
  ): Promise<SessionStore> => {
    // Generous deadlines: the suite checks what the store does, not how fast (the
    // timing tests are below), and other test files load the machine at the same time.
    const store = await RedisStore.create({
      url: redis.url,
      keyPrefix,
      commandTimeoutMs: 2000,
      connectTimeoutMs: 5000,
      ...CONNECTED,
      ...(clock ? { clock } : {}),
    });
    prefixes.set(store, keyPrefix);
    return store;
  };
  for (const mode of ['injected', 'real'] as const) {
    describe(`${mode} clock`, () => {
      runStoreConformance(
        'RedisStore',
        ({ clock }) => make(mode === 'injected' ? clock : undefined, `conformance-${made++}:`),
        {
          describe,
          it,
          clock: mode,
          makeSibling: (store, { clock }) =>
            make(mode === 'injected' ? clock : undefined, prefixes.get(store)!),
        },
      );
    });
  }
});

describe.skipIf(NO_REDIS)('RedisStore on one redis-server', () => {
  let redis: RedisServer;
  let raw: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
    await raw.connect();
  });
  afterAll(async () => {
    raw?.disconnect();
    await redis?.stop();
  });
  afterEach(async () => {
    await raw.flushall();
  });

  describe('layout and binary safety', () => {
    it('stores one string per session: prefix ‖ namespace ‖ NUL ‖ id, header ‖ value, PXAT', async () => {
      const store = await open({ url: redis.url });
      const id = bytes(0x00, 0xff, 0x80, 0x2a, 0x7b, 0x7d, 0x0d, 0x0a);
      const deadline = Date.now() + 30_000;
      expect(await store.set(NS, id, bytes(1, 2, 3), deadline)).toBe(true);
      const keys = await raw.keysBuffer('*');
      expect(keys).toEqual([Buffer.concat([Buffer.from(`tls-session-cache:\0${NS}\0`), id])]);
      const stored = (await raw.getBuffer(keys[0]!))!;
      expect(stored[0]).toBe(1);
      expect(stored.subarray(9)).toEqual(Buffer.from([1, 2, 3]));
      // Redis expires it at the deadline (PXAT deadline - 1: Redis deletes once *past* it).
      expect(await raw.pexpiretime(keys[0]!)).toBe(deadline - 1);
    });

    it('keeps ids with every byte value, of every length 1–32, apart', async () => {
      const store = await open({ url: redis.url });
      const ids: Uint8Array[] = [];
      for (let start = 0; start < 256; start += 32) {
        ids.push(Uint8Array.from({ length: 32 }, (_, i) => start + i)); // every byte value once
      }
      for (let length = 1; length <= 32; length++) ids.push(new Uint8Array(length).fill(0x80));
      // Ids a lossy string encoding would merge: invalid UTF-8 bytes, NULs, a trailing NUL.
      ids.push(bytes(0x7f), bytes(0x81), bytes(0xc3), bytes(0xc3, 0x28), bytes(0, 0), bytes(1, 0));
      for (const [i, id] of ids.entries()) {
        expect(await store.set(NS, id, bytes(i), later())).toBe(true);
      }
      expect(await raw.dbsize()).toBe(ids.length);
      for (const [i, id] of ids.entries()) expect(await store.get(NS, id)).toEqual(bytes(i));
      const listed = new Map<string, number>();
      for await (const entry of store.list({ withValues: true })) {
        listed.set(Buffer.from(entry.id).toString('hex'), entry.value![0]!);
      }
      expect(listed).toEqual(new Map(ids.map((id, i) => [Buffer.from(id).toString('hex'), i])));
      for (const [i, id] of ids.entries()) expect(await store.take(NS, id)).toEqual(bytes(i));
      expect(await raw.dbsize()).toBe(0);
    });

    it('treats ids no store can hold as misses without a round trip; set refuses them', async () => {
      const store = await open({
        url: `redis://127.0.0.1:${await freePort()}`,
        startupTimeoutMs: 0,
      });
      // A closed port: any round trip would reject, so resolving proves none happened.
      expect(await store.get(NS, new Uint8Array(0))).toBeUndefined();
      expect(await store.take(NS, new Uint8Array(33))).toBeUndefined();
      expect(await store.delete(NS, new Uint8Array(65_535))).toBe(false);
      await expect(store.set(NS, new Uint8Array(33), bytes(1), later())).rejects.toThrow(
        RangeError,
      );
      await expect(store.set(NS, bytes(1), bytes(1), Number.NaN)).rejects.toThrow(TypeError);
      await expect(store.get('a\0b', bytes(1))).rejects.toThrow(/NUL/);
      await expect(store.get(NS, 'abc' as unknown as Uint8Array)).rejects.toThrow(TypeError);
    });

    it('reads a value that is not ours (no header, other format) as a miss, not an error', async () => {
      const store = await open({ url: redis.url });
      const key = (id: number): Buffer =>
        Buffer.from(`tls-session-cache:\0${NS}\0${String.fromCharCode(id)}`);
      await raw.set(key(1), 'plain text planted by someone else');
      await raw.set(key(2), Buffer.from([2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 7]));
      await raw.set(key(3), Buffer.from([1, 2]));
      for (const id of [1, 2, 3]) {
        expect(await store.get(NS, bytes(id))).toBeUndefined();
        expect(await store.take(NS, bytes(id))).toBeUndefined();
      }
    });
  });

  describe('isolation', () => {
    it('keeps two key prefixes on one Redis apart', async () => {
      const a = await open({ url: redis.url, keyPrefix: 'app-a:' });
      const b = await open({ url: redis.url, keyPrefix: 'app-b:' });
      const id = bytes(7, 7, 7);
      await a.set(NS, id, bytes(0xa), later());
      await b.set(NS, id, bytes(0xb), later());
      expect(await a.get(NS, id)).toEqual(bytes(0xa));
      expect(await b.get(NS, id)).toEqual(bytes(0xb));
      expect(await a.stats()).toEqual({ entries: 1, bytes: 1 });
      expect(await a.clear()).toBe(1);
      expect(await a.get(NS, id)).toBeUndefined();
      expect(await b.take(NS, id)).toEqual(bytes(0xb));
      // One prefix is not a prefix-match of another: "app" must not see "app-a:" keys.
      const app = await open({ url: redis.url, keyPrefix: 'app' });
      await a.set(NS, id, bytes(0xa), later());
      expect(await app.stats()).toEqual({ entries: 0, bytes: 0 });
    });

    it('keeps namespaces apart, glob characters included', async () => {
      const store = await open({ url: redis.url });
      const namespaces = ['a*', 'a?', 'a[b]', 'a\\', 'ab', 'a', 'tenant/x', 'tenant/y', 'ünï'];
      for (const [i, namespace] of namespaces.entries()) {
        await store.set(namespace, bytes(1), bytes(i), later());
      }
      for (const [i, namespace] of namespaces.entries()) {
        expect(await store.get(namespace, bytes(1))).toEqual(bytes(i));
        const listed = [];
        for await (const entry of store.list({ namespace })) listed.push(entry.namespace);
        expect(listed).toEqual([namespace]);
      }
      const tenants = [];
      for await (const entry of store.list({ namespacePrefix: 'tenant/' }))
        tenants.push(entry.namespace);
      expect(tenants.sort()).toEqual(['tenant/x', 'tenant/y']);
      expect(await store.clear('a*')).toBe(1);
      expect(await store.get('ab', bytes(1))).toEqual(bytes(4));
      expect((await store.stats()).entries).toBe(namespaces.length - 1);
    });
  });

  describe('expiry', () => {
    it('never returns a value at or after its deadline, and Redis drops it then', async () => {
      const store = await open({ url: redis.url });
      // Read back before the deadline — on a loaded machine the round trips may outlast a short
      // lifetime, so a read that came back too late (a miss then is right) is tried again longer.
      let deadline: number;
      for (let lifetimeMs = 300; ; lifetimeMs *= 2) {
        deadline = Date.now() + lifetimeMs;
        await store.set(NS, bytes(1), bytes(1), deadline);
        const read = await store.get(NS, bytes(1));
        if (Date.now() >= deadline) continue;
        expect(read).toEqual(bytes(1));
        break;
      }
      await sleep(deadline - Date.now());
      while (Date.now() < deadline) await sleep(1);
      expect(await store.get(NS, bytes(1))).toBeUndefined();
      expect(await store.take(NS, bytes(1))).toBeUndefined();
      await sleep(5);
      expect(await raw.exists(Buffer.from(`tls-session-cache:\0${NS}\0\x01`))).toBe(0);
    });

    it('reads deadlines by the injected clock, and moves them onto the real one for Redis', async () => {
      let now = 1_000_000; // far from the real clock
      const store = await open({ url: redis.url, clock: () => now });
      expect(await store.set(NS, bytes(1), bytes(1), now + 60_000)).toBe(true);
      const ttl = await raw.pttl(Buffer.from(`tls-session-cache:\0${NS}\0\x01`));
      expect(ttl).toBeGreaterThan(59_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      now += 59_999;
      expect(await store.get(NS, bytes(1))).toEqual(bytes(1));
      const listed = [];
      for await (const entry of store.list()) listed.push(entry.expiresAtMs);
      expect(listed).toEqual([1_060_000]);
      now += 1;
      expect(await store.get(NS, bytes(1))).toBeUndefined();
      for await (const entry of store.list()) expect.fail(`listed ${entry.expiresAtMs}`);
    });

    it('refuses a past deadline and an oversize value without a round trip', async () => {
      const store = await open({
        url: `redis://127.0.0.1:${await freePort()}`,
        startupTimeoutMs: 0,
        maxValueBytes: 100,
      });
      expect(await store.set(NS, bytes(1), bytes(1), Date.now())).toBe(false);
      expect(await store.set(NS, bytes(1), bytes(1), Date.now() - 1000)).toBe(false);
      expect(await store.set(NS, bytes(1), new Uint8Array(101), later())).toBe(false);
      // The same store would need a round trip for a storable one: it fails, Redis being absent.
      await expect(store.set(NS, bytes(1), new Uint8Array(100), later())).rejects.toThrow(
        RedisStoreError,
      );
    });

    it('stores a value of exactly maxValueBytes', async () => {
      const store = await open({ url: redis.url });
      const value = new Uint8Array(store.maxValueBytes).map((_, i) => i);
      expect(await store.set(NS, bytes(1), value, later())).toBe(true);
      expect(await store.get(NS, bytes(1))).toEqual(value);
    });
  });

  describe('take', () => {
    it('gives each value to exactly one of many concurrent takers on separate connections', async () => {
      const takers = await Promise.all(Array.from({ length: 6 }, () => open({ url: redis.url })));
      for (let round = 0; round < 30; round++) {
        const id = bytes(round, 0xee);
        await takers[0]!.set(NS, id, bytes(round), later());
        const results = await Promise.all(
          takers.flatMap((store) => Array.from({ length: 5 }, () => store.take(NS, id))),
        );
        expect(results.filter((r) => r !== undefined)).toEqual([bytes(round)]);
      }
    });

    it('list, stats and clear count what is there', async () => {
      // A generous deadline: 2500 entries on a machine other test files keep busy.
      const store = await open({ url: redis.url, commandTimeoutMs: 2000 });
      const base = Date.now() + 60_000;
      for (let i = 0; i < 2500; i++) {
        await store.set(
          i % 2 === 0 ? 'even' : 'odd',
          bytes(i >> 8, i & 0xff),
          new Uint8Array(i % 7),
          base + i,
        );
      }
      expect(await store.stats()).toEqual({
        entries: 2500,
        bytes: Array.from({ length: 2500 }, (_, i) => i % 7).reduce((a, b) => a + b, 0),
      });
      let count = 0;
      for await (const entry of store.list({ namespace: 'odd', expiresBeforeMs: base + 1000 })) {
        expect(entry.namespace).toBe('odd');
        expect(entry.expiresAtMs).toBeLessThan(base + 1000);
        const i = (entry.id[0]! << 8) | entry.id[1]!;
        expect(entry.expiresAtMs).toBe(base + i);
        expect(entry.size).toBe(i % 7);
        expect(entry.value).toBeUndefined();
        count++;
      }
      expect(count).toBe(500);
      let limited = 0;
      for await (const _ of store.list({ limit: 1234 })) limited++;
      expect(limited).toBe(1234);
      expect(await store.clear('even')).toBe(1250);
      expect(await store.clear()).toBe(1250);
      expect(await raw.dbsize()).toBe(0);
    });
  });

  describe('authentication', () => {
    let secured: RedisServer;
    const PASSWORD = 'pa:ss@w/rd-9f3c';
    beforeAll(async () => {
      secured = await startRedis({ password: PASSWORD });
      // An ACL user that may touch only its own prefix, with what the store needs.
      await secured.cli(
        'ACL',
        'SETUSER',
        'tls',
        'on',
        '>tls-user-secret',
        'resetkeys',
        '~tls-session-cache:*',
        '-@all',
        '+set',
        '+get',
        '+getdel',
        '+del',
        '+unlink',
        '+getrange',
        '+strlen',
        '+scan',
        '+ping',
        '+info',
        '+client|setname',
        '+quit',
        '+select',
        // Revocation reports: published and subscribed on the prefix's channel.
        'resetchannels',
        '&tls-session-cache:*',
        '+publish',
        '+subscribe',
      );
    });
    afterAll(async () => {
      await secured?.stop();
    });

    it('connects with the password (URL, percent-encoded, or option)', async () => {
      const fromUrl = await open({
        url: `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${secured.port}`,
      });
      expect(await fromUrl.set(NS, bytes(1), bytes(1), later())).toBe(true);
      const fromOption = await open({ port: secured.port, password: PASSWORD });
      expect(await fromOption.take(NS, bytes(1))).toEqual(bytes(1));
    });

    it('connects as an ACL user limited to the key prefix', async () => {
      const store = await open({ url: `redis://tls:tls-user-secret@127.0.0.1:${secured.port}` });
      expect(await store.set(NS, bytes(1), bytes(1), later())).toBe(true);
      for await (const entry of store.list()) expect(entry.id).toEqual(bytes(1));
      expect(await store.stats()).toEqual({ entries: 1, bytes: 1 });
      expect(await store.take(NS, bytes(1))).toEqual(bytes(1));
      // Revocations reach another instance of the same user through pub/sub.
      const watcher = await open({ url: `redis://tls:tls-user-secret@127.0.0.1:${secured.port}` });
      const seen: unknown[] = [];
      watcher.watchRevocations((revocation) => seen.push(revocation));
      await eventually(() => watcher.revocationsSubscribed, 'the watcher subscribed');
      seen.length = 0;
      await store.delete(NS, bytes(9));
      await eventually(() => seen.length > 0, 'the revocation reached the watcher');
      expect(seen).toEqual([{ namespace: NS, id: bytes(9) }]);
      expect(await store.clear()).toBe(0);
      // Outside its keys the ACL says no: a command error, not a hang.
      const other = await open({
        url: `redis://tls:tls-user-secret@127.0.0.1:${secured.port}`,
        keyPrefix: 'other:',
      });
      const failed = await outcome(other.set(NS, bytes(1), bytes(1), later()));
      expect(failed.error).toBeInstanceOf(RedisStoreError);
      expect(failed.error!.reason).toBe('command');
      expect(failed.error!.code).toBe('ERR_STORE_COMMAND');
      expect(failed.error!.message).toMatch(/NOPERM/);
    });

    it('rejects a wrong password at create with a clear error that does not contain it (a mistake, not an outage: also when failing open)', async () => {
      const wrong = 'not-the-password-71d2';
      for (const options of [
        { url: `redis://:${wrong}@127.0.0.1:${secured.port}` },
        { url: `redis://tls:${wrong}@127.0.0.1:${secured.port}` },
        { port: secured.port, password: wrong },
        { port: secured.port, password: wrong, requireStore: true },
      ]) {
        // Refused by Redis, not timed out: failing open, a timeout would resolve a degraded store.
        const result = await outcome(RedisStore.create(options));
        expect(result.error).toBeInstanceOf(RedisStoreError);
        expect(result.error!.reason).toBe('config');
        expect(result.error!.code).toBe('ERR_STORE_CONFIG');
        expect(result.error!.message).toMatch(/WRONGPASS|invalid username-password/);
        expect(result.error!.message).toContain(`127.0.0.1:${secured.port}`);
        expect(result.error!.message).not.toContain(wrong);
        expect(result.error!.message).not.toContain(PASSWORD);
      }
      const none = await outcome(RedisStore.create({ port: secured.port }));
      expect(none.error!.reason).toBe('config');
      expect(none.error!.message).toMatch(/NOAUTH|Authentication required/);
    });

    it('reconnects and authenticates again after the server dropped it', async () => {
      const store = await open({ port: secured.port, password: PASSWORD });
      await secured.cli('CLIENT', 'KILL', 'TYPE', 'normal');
      await eventually(
        () => store.set(NS, bytes(1), bytes(1), later()).catch(() => false),
        'a set after the reconnect',
      );
    });

    it('passes connection errors to onError without the password', async () => {
      const wrong = 'wrong-password-e2b9';
      const seen: Error[] = [];
      const store = await open({
        port: secured.port,
        password: wrong,
        startupTimeoutMs: 0,
        onError: (error) => seen.push(error),
      });
      await eventually(() => seen.length >= 2, 'two connection errors passed to onError');
      expect(seen[0]!.message).toMatch(/WRONGPASS|invalid username-password/);
      for (const error of seen) {
        expect(`${error.message}\n${error.stack ?? ''}`).not.toContain(wrong);
      }
      const failed = await outcome(store.get(NS, bytes(1)));
      expect(failed.error!.message).toMatch(/not connected \(last error: .*WRONGPASS/);
      expect(failed.error!.message).not.toContain(wrong);
    });
  });

  describe('TLS (rediss://)', () => {
    let pki: TestPki;
    let secure: RedisServer;
    let mutual: RedisServer;
    beforeAll(async () => {
      pki = makeTestPki();
      const files = {
        certFile: pki.files.serverCert,
        keyFile: pki.files.serverKey,
        caFile: pki.files.caCert,
      };
      secure = await startRedis({ tls: files });
      mutual = await startRedis({
        tls: { ...files, clientCertFile: pki.files.clientCert, clientKeyFile: pki.files.clientKey },
      });
    });
    afterAll(async () => {
      await secure?.stop();
      await mutual?.stop();
      pki?.cleanup();
    });

    it('connects over TLS, checking the server certificate against the given CA', async () => {
      const store = await open({
        url: `rediss://127.0.0.1:${secure.port}`,
        tls: { ca: pki.caCert },
      });
      expect(await store.set(NS, bytes(1), bytes(1), later())).toBe(true);
      expect(await store.take(NS, bytes(1))).toEqual(bytes(1));
      // Without the CA, the self-made certificate is refused: a clear error, no connection.
      const untrusted = await outcome(
        RedisStore.create({ url: `rediss://127.0.0.1:${secure.port}`, ...CONNECTED }),
      );
      expect(untrusted.error).toBeInstanceOf(RedisStoreError);
      expect(untrusted.error!.message).toMatch(/certificate/i);
      // Plain redis:// to a TLS port gets no answer it understands: it fails (with requireStore;
      // else it is an outage, and the store starts degraded), bounded.
      const creating = RedisStore.create({
        url: `redis://127.0.0.1:${secure.port}`,
        connectTimeoutMs: 300,
        startupTimeoutMs: 300,
        requireStore: true,
      });
      expect(await settlesWithin(creating, 300 + ARMING_SLACK_MS)).toBe(true);
      expect((await outcome(creating)).error).toBeInstanceOf(RedisStoreError);
    });

    it('presents a client certificate when the server requires one', async () => {
      const store = await open({
        url: `rediss://127.0.0.1:${mutual.port}`,
        tls: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey },
      });
      expect(await store.set(NS, bytes(2), bytes(2), later())).toBe(true);
      expect(await store.get(NS, bytes(2))).toEqual(bytes(2));
      const without = await outcome(
        // A refusal, not an outage: it ends the wait however long startupTimeoutMs (CONNECTED).
        RedisStore.create({
          url: `rediss://127.0.0.1:${mutual.port}`,
          tls: { ca: pki.caCert },
          ...CONNECTED,
        }),
      );
      expect(without.error).toBeInstanceOf(RedisStoreError);
    });
  });

  describe('options', () => {
    it('throws TypeError/RangeError naming the option, never the password', async () => {
      const cases: [Parameters<typeof RedisStore.create>[0], RegExp, ErrorConstructor][] = [
        [{ port: 0 }, /port/, RangeError],
        [{ port: '6379' as unknown as number }, /port/, TypeError],
        [{ host: '' }, /host/, RangeError],
        [{ db: -1 }, /db/, RangeError],
        [{ commandTimeoutMs: 0 }, /commandTimeoutMs/, RangeError],
        [{ connectTimeoutMs: 1.5 }, /connectTimeoutMs/, RangeError],
        [{ maxPendingCommands: 0 }, /maxPendingCommands/, RangeError],
        [{ maxValueBytes: -1 }, /maxValueBytes/, RangeError],
        [{ maxReconnectDelayMs: Number.NaN }, /maxReconnectDelayMs/, TypeError],
        [{ keyPrefix: 5 as unknown as string }, /keyPrefix/, TypeError],
        [{ keyPrefix: 'a\0b' }, /keyPrefix/, RangeError],
        [{ clock: 5 as unknown as () => number }, /clock/, TypeError],
        [{ tls: 'yes' as unknown as boolean }, /tls/, TypeError],
        [{ nodes: [] }, /nodes/, TypeError],
        [{ nodes: ['a:1'], host: 'b' }, /nodes/, TypeError],
        [{ nodes: ['a:1'], db: 2 }, /db/, RangeError],
        [{ url: 'http://x' }, /url/, TypeError],
        [{ url: 'redis://a:1,b:2' }, /cluster/, TypeError],
        [{ url: 'redis://h:1/x' }, /database/, TypeError],
        [{ url: 'redis://h:1', host: 'h' }, /url or host/, TypeError],
        [{ url: 'redis+cluster://h:1/3' }, /database 0/, RangeError],
        [{ url: 'redis://:s3cr3t-pw@h:99999' }, /port/, RangeError],
        [{ url: 'redis://:s3cr3t-pw@h:1?x=1' }, /query/, TypeError],
        [{ startupTimeoutMs: -1 }, /startupTimeoutMs/, RangeError],
        [{ requireStore: 'yes' as unknown as boolean }, /requireStore/, TypeError],
        [{ waitForConnection: false } as never, /startupTimeoutMs/, TypeError],
        [{ comandTimeoutMs: 5 } as never, /comandTimeoutMs/, TypeError],
        [{ url: 'redis+sentinel://h:1' }, /master name/, TypeError],
        [{ url: 'redis+sentinel://h:1/bad name' }, /master name/, TypeError],
        [{ url: 'redis+sentinel://:s3cr3t-pw@h:1,/m' }, /sentinel/, TypeError],
        [{ url: 'redis+sentinel://h:1/m/x' }, /database/, TypeError],
        [{ sentinels: ['h:1'] }, /masterName/, TypeError],
        [{ masterName: 'm' }, /sentinels/, TypeError],
        [{ sentinels: ['h:1'], masterName: 'm', nodes: ['a:1'] }, /sentinels/, TypeError],
        [{ sentinels: ['h:1'], masterName: 'm', port: 2 }, /sentinels/, TypeError],
        [{ sentinels: ['h:1'], masterName: 'a b' }, /masterName/, RangeError],
        [{ sentinelPassword: 987654 as unknown as string }, /sentinelPassword/, TypeError],
        [{ password: 987654 as unknown as string }, /password/, TypeError],
        [{ clientOptions: { keyPrefix: 'x:' } }, /keyPrefix/, TypeError],
        [
          { nodes: ['a:1'], clientOptions: { redisOptions: { keyPrefix: 'x' } } },
          /keyPrefix/,
          TypeError,
        ],
      ];
      for (const [options, message, type] of cases) {
        const error = await RedisStore.create(options).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(error, JSON.stringify(options)).toBeInstanceOf(type);
        expect(error!.message).toMatch(message);
        expect(error!.message).not.toContain('s3cr3t');
        expect(error!.message).not.toContain('987654');
      }
    });

    it('with requireStore, says where it could not connect, within startupTimeoutMs', async () => {
      const port = await freePort();
      const failFast = { requireStore: true, connectTimeoutMs: 300, startupTimeoutMs: 500 };
      /** Rejects no later than a startupTimeoutMs timer started with it (see settles.ts). */
      const failsInTime = async (creating: Promise<RedisStore>): Promise<RedisStoreError> => {
        expect(await settlesWithin(creating, failFast.startupTimeoutMs + ARMING_SLACK_MS)).toBe(
          true,
        );
        const { error } = await outcome(creating);
        expect(error).toBeInstanceOf(RedisStoreError);
        return error!;
      };
      const refused = await failsInTime(RedisStore.create({ port, ...failFast }));
      expect(refused.message).toContain(`127.0.0.1:${port}`);
      expect(refused.message).toMatch(/ECONNREFUSED/);
      const cluster = await failsInTime(
        RedisStore.create({ url: `redis+cluster://127.0.0.1:${port}`, ...failFast }),
      );
      expect(cluster.message).toContain(`cluster 127.0.0.1:${port}`);
      // (ioredis reports only "Failed to refresh slots cache" and "Connection is closed" here.)
      expect(cluster.message).toMatch(/could not connect/);
      // Something that accepts TCP but never answers: bounded by startupTimeoutMs.
      redis.pause();
      try {
        await failsInTime(RedisStore.create({ port: redis.port, ...failFast }));
      } finally {
        redis.resume();
      }
    });

    it('with requireStore, a first attempt that times out is retried until startupTimeoutMs', async () => {
      // A busy host: the first connection's ready check outlasts commandTimeoutMs. That is no reason
      // to give up while startupTimeoutMs has not passed (seen under load: the CLI's operating
      // commands failed with "Command timed out" although Redis answered a moment later).
      redis.pause();
      const failures: Error[] = [];
      let settled = false;
      const creating = RedisStore.create({
        port: redis.port,
        requireStore: true,
        connectTimeoutMs: 200,
        commandTimeoutMs: 100,
        maxReconnectDelayMs: 100,
        startupTimeoutMs: WAIT_MS,
        onError: (error) => failures.push(error),
      });
      void creating.then(
        () => (settled = true),
        () => (settled = true),
      );
      try {
        await eventually(
          () => failures.length >= 2 || settled,
          'two failed connection attempts, or an answer',
        );
        // Not given up (it would have rejected at the first one), and not connected either.
        expect(settled).toBe(false);
      } finally {
        redis.resume();
      }
      const store = await creating;
      stores.add(store);
      expect(await store.set(NS, bytes(7), bytes(7), later())).toBe(true);
    });
  });

  describe('failure: fast, bounded, recovering', () => {
    it('fails every operation at once when nothing listens, and queues nothing', async () => {
      const store = await open({
        url: `redis://127.0.0.1:${await freePort()}`,
        startupTimeoutMs: 0,
      });
      const operations: (() => Promise<unknown>)[] = [
        () => store.get(NS, bytes(1)),
        () => store.take(NS, bytes(1)),
        () => store.set(NS, bytes(1), bytes(1), later()),
        () => store.delete(NS, bytes(1)),
      ];
      // At once: settled before a 0 ms timer started with them (no I/O, no timer: see settles.ts).
      for (const operation of operations) {
        const pending = operation();
        expect(await settlesBeforeTimers(pending)).toBe(true);
        const result = await outcome(pending);
        expect(result.error).toBeInstanceOf(RedisStoreError);
        expect(result.error!.reason).toBe('unavailable');
        expect(result.error!.code).toBe('ERR_STORE_UNAVAILABLE');
      }
      const heapBefore = process.memoryUsage().heapUsed;
      for (let round = 0; round < 10; round++) {
        const all = Promise.allSettled(
          Array.from({ length: 1000 }, (_, i) => store.get(NS, bytes(i & 0xff, i >> 8))),
        );
        expect(await settlesBeforeTimers(all)).toBe(true);
        const settled = await all;
        expect(settled.every((s) => s.status === 'rejected')).toBe(true);
        expect(store.pendingCommands).toBe(0);
      }
      globalThis.gc?.();
      // 10 000 failed lookups leave nothing behind (generous bound: GC timing is not ours).
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * 1024 * 1024);
    });

    it('fails at once once Redis stops, and works again after it is back', async () => {
      const own = await startRedis();
      const store = await open({ url: own.url });
      await store.set(NS, bytes(1), bytes(1), later());
      await own.stop();
      // Once the store has seen the socket close, every command fails at once, without I/O.
      await eventually(() => !store.connected, 'the store saw Redis go');
      for (let i = 0; i < 20; i++) {
        const pending = store.get(NS, bytes(1));
        expect(await settlesBeforeTimers(pending)).toBe(true);
        expect((await outcome(pending)).error).toBeInstanceOf(RedisStoreError);
      }
      const all = Promise.allSettled(Array.from({ length: 1000 }, () => store.get(NS, bytes(1))));
      expect(await settlesBeforeTimers(all)).toBe(true);
      expect((await all).every((s) => s.status === 'rejected')).toBe(true);
      // Back on the same port (a new, empty Redis): usable again, reconnecting on its own (attempts
      // at most maxReconnectDelayMs apart; how soon is noted, not asserted: it needs I/O).
      let restarted: RedisServer;
      try {
        restarted = await startRedis({ port: own.port });
      } catch {
        return; // the port was taken meanwhile: the recovery half cannot run
      }
      try {
        const start = performance.now();
        await eventually(
          async () => (await outcome(store.set(NS, bytes(2), bytes(2), later()))).value === true,
          'a set on the restarted Redis',
        );
        console.log(`RedisStore usable ${since(start)} ms after Redis was back`);
        expect(await store.get(NS, bytes(2))).toEqual(bytes(2));
      } finally {
        await restarted.stop();
      }
    });

    it('times out within commandTimeoutMs while Redis is paused, bounded, and recovers', async () => {
      const own = await startRedis();
      try {
        const store = await open({
          url: own.url,
          commandTimeoutMs: 100,
          maxPendingCommands: 500,
        });
        // Seeded with the default deadline: on a loaded machine a write can outlast 100 ms.
        await (await open({ url: own.url })).set(NS, bytes(1), bytes(1), later());
        own.pause();
        // Each get fails no later than a plain commandTimeoutMs timer started with it (settles.ts).
        const gets = Promise.all(
          Array.from({ length: 200 }, () => outcome(store.get(NS, bytes(1)))),
        );
        expect(await settlesWithin(gets, 100 + ARMING_SLACK_MS)).toBe(true);
        const results = await gets;
        for (const result of results) expect(result.error).toBeInstanceOf(RedisStoreError);
        expect(results.filter((r) => r.error!.reason === 'timeout').length).toBe(200);
        // The cap: beyond maxPendingCommands, commands fail at once instead of piling up
        // ('overloaded'; or 'unavailable' if, on a slow machine, the dead-socket detection below
        // has already fired).
        const flooding = Promise.all(
          Array.from({ length: 2000 }, () => outcome(store.get(NS, bytes(1)))),
        );
        expect(await settlesWithin(flooding, 100 + ARMING_SLACK_MS)).toBe(true);
        const flood = await flooding;
        const atOnce = flood.filter((r) =>
          /^(overloaded|unavailable)$/.test(r.error?.reason ?? ''),
        );
        expect(atOnce.length).toBeGreaterThanOrEqual(1500);
        expect(store.pendingCommands).toBeLessThanOrEqual(500);
        for (const result of flood) expect(result.error).toBeInstanceOf(RedisStoreError);
        // A socket silent for 4 × commandTimeoutMs (at least 1 s) is declared dead: from then on,
        // commands fail at once rather than after the timeout. (When: noted; it takes I/O.)
        const pausedAt = performance.now();
        await eventually(async () => {
          const probe = store.get(NS, bytes(1));
          const atOnce = await settlesBeforeTimers(probe);
          expect((await outcome(probe)).error).toBeInstanceOf(RedisStoreError);
          return atOnce;
        }, 'commands failing at once on the silent socket');
        console.log(`silent socket declared dead ${since(pausedAt)} ms after the flood`);
        own.resume();
        const start = performance.now();
        // (Asked until answered: one answer may itself outlast 100 ms on a loaded machine; a get,
        // as a timed-out take may still have taken the value.)
        await eventually(async () => {
          const { value } = await outcome(store.get(NS, bytes(1)));
          if (value !== undefined) expect(value).toEqual(bytes(1));
          return value !== undefined;
        }, 'the value read after Redis resumed');
        console.log(`RedisStore answering ${since(start)} ms after Redis resumed`);
      } finally {
        await own.stop();
      }
    });

    it('starts without Redis (startupTimeoutMs: 0) and connects when it appears', async () => {
      const port = await freePort();
      const store = await open({ port, startupTimeoutMs: 0 });
      expect(store.connected).toBe(false);
      await expect(store.get(NS, bytes(1))).rejects.toThrow(/not connected/);
      let late: RedisServer;
      try {
        late = await startRedis({ port });
      } catch {
        return; // port taken meanwhile
      }
      try {
        await eventually(() => store.connected, 'the store connected to the late Redis');
        expect(await store.set(NS, bytes(1), bytes(1), later())).toBe(true);
      } finally {
        await late.stop();
      }
    });
  });

  describe('close', () => {
    it('is idempotent, fails later operations, and releases sockets and timers', async () => {
      const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      const store = await RedisStore.create({ url: redis.url, ...CONNECTED });
      await store.set(NS, bytes(1), bytes(1), later());
      await Promise.all([store.close(), store.close()]);
      await store.close();
      for (const operation of [
        () => store.get(NS, bytes(1)),
        () => store.set(NS, bytes(1), bytes(1), later()),
        () => store.stats(),
      ]) {
        await expect(operation()).rejects.toMatchObject({ reason: 'closed' });
      }
      // Handles close a loop turn after close() resolves.
      const count = (resources: string[], kind: string): number =>
        resources.filter((r) => r === kind).length;
      await eventually(() => {
        const after = process.getActiveResourcesInfo();
        return ['TCPSocketWrap', 'Timeout'].every(
          (kind) => count(after, kind) <= count(before, kind),
        );
      }, 'no more sockets and timers than before the store');
    });

    it('closes at once while Redis is down, within commandTimeoutMs while it is paused', async () => {
      const down = await RedisStore.create({
        url: `redis://127.0.0.1:${await freePort()}`,
        startupTimeoutMs: 0,
      });
      expect(await settlesBeforeTimers(down.close())).toBe(true);
      const store = await RedisStore.create({
        url: redis.url,
        commandTimeoutMs: 100,
        ...CONNECTED,
      });
      redis.pause();
      try {
        // QUIT gets no answer: close gives up on it at its commandTimeoutMs timer (settles.ts).
        expect(await settlesWithin(store.close(), 100 + ARMING_SLACK_MS)).toBe(true);
      } finally {
        redis.resume();
      }
    });
  });
});

describe.skipIf(NO_REDIS)('RedisStore revocation reports (pub/sub)', () => {
  let redis: RedisServer;
  let raw: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
    await raw.connect();
  });
  afterAll(async () => {
    raw?.disconnect();
    await redis?.stop();
  });

  /** A store with a watcher, once its subscription is in force (its first `{}` dropped). */
  async function watching(
    options: Parameters<typeof RedisStore.create>[0] = {},
  ): Promise<{ store: RedisStore; seen: Revocation[] }> {
    const store = await open({ url: redis.url, keyPrefix: 'rev:', ...options });
    const seen: Revocation[] = [];
    store.watchRevocations((revocation) => seen.push(revocation));
    await eventually(
      () => store.revocationsSubscribed && seen.length > 0,
      'subscribed, its first {} told',
    );
    expect(seen).toEqual([{}]);
    seen.length = 0;
    return { store, seen };
  }

  it('revocationsInForce() resolves once the subscription is in force, at once without a watcher', async () => {
    const store = await open({ url: redis.url, keyPrefix: 'rev:' });
    await expect(store.revocationsInForce()).resolves.toBe(true);
    const seen: Revocation[] = [];
    store.watchRevocations((revocation) => seen.push(revocation));
    expect(store.revocationsSubscribed).toBe(false);
    await expect(store.revocationsInForce()).resolves.toBe(true);
    // In force means the first `{}` has been told already: a read started now cannot be overtaken by it.
    expect(store.revocationsSubscribed).toBe(true);
    expect(seen).toEqual([{}]);
  });

  it('revocationsInForce() gives up after startupTimeoutMs when the subscription cannot be made', async () => {
    const store = await open({ url: redis.url, keyPrefix: 'rev:', startupTimeoutMs: 300 });
    redis.pause();
    try {
      store.watchRevocations(() => undefined);
      await expect(store.revocationsInForce()).resolves.toBe(false);
      expect(store.revocationsSubscribed).toBe(false);
    } finally {
      redis.resume();
    }
    await eventually(() => store.revocationsSubscribed, 'the revocation subscription in force');
  });

  it('reaches the instances of its prefix and database only', async () => {
    const { seen } = await watching();
    const sameKeys = await open({ url: redis.url, keyPrefix: 'rev:' });
    const otherPrefix = await open({ url: redis.url, keyPrefix: 'other:' });
    const otherDb = await open({ url: `${redis.url}/1`, keyPrefix: 'rev:' });
    await otherPrefix.delete(NS, bytes(1));
    await otherDb.clear();
    await sameKeys.delete(NS, bytes(2));
    // One subscriber connection gets its messages in publish order: the others would be here.
    await eventually(() => seen.length > 0, 'a revocation report');
    expect(seen).toEqual([{ namespace: NS, id: bytes(2) }]);
  });

  it('500 concurrent deletes are a handful of messages, not 500', async () => {
    const { seen } = await watching();
    const other = await open({ url: redis.url, keyPrefix: 'rev:' });
    const ids = Array.from({ length: 500 }, (_, i) => bytes(i >> 8, i & 0xff, 0xee));
    for (const id of ids) await other.set(NS, id, id, later());
    const deleted = await Promise.all(ids.map((id) => other.delete(NS, id)));
    expect(deleted.every(Boolean)).toBe(true);
    await eventually(
      () => ids.every((id) => seen.some((r) => covers(r, NS, id))),
      'every delete covered by a report',
    );
    expect(seen.length).toBeLessThan(20);
  });

  it('a dropped subscription reports everything, twice: when dropped and when back', async () => {
    const { store, seen } = await watching();
    expect(Number(await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBeGreaterThan(0);
    await eventually(
      () => seen.length >= 2 && store.revocationsSubscribed,
      'two reports and the subscription back',
    );
    expect(seen).toEqual([{}, {}]);
    // Subscribed again: reports flow as before.
    seen.length = 0;
    const other = await open({ url: redis.url, keyPrefix: 'rev:' });
    await other.delete(NS, bytes(3));
    await eventually(() => seen.length > 0, 'a revocation report');
    expect(seen).toEqual([{ namespace: NS, id: bytes(3) }]);
  });

  it('a subscription whose Redis goes silent (paused) reports everything, and again once back', async () => {
    // commandTimeoutMs 100: an unanswered heartbeat PING ends the connection after socketTimeout
    // (its floor, 1 s).
    const { store, seen } = await watching({ commandTimeoutMs: 100, connectTimeoutMs: 500 });
    redis.pause();
    try {
      await eventually(() => seen.length >= 1, 'a revocation report');
      expect(seen).toEqual([{}]);
      expect(store.revocationsSubscribed).toBe(false);
    } finally {
      redis.resume();
    }
    await eventually(
      () => seen.length >= 2 && store.revocationsSubscribed,
      'two reports and the subscription back',
    );
    expect(seen).toEqual([{}, {}]);
  });

  it('a message that does not parse counts as everything', async () => {
    const { seen } = await watching();
    await raw.publish(Buffer.from('rev:\u0000revocations\u00000'), 'not a revocation');
    await eventually(() => seen.length > 0, 'a revocation report');
    expect(seen).toEqual([{}]);
  });

  it('a delete whose publication fails rejects, naming the command', async () => {
    const store = await open({ url: redis.url, keyPrefix: 'rev:' });
    await store.set(NS, bytes(4), bytes(4), later());
    await raw.call('ACL', 'SETUSER', 'default', 'resetchannels');
    try {
      await expect(store.delete(NS, bytes(4))).rejects.toThrow(/PUBLISH failed: NOPERM/);
    } finally {
      await raw.call('ACL', 'SETUSER', 'default', 'allchannels');
    }
    expect(await store.get(NS, bytes(4))).toBeUndefined();
  });
});
