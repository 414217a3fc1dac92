// RedisStore through Redis Sentinel, for real: a primary, a replica and three sentinels on
// loopback (test/helpers/redis-sentinel.ts). The store finds the primary through the sentinels
// (`redis+sentinel://…/NAME`), passes the store conformance suite there, and follows a failover:
// when the primary dies it is `degraded` (every call fails at once) until the sentinels promote
// the replica, and `ready` on the new primary within the bound its options document after that.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onEvent, type StoreStateEvent } from '../../src/cache/events.js';
import { REDIS_STORE_DEFAULTS } from '../../src/stores/redis-options.js';
import type { RedisStoreError } from '../../src/stores/redis-store.js';
import { RedisStore } from '../../src/stores/redis-store.js';
import { parseStoreUrl } from '../../src/stores/store-url.js';
import { runStoreConformance } from '../../src/testing/index.js';
import { eventually } from '../helpers/eventually.js';
import { CONNECTED, skipWithoutRedis, type RedisServer } from '../helpers/redis-server.js';
import { startSentinelGroup, type SentinelGroup } from '../helpers/redis-sentinel.js';
import { measuringLoopLag, RECONNECT_TURNS } from '../helpers/settles.js';

const NO_REDIS = skipWithoutRedis('the Redis Sentinel tests');
const NS = 'tenant/sentinel';
const id = (n: number): Uint8Array => Uint8Array.of(n, 9, 8, 7, 6, 5, 4, 3);
const later = (): number => Date.now() + 60_000;
/**
 * As in redis-startup.test.ts: ready within this of the (new) primary answering — plus the
 * event loop's measured lag per reconnection turn (test/helpers/settles.ts).
 */
const BACK_BOUND_MS =
  REDIS_STORE_DEFAULTS.maxReconnectDelayMs +
  REDIS_STORE_DEFAULTS.connectTimeoutMs +
  REDIS_STORE_DEFAULTS.commandTimeoutMs;

describe('redis+sentinel:// URLs', () => {
  it('parse into sentinels and a master name; a malformed one names the wrong part', () => {
    expect(parseStoreUrl('redis+sentinel://a:26379,b/mymaster')).toEqual({
      kind: 'redis-sentinel',
      url: 'redis+sentinel://a:26379,b/mymaster',
    });
    expect(parseStoreUrl('rediss+sentinel://:pw@a:1/m/3').kind).toBe('redis-sentinel');
    const wrong: [string, RegExp][] = [
      ['redis+sentinel://a:1', /master name/],
      ['redis+sentinel://a:1/', /master name/],
      ['redis+sentinel://a:1/my master', /master name/],
      ['redis+sentinel://a:1,,b:2/m', /sentinel: "" is not host:port/],
      ['redis+sentinel://a:99999/m', /port must be an integer from 1 to 65535, got 99999/],
      ['redis+sentinel://a:1/m/x', /database must be a number/],
      ['redis+sentinel://:s3cr3t@a:1/m?tls=1', /query/],
      ['redis+sentinel:///m', /needs redis\+sentinel:\/\/HOST:PORT\/MASTER_NAME/],
    ];
    for (const [url, message] of wrong) {
      let error: unknown;
      try {
        parseStoreUrl(url);
      } catch (e) {
        error = e;
      }
      expect(error, url).toBeInstanceOf(TypeError);
      expect((error as Error).message, url).toMatch(message);
      expect((error as Error).message).not.toContain('s3cr3t');
    }
  });
});

