// Fail open from the first second (issue 16): a RedisStore opened while Redis — one server or a
// 3-master cluster — refuses connections, is blackholed (a TCP server that accepts and never
// answers) or is paused (SIGSTOP) resolves within `startupTimeoutMs` (its default), `degraded`;
// every call then fails at once (so the cache does full handshakes), one `storeState` event says
// so, and once Redis answers the store is `ready` again on its own, within the bound its options
// document, with one more event. `requireStore` rejects instead; a server that answers and refuses
// the settings (a database it does not have) fails `create` in either mode. Real redis-server.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { onEvent, type StoreStateEvent } from '../../src/cache/events.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { REDIS_STORE_DEFAULTS } from '../../src/stores/redis-options.js';
import { RedisStore, RedisStoreError } from '../../src/stores/redis-store.js';
import { storeState } from '../../src/stores/store-state.js';
import {
  CONNECTED,
  blackhole,
  freePort,
  skipWithoutRedis,
  startRedis,
  startRedisCluster,
  type Blackhole,
  type RedisCluster,
  type RedisServer,
} from '../helpers/redis-server.js';
import { eventually } from '../helpers/eventually.js';
import {
  ARMING_SLACK_MS,
  measuringLoopLag,
  RECONNECT_TURNS,
  settlesBeforeTimers,
  settlesWithin,
} from '../helpers/settles.js';

const NO_REDIS = skipWithoutRedis('the RedisStore startup tests');
const NS = 'tenant/startup';
const id = (n: number): Uint8Array => Uint8Array.of(n, 1, 2, 3, 4, 5, 6, 7);
const later = (): number => Date.now() + 60_000;

const {
  startupTimeoutMs: STARTUP_MS,
  maxReconnectDelayMs,
  connectTimeoutMs,
  commandTimeoutMs,
} = REDIS_STORE_DEFAULTS;
/**
 * How soon after Redis answers the store is `ready` again, as documented on `startupTimeoutMs` and
 * in docs/redis.md: the next reconnection attempt (at most `maxReconnectDelayMs` away), then one
 * connection (at most `connectTimeoutMs`), plus, for a paused server, the ready check that was
 * already waiting (at most `commandTimeoutMs`).
 */
const BACK_BOUND_MS = maxReconnectDelayMs + connectTimeoutMs + commandTimeoutMs;

// One store made and closed before any create is timed: the first create loads ioredis (under
// vitest, a module resolution that may wait for the main process), which is no part of the bounds
// checked here (see ARMING_SLACK_MS).
beforeAll(async () => {
  const warm = await RedisStore.create({ port: await freePort(), startupTimeoutMs: 0 });
  await warm.close();
});

/** Every storeState event while a test runs. */
let events: StoreStateEvent[] = [];
let unsubscribe: () => void = () => undefined;
const stores = new Set<RedisStore>();
afterEach(async () => {
  unsubscribe();
  await Promise.all([...stores].map((store) => store.close()));
  stores.clear();
});

/** One way Redis is unreachable at start, and how it comes back. */
interface Outage {
  /** The URL to open. */
  readonly url: string;
  /** Brings Redis back; resolves once it answers, with when it did (`performance.now()`). */
  back(): Promise<number>;
  /** Releases what is left. */
  cleanup(): Promise<void>;
}

type Kind = 'refused' | 'blackholed' | 'paused';

async function singleOutage(kind: Kind): Promise<Outage> {
  if (kind === 'paused') {
    const redis = await startRedis();
    redis.pause();
    return {
      url: redis.url,
      back: async () => {
        redis.resume();
        return performance.now();
      },
      cleanup: () => redis.stop(),
    };
  }
  const port = await freePort();
  let hole: Blackhole | undefined = kind === 'blackholed' ? await blackhole(port) : undefined;
  let redis: RedisServer | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    back: async () => {
      await hole?.close();
      hole = undefined;
      redis = await startRedis({ port });
      return performance.now();
    },
    cleanup: async () => {
      await hole?.close();
      await redis?.stop();
    },
  };
}

async function clusterOutage(cluster: RedisCluster, kind: Kind): Promise<Outage> {
  if (kind === 'paused') {
    for (const node of cluster.nodes) node.pause();
    return {
      url: cluster.url,
      back: async () => {
        for (const node of cluster.nodes) node.resume();
        return performance.now();
      },
      cleanup: async () => {
        for (const node of cluster.nodes) node.resume();
      },
    };
  }
  await cluster.kill();
  let holes: Blackhole[] =
    kind === 'blackholed'
      ? await Promise.all(cluster.nodes.map((node) => blackhole(node.port)))
      : [];
  return {
    url: cluster.url,
    back: async () => {
      await Promise.all(holes.map((hole) => hole.close()));
      holes = [];
      // From when the cluster serves every slot again (its nodes answer PING a few seconds
      // earlier, with CLUSTERDOWN to every command until their gossip agrees).
      return cluster.restart();
    },
    cleanup: async () => {
      await Promise.all(holes.map((hole) => hole.close()));
    },
  };
}

/**
 * Opens a store on `outage`, checks the degraded start, brings Redis back, and checks and returns
 * the timings: open (ms from create to resolve) and back (ms from Redis answering to `ready`, and
 * to the first `set` that lands).
 */
