/**
 * `npm run flood:sessions`: 1 000 000 new sessions (174-byte DER, 32-byte ids, decoded into the
 * wiring's SessionRecord like Node's `newSession` ones) pushed through a SessionCache of 20 480
 * (OpenSSL's default), of 100 000, and unbounded (cacheSize 0). Memory is read after a full GC at
 * marks; for the bounded caches it asserts that retained memory (V8 heap + ArrayBuffers) grows by
 * less than 10 % between the 200k and the 1M marks, i.e. that the cache stays within its bound.
 * Also measures the cost of sessions that arrive in reverse expiry order (see the report).
 *
 * Options: --sessions N (default 1000000), --max-growth 0.10. Exit status 1 if a bound is broken.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import {
  adversarialExpiryOrder,
  externalHitCost,
  flood,
  retained,
  type FloodResult,
} from './lib/flood.js';
import { memory, mib, say } from './lib/memory.js';

const { values } = parseArgs({
  options: { sessions: { type: 'string' }, 'max-growth': { type: 'string' } },
});
const total = Number(values.sessions ?? 1_000_000);
const maxGrowth = Number(values['max-growth'] ?? 0.1);
if (!Number.isInteger(total) || total < 200_000)
  throw new Error('--sessions must be an integer ≥ 200000');

const marks = [...new Set([20_480, 100_000, 200_000, 400_000, 600_000, 800_000, total])]
  .filter((m) => m <= total)
  .sort((a, b) => a - b);
let failed = false;

function report(r: FloodResult): void {
  const label = r.cacheSize === 0 ? 'unbounded (cacheSize 0)' : `cacheSize ${r.cacheSize}`;
  say(
    `\n${label}: ${total} sessions of ${r.sessionBytes} bytes, ${Math.round(r.pushesPerSecond)} sessions/s`,
  );
  say(
    `  baseline: rss ${mib(r.baseline.rss)}, heapUsed ${mib(r.baseline.heapUsed)}, arrayBuffers ${mib(r.baseline.arrayBuffers)}`,
  );
  say(
    `  ${'pushed'.padStart(9)} ${'cached'.padStart(9)} ${'rss'.padStart(11)} ${'heapUsed'.padStart(11)} ${'arrayBuffers'.padStart(13)} ${'bytes/cached'.padStart(13)}`,
  );
  for (const s of r.samples) {
    const perSession = (retained(s) - retained(r.baseline)) / Math.max(1, s.cached);
    say(
      `  ${String(s.pushed).padStart(9)} ${String(s.cached).padStart(9)} ${mib(s.rss).padStart(11)} ${mib(s.heapUsed).padStart(11)} ${mib(s.arrayBuffers).padStart(13)} ${Math.round(perSession).toString().padStart(13)}`,
    );
  }
  if (r.cacheSize > 0) {
    const at = (n: number) => r.samples.find((s) => s.pushed === n)!;
    const a = at(200_000);
    const b = at(total);
    const growth = (retained(b) - retained(a)) / retained(a);
    const rssGrowth = (b.rss - a.rss) / a.rss;
    const ok = r.maxCached <= r.cacheSize && growth < maxGrowth;
    say(
      `  200k → ${total}: retained ${mib(retained(a))} → ${mib(retained(b))} (${(growth * 100).toFixed(2)} %), rss ${mib(a.rss)} → ${mib(b.rss)} (${(rssGrowth * 100).toFixed(2)} %), max cached ${r.maxCached}, cacheFull ${r.cacheFull}: ${ok ? 'bounded' : 'NOT BOUNDED'}`,
    );
    if (!ok) failed = true;
  }
}

say(
  `flood: ${total} new sessions per configuration; memory after full GC (V8 heap + ArrayBuffers = retained)`,
);
for (const cacheSize of [20_480, 100_000, 0]) {
  report(flood(cacheSize, total, marks));
  memory();
}

say(
  '\nsessions arriving in reverse expiry order (e.g. re-added from a store with their original time):',
);
for (const [size, count, cacheSize] of [
  [20_480, 2_000, 20_480],
  [100_000, 500, 100_000],
  [20_000, 20_000, 0],
] as const) {
  const r = adversarialExpiryOrder(size, count, cacheSize);
  say(
    `  ${size} cached (cacheSize ${cacheSize}), ${count} inserts: ${r.usualMicros.toFixed(2)} µs each in the usual order, ${r.reversedMicros.toFixed(1)} µs reversed (${Math.round(r.reversedMicros / r.usualMicros)}×)`,
  );
}

say('\nTLS 1.2 resumption through the get callback (a store) on a full cache, per lookup:');
for (const size of [20_480, 100_000]) {
  const r = externalHitCost(size, 2_000, 180);
  say(
    `  cacheSize ${size} (sessions from the last 120 s): stored session made 180 s ago ${r.oldMicros.toFixed(1)} µs, made just now ${r.freshMicros.toFixed(2)} µs`,
  );
}

say(
  failed
    ? '\nFAIL: memory not bounded by the cache size'
    : '\nok: memory bounded by the cache size',
);
process.exitCode = failed ? 1 : 0;
