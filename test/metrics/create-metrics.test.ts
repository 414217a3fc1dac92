// The Prometheus collector on a real SessionCache, MemoryStore and store adapter, read through a
// real prom-client registry; the latency recorder with an injected clock; the event log lines.
import diagnosticsChannel from 'node:diagnostics_channel';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/index.js';
import { formatEvent, logEvents } from '../../src/metrics/event-log.js';
import { CHANNEL_NAMES } from '../../src/cache/events.js';
import { createMetrics, StoreLatencyRecorder } from '../../src/metrics/index.js';
import { storeCallbacks } from '../../src/stores/cache-adapter.js';
import { MemoryStore } from '../../src/stores/memory-store.js';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function samples(registry: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

const session = (byte: number) => ({
  id: new Uint8Array(32).fill(byte),
  data: new Uint8Array([1, 2, 3]),
  time: Math.floor(Date.now() / 1000),
  timeout: 300,
});

describe('createMetrics', () => {
  it('reads the cache and adapter counters at scrape time', async () => {
    const cache = new SessionCache();
    closers.push(() => cache.close());
    const registry = new Registry();
    const metrics = createMetrics({ cache, registry, prefix: 'x_' });
    expect(metrics.names).toContain('x_hits_total');
    cache.add(session(1));
    cache.lookup(session(1).id);
    cache.lookup(session(2).id);
    const s = await samples(registry);
    expect(s.get('x_sessions')).toBe(1);
    expect(s.get('x_hits_total')).toBe(1);
    expect(s.get('x_misses_total')).toBe(1);
    expect(s.get('x_lookups_total')).toBe(2);
    // Scraped again: the same values, not doubled.
    expect((await samples(registry)).get('x_hits_total')).toBe(1);
    metrics.remove();
    metrics.remove();
    expect(await registry.metrics()).toBe('\n');
  });

  it('exports the circuit breaker state as it opens on a failing store, and refuses a name taken', async () => {
    const cache = new SessionCache();
    closers.push(() => cache.close());
    const registry = new Registry();
    const store = new MemoryStore({ sweepIntervalMs: 0 });
    const adapter = storeCallbacks(store, { breaker: { failureThreshold: 2, clock: () => 0 } });
    closers.push(() => adapter.close());
    createMetrics({ cache, adapter, registry });
    let s = await samples(registry);
    expect(s.get('tls_session_cache_store_breaker_state{state="closed"}')).toBe(1);
    expect(s.get('tls_session_cache_store_breaker_state{state="open"}')).toBe(0);
    expect(s.get('tls_session_cache_store_breaker_opens_total')).toBe(0);
    expect(s.get('tls_session_cache_store_state{state="ready"}')).toBe(1);
    expect(s.get('tls_session_cache_store_state{state="degraded"}')).toBe(0);

    // A closed store throws on every read: two failures open the breaker.
    store.close();
    const id = new Uint8Array(32).fill(9);
    for (let i = 0; i < 3; i++) {
      try {
        await adapter.onGet(id, { namespace: '', singleUse: false });
      } catch {
        // the read error reaches the cache as a get error
      }
    }
    s = await samples(registry);
    expect(s.get('tls_session_cache_store_breaker_state{state="open"}')).toBe(1);
    expect(s.get('tls_session_cache_store_breaker_state{state="closed"}')).toBe(0);
    expect(s.get('tls_session_cache_store_breaker_opens_total')).toBe(1);
    expect(s.get('tls_session_cache_store_read_errors_total')).toBe(2);
    expect(s.get('tls_session_cache_store_breaker_rejected_reads_total')).toBe(1);
    // The store's own state, as the adapter reads it (a networked one says `degraded` instead).
    expect(s.get('tls_session_cache_store_state{state="closed"}')).toBe(1);
    expect(s.get('tls_session_cache_store_state{state="ready"}')).toBe(0);

    const before = await registry.metrics();
    expect(() => createMetrics({ cache, adapter, registry })).toThrow(/already been registered/);
    expect(await registry.metrics()).toBe(before);
  });

  it('checks its options', () => {
    const cache = new SessionCache();
    closers.push(() => cache.close());
    expect(() => createMetrics({} as never)).toThrow(TypeError);
    expect(() => createMetrics({ cache, prefix: '1bad' })).toThrow(/prefix/);
    expect(() => createMetrics({ cache, registry: {} as never })).toThrow(/registry/);
  });
});

describe('StoreLatencyRecorder', () => {
  it('times the store calls into buckets, with an injected clock, and leaves the rest alone', async () => {
    let now = 0;
    const latency = new StoreLatencyRecorder({ buckets: [0.001, 0.01], now: () => now });
    const raw = new MemoryStore({ sweepIntervalMs: 0 });
    const real = raw.set.bind(raw);
    raw.set = (...args) => {
      now += 5; // 5 ms inside the store
      return real(...args);
    };
    const store = latency.wrap(raw);
    expect(store.kind).toBe('memory');
    expect(store).toBeInstanceOf(MemoryStore);
    const id = new Uint8Array([7]);
    expect(store.set('', id, new Uint8Array([1]), Date.now() + 60_000)).toBe(true);
    expect(store.get('', id)).toEqual(new Uint8Array([1]));
    expect(store.sweep()).toBe(0);
    expect(store.stats()).toMatchObject({ entries: 1 });
    await store.close();
    expect(() => store.get('', id)).toThrow();

    const snapshot = latency.snapshot();
    expect(snapshot.set).toMatchObject({ counts: [0, 1, 0], count: 1, sum: 0.005 });
    // The get that succeeded and the one that threw after close.
    expect(snapshot.get).toMatchObject({ counts: [2, 0, 0], count: 2, sum: 0 });
    expect(snapshot.take.count).toBe(0);

    const registry = new Registry();
    const cache = new SessionCache();
    closers.push(() => cache.close());
    createMetrics({ cache, storeLatency: latency, registry });
    const s = await samples(registry);
    const name = 'tls_session_cache_store_operation_duration_seconds';
    expect(s.get(`${name}_bucket{operation="set",le="0.001"}`)).toBe(0);
    expect(s.get(`${name}_bucket{operation="set",le="0.01"}`)).toBe(1);
    expect(s.get(`${name}_bucket{operation="set",le="+Inf"}`)).toBe(1);
    expect(s.get(`${name}_count{operation="get"}`)).toBe(2);
    expect(s.get(`${name}_sum{operation="set"}`)).toBe(0.005);
  });

  it('times asynchronous calls until they settle', async () => {
    let now = 0;
    const latency = new StoreLatencyRecorder({ now: () => now });
    const raw = new MemoryStore({ sweepIntervalMs: 0 });
    closers.push(() => raw.close());
    const slow = Object.assign(Object.create(raw) as MemoryStore, {
      get: async () => {
        await Promise.resolve();
        now += 2;
        throw new Error('down');
      },
    });
    await expect(latency.wrap(slow).get('', new Uint8Array([1]))).rejects.toThrow('down');
    expect(latency.snapshot().get).toMatchObject({ count: 1, sum: 0.002 });
  });

  it('checks its options', () => {
    expect(() => new StoreLatencyRecorder({ buckets: [] })).toThrow(TypeError);
    expect(() => new StoreLatencyRecorder({ buckets: [0.1, 0.01] })).toThrow(/ascending/);
    expect(() => new StoreLatencyRecorder({ buckets: [-1] })).toThrow(RangeError);
  });
});

describe('event log lines', () => {
  it('shortens ids, reduces errors to a line and drops anything else', () => {
    const line = formatEvent(
      CHANNEL_NAMES.storeError,
      {
        store: 'redis',
        operation: 'get',
        error: Object.assign(new Error('connect ECONNREFUSED\nstack'), { code: 'ECONNREFUSED' }),
        id: new Uint8Array(40).fill(0xab),
        data: { secret: 'x' },
      },
      { clock: () => 0 },
    );
    expect(line).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      event: 'store-error',
      store: 'redis',
      operation: 'get',
      error: { name: 'Error', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' },
      id: `${'ab'.repeat(8)}…`,
    });
  });

  it('logEvents writes one JSON line per event until stopped', () => {
    const lines: string[] = [];
    const stop = logEvents((l) => lines.push(l), { clock: () => 0 });
    diagnosticsChannel.channel(CHANNEL_NAMES.miss).publish({
      namespace: 'ns',
      id: new Uint8Array([1, 2]),
      reason: 'not-found',
    });
    stop();
    diagnosticsChannel
      .channel(CHANNEL_NAMES.miss)
      .publish({ namespace: 'ns', id: new Uint8Array([1]) });
    expect(lines).toEqual([
      '{"time":"1970-01-01T00:00:00.000Z","event":"miss","namespace":"ns","id":"0102","reason":"not-found"}\n',
    ]);
  });
});
