// RedisStore against a real 3-master Redis Cluster started for this file: the conformance suite,
// keys spread over every master, atomic take across connections, listing that covers every master,
// and a paused master costing at most commandTimeoutMs.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionStore } from '../../src/stores/store.js';
import { RedisStore, RedisStoreError } from '../../src/stores/redis-store.js';
import { runStoreConformance } from '../../src/testing/index.js';
import {
  CONNECTED,
  skipWithoutRedis,
  sleep,
  startRedisCluster,
  type RedisCluster,
} from '../helpers/redis-server.js';
import { eventually } from '../helpers/eventually.js';
import { ARMING_SLACK_MS, settlesWithin } from '../helpers/settles.js';

const NO_REDIS = skipWithoutRedis('the Redis Cluster tests');
const NS = 'tenant/abcdefghijklmnop';
const later = (ms = 60_000): number => Date.now() + ms;

describe.skipIf(NO_REDIS)('RedisStore on a 3-master Redis Cluster', () => {
  let cluster: RedisCluster;
  /** A plain connection to each master, to look at what is stored where. */
  let masters: Redis[] = [];
  const stores = new Set<RedisStore>();
  const open = async (
    options: Parameters<typeof RedisStore.create>[0] = {},
  ): Promise<RedisStore> => {
    const where =
      options.url !== undefined || options.nodes !== undefined ? {} : { url: cluster.url };
    // Connected before the first command (a store failing open may still be connecting).
    const store = await RedisStore.create({ ...where, ...CONNECTED, ...options });
    stores.add(store);
    return store;
  };

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    masters = cluster.nodes.map((node) => new Redis({ host: node.host, port: node.port }));
  });
  afterAll(async () => {
    for (const master of masters) master.disconnect();
    await cluster?.stop();
  });
  afterEach(async () => {
    await Promise.all([...stores].map((store) => store.close()));
    stores.clear();
    await Promise.all(masters.map((master) => master.flushall()));
  });

  describe('conformance', () => {
    const prefixes = new WeakMap<SessionStore, string>();
    let made = 0;
    const make = async (clock: () => number, keyPrefix: string): Promise<SessionStore> => {
      // Generous deadlines: the suite checks what the store does, not how fast.
      const store = await RedisStore.create({
        url: cluster.url,
        clock,
        keyPrefix,
        commandTimeoutMs: 2000,
        connectTimeoutMs: 5000,
        ...CONNECTED,
      });
      prefixes.set(store, keyPrefix);
      return store;
    };
    runStoreConformance('RedisStore (cluster)', ({ clock }) => make(clock, `conf-${made++}:`), {
      describe,
      it,
      makeSibling: (store, { clock }) => make(clock, prefixes.get(store)!),
    });
  });

  it('spreads sessions over the three masters, and lists, counts and clears all of them', async () => {
    const store = await open();
    expect(store.cluster).toBe(true);
    const ids: Uint8Array[] = [];
    for (let i = 0; i < 600; i++) {
      // Ids with hash-tag braces too: a "{…}" inside an id only picks its slot, nothing else.
      const id = Uint8Array.of(i >> 8, i & 0xff, 0x7b, (i * 7) & 0xff, 0x7d, 0);
      ids.push(id);
      expect(await store.set(i % 3 === 0 ? 'a' : 'b', id, Uint8Array.of(i & 0xff), later())).toBe(
        true,
      );
    }
    const sizes = await Promise.all(masters.map((master) => master.dbsize()));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(600);
    for (const size of sizes) expect(size).toBeGreaterThan(100);

    expect(await store.stats()).toEqual({ entries: 600, bytes: 600 });
    const listed = new Set<string>();
    for await (const entry of store.list({ namespace: 'a', withValues: true })) {
      const i = (entry.id[0]! << 8) | entry.id[1]!;
      expect(entry.value).toEqual(Uint8Array.of(i & 0xff));
      listed.add(Buffer.from(entry.id).toString('hex'));
    }
    expect(listed.size).toBe(200);
    for (const [i, id] of ids.entries()) {
      if (i % 3 === 0) expect(listed.has(Buffer.from(id).toString('hex'))).toBe(true);
    }
    expect(await store.clear('a')).toBe(200);
    expect(await store.clear()).toBe(400);
    expect(await Promise.all(masters.map((master) => master.dbsize()))).toEqual([0, 0, 0]);
  });

  it('gives each value to exactly one taker across connections, on every master', async () => {
    const takers = await Promise.all(Array.from({ length: 4 }, () => open()));
    for (let round = 0; round < 30; round++) {
      const id = Uint8Array.of(round, 0x5a, round);
      await takers[round % 4]!.set(NS, id, Uint8Array.of(round), later());
      const results = await Promise.all(
        takers.flatMap((store) => Array.from({ length: 10 }, () => store.take(NS, id))),
      );
      expect(results.filter((r) => r !== undefined)).toEqual([Uint8Array.of(round)]);
    }
  });

  it('connects from any one seed node', async () => {
    const first = cluster.nodes[2]!;
    const store = await open({ url: `redis+cluster://127.0.0.1:${first.port}` });
    await store.set(NS, Uint8Array.of(1), Uint8Array.of(1), later());
    const other = await open({ nodes: [{ host: '127.0.0.1', port: cluster.nodes[0]!.port }] });
    expect(await other.take(NS, Uint8Array.of(1))).toEqual(Uint8Array.of(1));
  });

  it('works as an ACL user limited to its prefix and the commands docs/redis.md lists', async () => {
    await Promise.all(
      cluster.nodes.map((node) =>
        node.cli(
          'ACL',
          'SETUSER',
          'tls',
          'on',
          '>tls-user-secret',
          'resetkeys',
          '~tls-session-cache:*',
          '-@all',
          ...['set', 'get', 'getdel', 'del', 'unlink', 'getrange', 'strlen', 'scan', 'ping'].map(
            (command) => `+${command}`,
          ),
          ...['info', 'client|setname', 'quit', 'select', 'cluster|slots', 'cluster|info'].map(
            (command) => `+${command}`,
          ),
          ...['resetchannels', '&tls-session-cache:*', '+publish', '+subscribe'],
        ),
      ),
    );
    try {
      const url = cluster.url.replace('redis+cluster://', 'redis+cluster://tls:tls-user-secret@');
      const store = await open({ url });
      for (let i = 0; i < 30; i++) {
        expect(await store.set(NS, Uint8Array.of(i), Uint8Array.of(i), later())).toBe(true);
      }
      expect(await store.stats()).toEqual({ entries: 30, bytes: 30 });
      expect(await store.take(NS, Uint8Array.of(7))).toEqual(Uint8Array.of(7));
      // Revocations reach another instance through the cluster's pub/sub.
      const watcher = await open({ url });
      const seen: unknown[] = [];
      watcher.watchRevocations((revocation) => seen.push(revocation));
      await eventually(() => watcher.revocationsSubscribed, 'the watcher subscribed');
      seen.length = 0;
      expect(await store.clear()).toBe(29);
      await eventually(() => seen.length > 0, 'the clear reported');
      expect(seen).toEqual([{}]);
    } finally {
      await Promise.all(cluster.nodes.map((node) => node.cli('ACL', 'DELUSER', 'tls')));
    }
  });

  it('a paused master costs its keys at most commandTimeoutMs; the others answer; it recovers', async () => {
    const store = await open({ commandTimeoutMs: 100 });
    const ids = Array.from({ length: 60 }, (_, i) => Uint8Array.of(i, 0x33));
    // Seeded through a store with the default deadline: on a loaded machine a write can take
    // longer than 100 ms, and the seeding is not what this test is about.
    const seeder = await open();
    for (const id of ids) await seeder.set(NS, id, id, later());
    // Which master holds which id: ask them.
    const paused = cluster.nodes[1]!;
    const onPaused = new Set<number>();
    for (const [i, id] of ids.entries()) {
      const key = Buffer.concat([Buffer.from(`tls-session-cache:\0${NS}\0`), id]);
      // A key of another master answers MOVED.
      if ((await masters[1]!.exists(key).catch(() => 0)) === 1) onPaused.add(i);
    }
    expect(onPaused.size).toBeGreaterThan(5);
    expect(onPaused.size).toBeLessThan(55);

    paused.pause();
    try {
      for (let round = 0; round < 3; round++) {
        // Each get answers (or fails) no later than a plain commandTimeoutMs timer started with
        // it (see settles.ts).
        const getting = Promise.all(
          ids.map(async (id, i) => {
            try {
              return { i, value: await store.get(NS, id) };
            } catch (error) {
              return { i, error: error as RedisStoreError };
            }
          }),
        );
        expect(await settlesWithin(getting, 100 + ARMING_SLACK_MS)).toBe(true);
        for (const result of await getting) {
          if (onPaused.has(result.i)) expect(result.error).toBeInstanceOf(RedisStoreError);
        }
        expect(store.pendingCommands).toBeLessThanOrEqual(ids.length);
        // The other masters answer meanwhile. (On a loaded machine one of their answers may itself
        // take longer than this store's 100 ms: asked again, they answer, the master still paused.)
        const healthy = ids.filter((_, i) => !onPaused.has(i));
        await eventually(async () => {
          const values = await Promise.allSettled(healthy.map((id) => store.get(NS, id)));
          return values.every(
            (v, k) =>
              v.status === 'fulfilled' &&
              v.value !== undefined &&
              Buffer.from(v.value).equals(Buffer.from(healthy[k]!)),
          );
        }, 'every key of the other masters answered while one is paused');
        await sleep(round === 0 ? 1200 : 300); // past the dead-socket detection, then again
      }
    } finally {
      paused.resume();
    }
    const start = performance.now();
    await eventually(async () => {
      const values = await Promise.allSettled(ids.map((id) => store.get(NS, id)));
      return values.every((v) => v.status === 'fulfilled' && v.value !== undefined);
    }, 'every key answered after the master resumed');
    console.log(`every key answered ${Math.round(performance.now() - start)} ms after resume`);
  });
});
