// CI-sized version of `npm run flood:sessions` (1 000 000 sessions into caches of 20 480 and
// 100 000): 120 000 realistic sessions through a cache of 4 096. The cache never holds more than
// its bound, and the memory it retains (V8 heap + ArrayBuffers, after GC) stops growing once it
// is full. Memory is read per worker thread (heapUsed is per isolate), so parallel test files do
// not disturb it; nothing here is timed.
import { describe, expect, it } from 'vitest';
import { flood, retained } from '../../scripts/lib/flood.js';

describe('a flood of new sessions', () => {
  it('stays within cacheSize, and memory stays flat once the cache is full', () => {
    const cacheSize = 4_096;
    const r = flood(cacheSize, 120_000, [cacheSize, 20_000, 40_000, 80_000, 120_000]);
    expect(r.maxCached).toBe(cacheSize);
    expect(r.cacheFull).toBe(120_000 - cacheSize);
    for (const s of r.samples) expect(s.cached).toBeLessThanOrEqual(cacheSize);
    const at = (n: number) => r.samples.find((s) => s.pushed === n)!;
    const growth = (retained(at(120_000)) - retained(at(20_000))) / retained(at(20_000));
    const perSession = (retained(at(cacheSize)) - retained(r.baseline)) / cacheSize;
    console.log(
      `flood: ${Math.round(perSession)} bytes per cached session, growth 20k → 120k ${(growth * 100).toFixed(2)} %`,
    );
    expect(growth).toBeLessThan(0.1);
    // A 174-byte session costs about 600 bytes cached at this size (about 510 at 1 M, see
    // `npm run bench:memory`); far more would mean something retains copies.
    expect(perSession).toBeLessThan(4_096);
  });
});
