/**
 * Pushes new sessions through a `SessionCache` the way the Node wiring does (decode the DER into a
 * `SessionRecord`, then `sessionNegotiated`) and samples memory after GC at chosen marks. Shared
 * by `npm run flood:sessions` and the CI-sized test in `test/hardening/`.
 *
 * @module
 */
import { SessionCache } from '../../src/cache/session-cache.js';
import { sessionRecordFromDer } from '../../src/session/session-record.js';
import { memory, type MemorySample } from './memory.js';
import { SessionFactory } from './sessions.js';

/** Memory at one mark. */
export interface FloodSample extends MemorySample {
  /** Sessions pushed so far. */
  pushed: number;
  /** Sessions in the cache. */
  cached: number;
}

/** What one flood measured. */
export interface FloodResult {
  cacheSize: number;
  sessionBytes: number;
  baseline: MemorySample;
  samples: FloodSample[];
  /** Largest number of cached sessions seen at any mark. */
  maxCached: number;
  cacheFull: number;
  pushesPerSecond: number;
}

/** Floods a new cache of `cacheSize` with `total` sessions, sampling at `marks`. */
export function flood(cacheSize: number, total: number, marks: readonly number[]): FloodResult {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const factory = new SessionFactory(nowSeconds, 300);
  const baseline = memory();
  const cache = new SessionCache({ cacheSize, noAutoClear: true });
  const samples: FloodSample[] = [];
  const wanted = new Set(marks);
  let maxCached = 0;
  let busyMs = 0;
  let started = performance.now();
  for (let i = 1; i <= total; i++) {
    // A fresh host name string per session, as `toLowerCase()` of each ClientHello's SNI makes.
    const record = sessionRecordFromDer(
      factory.next(),
      'tenant/0123456789abcdef',
      `api${i % 10}.example.com`,
    );
    cache.sessionNegotiated(record);
    if (wanted.has(i)) {
      busyMs += performance.now() - started;
      const cached = cache.stats().number;
      maxCached = Math.max(maxCached, cached);
      samples.push({ pushed: i, cached, ...memory() });
      started = performance.now();
    }
  }
  busyMs += performance.now() - started;
  const result: FloodResult = {
    cacheSize,
    sessionBytes: factory.size,
    baseline,
    samples,
    maxCached,
    cacheFull: cache.stats().cacheFull,
    pushesPerSecond: (total * 1000) / busyMs,
  };
  cache.close();
  return result;
}

/** On-heap plus ArrayBuffer bytes (the session DER lives in ArrayBuffers, off the V8 heap). */
export function retained(m: MemorySample): number {
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Sessions whose expiry comes earlier than every cached one: each insertion walks the whole expiry
 * list (it is searched from the tail). Returns µs per insertion into a cache already holding
 * `size` sessions, for `count` such insertions, next to the same number in the usual order.
 */
export function adversarialExpiryOrder(size: number, count: number, cacheSize: number) {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const factory = new SessionFactory(nowSeconds, 300);
  const measure = (order: 'usual' | 'reversed'): number => {
    const cache = new SessionCache({ cacheSize, noAutoClear: true, timeout: 10_000_000 });
    for (let i = 0; i < size; i++) {
      cache.add({
        id: factory.next().subarray(7, 39),
        data: new Uint8Array(1),
        time: nowSeconds,
        timeout: 1_000_000,
      });
    }
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      // Usual: each new session outlives the cached ones. Reversed: each expires a second sooner
      // than the previous one, as sessions re-added from a store with their original (older)
      // creation times do.
      const timeout = order === 'usual' ? 1_000_000 + i : 999_999 - i;
      cache.add({
        id: factory.next().subarray(7, 39),
        data: new Uint8Array(1),
        time: nowSeconds,
        timeout,
      });
    }
    const us = ((performance.now() - t0) * 1000) / count;
    cache.close();
    return us;
  };
  return { usualMicros: measure('usual'), reversedMicros: measure('reversed') };
}

/**
 * The realistic way to hit {@link adversarialExpiryOrder}: a TLS 1.2 resumption answered by the get
 * callback (a shared store: the session was made by another process) is added to the internal
 * cache with its original creation time, so it is inserted behind every newer cached session.
 * Returns µs per such lookup on a cache holding `size` sessions made in the last `spreadSeconds`,
 * for a stored session created `ageSeconds` ago, and for one created just now.
 */
export function externalHitCost(
  size: number,
  count: number,
  ageSeconds: number,
  spreadSeconds = 120,
) {
  const nowMs = Date.now();
  const nowSeconds = Math.floor(nowMs / 1000);
  const factory = new SessionFactory(nowSeconds, 300);
  const measure = (age: number): number => {
    let stored: { id: Uint8Array; data: Uint8Array; time: number; timeout: number } | undefined;
    const cache = new SessionCache({
      cacheSize: size,
      noAutoClear: true,
      clock: () => nowMs,
      onGet: () => stored,
    });
    for (let i = 0; i < size; i++) {
      const time = nowSeconds - spreadSeconds + Math.floor((i * spreadSeconds) / size);
      cache.add({
        id: factory.next().subarray(7, 39),
        data: new Uint8Array(1),
        time,
        timeout: 300,
      });
    }
    let total = 0;
    for (let i = 0; i < count; i++) {
      const id = factory.next().subarray(7, 39);
      stored = { id, data: new Uint8Array(1), time: nowSeconds - age, timeout: 300 };
      const t0 = performance.now();
      const r = cache.lookup(id);
      total += performance.now() - t0;
      if (r instanceof Promise || r.session === undefined) throw new Error('external hit expected');
    }
    cache.close();
    return (total * 1000) / count;
  };
  return { oldMicros: measure(ageSeconds), freshMicros: measure(0) };
}