describe.skipIf(NO_REDIS)('RedisStore through Redis Sentinel', () => {
  let group: SentinelGroup;
  beforeAll(async () => {
    group = await startSentinelGroup({ downAfterMs: 1000, failoverTimeoutMs: 3000 });
  });
  afterAll(async () => {
    await group?.stop();
  });

  describe('conformance', () => {
    let made = 0;
    runStoreConformance(
      'RedisStore (Sentinel)',
      () =>
        RedisStore.create({
          url: group.url,
          keyPrefix: `conformance-${made++}:`,
          ...CONNECTED,
        }),
      { describe, it, clock: 'real' },
    );
  });

  it('finds the primary through the sentinels and writes there (the replica follows)', async () => {
    const store = await RedisStore.create({ url: group.url, ...CONNECTED });
    try {
      expect(store.state()).toBe('ready');
      expect(store.sentinel).toBe(true);
      expect(await store.set(NS, id(1), id(1), later())).toBe(true);
      const primary = await group.primary();
      expect(await primary.cli('DBSIZE')).not.toBe('0');
      expect(await store.take(NS, id(1))).toEqual(id(1));
    } finally {
      await store.close();
    }
  });

  it('follows a failover: degraded when the primary dies, ready on the promoted replica', async () => {
    const events: StoreStateEvent[] = [];
    /** When (`performance.now()`) the store last said it was ready. */
    let readyAt = Number.NaN;
    const unsubscribe = onEvent('storeState', (event) => {
      events.push(event);
      if (event.state === 'ready') readyAt = performance.now();
    });
    const store = await RedisStore.create({ url: group.url, ...CONNECTED });
    try {
      expect(await store.set(NS, id(2), id(2), later())).toBe(true);
      const old = await group.primary();
      // Written on the primary, and acknowledged by the replica before the kill.
      await group.waitForReplication();
      const killedAt = performance.now();
      await old.kill();
      const {
        value: { newPort, promotedAt },
        lagMs,
      } = await measuringLoopLag(async () => {
        const newPort = await group.waitForPromotion(old.port);
        const promotedAt = performance.now();
        await eventually(
          async () =>
            store.state() === 'ready' &&
            (await store.get(NS, id(2)).catch(() => undefined)) !== undefined,
          'ready on the promoted replica',
        );
        return { newPort, promotedAt };
      });
      const timings = {
        promotionMs: Math.round(promotedAt - killedAt),
        readyAfterPromotionMs: Math.round(readyAt - promotedAt),
        lagMs: Math.round(lagMs),
      };
      console.log(`sentinel failover: ${JSON.stringify(timings)}`);
      expect(readyAt - promotedAt).toBeLessThanOrEqual(BACK_BOUND_MS + RECONNECT_TURNS * lagMs);
      // Writes go to the new primary; the session written before the failover survived it.
      expect(await store.take(NS, id(2))).toEqual(id(2));
      expect(group.nodes.find((node) => node.port === newPort)).toBeDefined();
      const states = events.filter((event) => event.store === 'redis').map((event) => event.state);
      expect(states).toEqual(['ready', 'degraded', 'ready']);
      // Meanwhile every call failed fast: nothing waited for the dead primary.
      expect(store.pendingCommands).toBe(0);
    } finally {
      unsubscribe();
      await store.close();
    }
    const error = await store.get(NS, id(2)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as RedisStoreError).reason).toBe('closed');
  });

  it('follows a manual failover (SENTINEL FAILOVER): writes land on the new master at once', async () => {
    // The primary killed above comes back as a replica of the new one (as an operator would
    // bring it back; the sentinels alone would convert it only after 8 s of it claiming to be a
    // master).
    const killed = group.nodes.find((node) => node.process.signalCode === 'SIGKILL');
    if (killed !== undefined) {
      const back = await killed.restart();
      await back.cli('REPLICAOF', '127.0.0.1', String(await group.agreedMasterPort()));
      (group.nodes as RedisServer[]).splice(group.nodes.indexOf(killed), 1, back);
    }
    const store = await RedisStore.create({ url: group.url, ...CONNECTED });
    try {
      const before = await group.agreedMasterPort();
      // A replica in sync, known to the sentinels, is needed before a failover can be asked for.
      const replica = group.nodes.find((node) => node.port !== before)!;
      await eventually(
        async () => /master_link_status:up/.test(await replica.cli('INFO', 'replication')),
        'the replica in sync',
      );
      await eventually(
        async () =>
          /\nnum-slaves\n1(\n|$)/.test(
            await group.sentinelCli('SENTINEL', 'MASTER', group.masterName),
          ),
        'the sentinels knowing the replica',
      );
      expect(await store.set(NS, id(5), id(5), later())).toBe(true);
      await group.sentinelCli('SENTINEL', 'FAILOVER', group.masterName);
      // The old master is a replica now: a write that reaches it fails with READONLY (or its
      // connection is dropped), the store reconnects through the sentinels, writes land anew.
      let landedAt = Number.NaN;
      const { value: promotedAt, lagMs } = await measuringLoopLag(async () => {
        await group.waitForPromotion(before);
        const promotedAt = performance.now();
        await eventually(async () => {
          const landed = await store.set(NS, id(6), id(6), later()).catch(() => false);
          if (landed) landedAt = performance.now();
          return landed;
        }, 'a write landing on the new master');
        return promotedAt;
      });
      console.log(
        `manual failover: writes land ${Math.round(landedAt - promotedAt)} ms after the promotion (event-loop lag ${Math.round(lagMs)} ms)`,
      );
      expect(landedAt - promotedAt).toBeLessThanOrEqual(BACK_BOUND_MS + RECONNECT_TURNS * lagMs);
      expect(await store.take(NS, id(6))).toEqual(id(6));
    } finally {
      await store.close();
    }
  });
});