async function failOpenAndRecover(outage: Outage): Promise<{ openMs: number; backMs: number }> {
  events = [];
  /** When (`performance.now()`) the store said it was ready. */
  let readyAt: number | undefined;
  unsubscribe = onEvent('storeState', (event) => {
    events.push(event);
    if (event.state === 'ready') readyAt ??= performance.now();
  });
  const started = performance.now();
  // Within startupTimeoutMs: no later than a timer of it started with create (see settles.ts).
  const creating = RedisStore.create({ url: outage.url });
  void creating.then((store) => stores.add(store)); // closed after the test, even a failed one
  expect(await settlesWithin(creating, STARTUP_MS + ARMING_SLACK_MS)).toBe(true);
  const store = await creating;
  const openMs = performance.now() - started;
  expect(store.state()).toBe('degraded');
  expect(events.map((event) => event.state)).toEqual(['degraded']);
  expect(events[0]!.previous).toBe('connecting');
  // Every call fails at once (no round trip, nothing queued): the cache's misses and dropped writes.
  for (const call of [
    () => store.get(NS, id(1)),
    () => store.take(NS, id(1)),
    () => store.set(NS, id(1), id(1), later()),
    () => store.delete(NS, id(1)),
  ]) {
    const pending = call();
    expect(await settlesBeforeTimers(pending)).toBe(true);
    const error = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RedisStoreError);
    expect((error as RedisStoreError).reason).toBe('unavailable');
  }

  // Ready within BACK_BOUND_MS of Redis answering (computed from the documented options), plus
  // however late the event loop ran meanwhile: a reconnection is a few turns of I/O, and a
  // loaded machine delays each turn — that delay is measured, not guessed.
  const { value: answered, lagMs } = await measuringLoopLag(async () => {
    const answered = await outage.back();
    await eventually(
      async () =>
        (await store.set(NS, id(2), id(2), later()).catch(() => false)) && readyAt !== undefined,
      'a set landing after Redis answered',
    );
    return answered;
  });
  const backMs = readyAt! - answered;
  expect(backMs).toBeLessThanOrEqual(BACK_BOUND_MS + RECONNECT_TURNS * lagMs);
  expect(await store.get(NS, id(2))).toEqual(id(2));
  expect(events.map((event) => event.state)).toEqual(['degraded', 'ready']);
  expect(events[1]!.previous).toBe('degraded');
  return { openMs: Math.round(openMs), backMs: Math.round(backMs) };
}

describe('store state of the in-process stores', () => {
  it('a memory store is ready until closed; a store without state() counts as ready', () => {
    const store = new MemoryStore();
    expect(storeState(store)).toBe('ready');
    store.close();
    expect(storeState(store)).toBe('closed');
    const plain = { ...new MemoryStore(), state: undefined } as unknown as MemoryStore;
    expect(storeState(plain)).toBe('ready');
  });
});

describe.skipIf(NO_REDIS)('RedisStore opened while one Redis is unreachable', () => {
  it.each(['refused', 'blackholed', 'paused'] as const)(
    '%s: resolves degraded within startupTimeoutMs, fails every call at once, is ready soon after Redis answers',
    async (kind) => {
      const outage = await singleOutage(kind);
      try {
        const times = await failOpenAndRecover(outage);
        console.log(
          `single ${kind}: open ${times.openMs} ms, ready ${times.backMs} ms after Redis answered`,
        );
      } finally {
        await outage.cleanup();
      }
    },
  );

  it.each(['refused', 'blackholed', 'paused'] as const)(
    '%s with requireStore: rejects within startupTimeoutMs, naming where',
    async (kind) => {
      const outage = await singleOutage(kind);
      try {
        const creating = RedisStore.create({ url: outage.url, requireStore: true });
        // No later than a startupTimeoutMs timer started with it (see settles.ts).
        expect(await settlesWithin(creating, STARTUP_MS + ARMING_SLACK_MS)).toBe(true);
        const error = await creating.then(
          () => undefined,
          (e: unknown) => e as RedisStoreError,
        );
        expect(error).toBeInstanceOf(RedisStoreError);
        expect(error!.reason).toBe('unavailable');
        expect(error!.message).toMatch(/could not connect to 127\.0\.0\.1:\d+/);
      } finally {
        await outage.cleanup();
      }
    },
  );
});

describe.skipIf(NO_REDIS)('RedisStore and a database the server does not have', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis({ args: ['--databases', '16'] });
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('redis://…/20 against 16 databases fails at open naming the database, failing open or not', async () => {
    // As soon as the server answered, not at the end of the startup time: a `config` error is
    // never the outcome of startupTimeoutMs (failing open, that resolves; requireStore: `unavailable`).
    for (const requireStore of [false, true]) {
      const error = await RedisStore.create({ url: `${redis.url}/20`, requireStore }).then(
        () => undefined,
        (e: unknown) => e as RedisStoreError,
      );
      expect(error).toBeInstanceOf(RedisStoreError);
      expect(error!.reason).toBe('config');
      expect(error!.message).toMatch(/no database 20\b/);
    }
    // The last database works, and nothing was written to database 0 meanwhile.
    const store = await RedisStore.create({ url: `${redis.url}/15`, ...CONNECTED });
    stores.add(store);
    expect(await store.set(NS, id(3), id(3), later())).toBe(true);
    expect(await redis.cli('-n', '15', 'DBSIZE')).toBe('1');
    expect(await redis.cli('-n', '0', 'DBSIZE')).toBe('0');
  });
});

describe.skipIf(NO_REDIS)('RedisStore opened while a 3-master cluster is unreachable', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it.each(['refused', 'blackholed', 'paused'] as const)(
    '%s: resolves degraded within startupTimeoutMs, fails every call at once, is ready soon after the cluster answers',
    async (kind) => {
      const outage = await clusterOutage(cluster, kind);
      try {
        const times = await failOpenAndRecover(outage);
        console.log(
          `cluster ${kind}: open ${times.openMs} ms, ready ${times.backMs} ms after the cluster answered`,
        );
      } finally {
        await outage.cleanup();
      }
    },
  );
});
