/**
 * `npm run soak`: handshakes without pause (TLS 1.2 and 1.3, full and resumed, 8 concurrent
 * clients) against a `tls.Server` from `openSessionCache()` (the engine's cache alone), for 10 minutes. Every 10 s
 * the load is paused until no connection is open, and the heap (after GC), RSS, active handles and
 * requests and open connections are sampled; then the load resumes. Sampling starts once the cache
 * is full (its memory is bounded by `cacheSize`, so only then should the heap be flat).
 *
 * It fails when there is a trend: the least-squares slope of heapUsed (after GC) over handshakes
 * is above --max-bytes-per-handshake (default 16) *and* the fitted growth over the run is above
 * --min-growth-mib (default 2: below that it is noise), or the quiesced handle counts change
 * between samples, or a connection stays open. Not for CI.
 *
 * Options: --duration-s 600, --interval-s 10, --cache-size 20480, --concurrency 8,
 * --warmup-max-s 120.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { LoadClient, makeCertificate, settle, startLoadServer, waitFor } from './lib/handshakes.js';
import { activeResources, linearFit, memory, mib, resourceIncrease, say } from './lib/memory.js';

const { values } = parseArgs({
  options: {
    'duration-s': { type: 'string' },
    'interval-s': { type: 'string' },
    'cache-size': { type: 'string' },
    concurrency: { type: 'string' },
    'warmup-max-s': { type: 'string' },
    'max-bytes-per-handshake': { type: 'string' },
    'min-growth-mib': { type: 'string' },
  },
});
const durationMs = Number(values['duration-s'] ?? 600) * 1000;
const intervalMs = Number(values['interval-s'] ?? 10) * 1000;
const cacheSize = Number(values['cache-size'] ?? 20_480);
const concurrency = Number(values.concurrency ?? 8);
const warmupMaxMs = Number(values['warmup-max-s'] ?? 120) * 1000;
const maxBytesPerHandshake = Number(values['max-bytes-per-handshake'] ?? 16);
const minGrowth = Number(values['min-growth-mib'] ?? 2) * 1024 * 1024;

interface Sample {
  seconds: number;
  handshakes: number;
  rate: number;
  heapUsed: number;
  rss: number;
  resources: Record<string, number>;
  connections: number;
  cached: number;
  errors: number;
}

const server = await startLoadServer(makeCertificate(), { cacheSize });
const client = new LoadClient(server.port, { concurrency });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the load for `ms`, then pauses it until every connection has closed. */
async function loadFor(ms: number): Promise<void> {
  const running = client.run();
  await sleep(ms);
  client.stop();
  await running;
  await waitFor(async () => (await server.connections()) === 0, 5_000);
  await settle();
}

say(
  `soak: ${durationMs / 1000} s of handshakes, ${concurrency} concurrent, cacheSize ${cacheSize}, sample every ${intervalMs / 1000} s`,
);
const warmStart = performance.now();
while (server.cache.stats().number < cacheSize && performance.now() - warmStart < warmupMaxMs)
  await loadFor(2_000);
say(
  `warm-up: ${client.stats.handshakes} handshakes in ${((performance.now() - warmStart) / 1000).toFixed(0)} s, cache ${server.cache.stats().number}/${cacheSize}`,
);

const samples: Sample[] = [];
const started = performance.now();
let lastHandshakes = client.stats.handshakes;
let lastAt = performance.now();
const header = `${'t (s)'.padStart(6)} ${'handshakes'.padStart(10)} ${'rate/s'.padStart(7)} ${'heapUsed'.padStart(10)} ${'rss'.padStart(10)} ${'handles'.padStart(8)} ${'conns'.padStart(5)} ${'cached'.padStart(7)} ${'errors'.padStart(6)}`;
say(header);
for (;;) {
  const m = memory();
  const now = performance.now();
  const sample: Sample = {
    seconds: (now - started) / 1000,
    handshakes: client.stats.handshakes,
    rate: ((client.stats.handshakes - lastHandshakes) * 1000) / (now - lastAt),
    heapUsed: m.heapUsed,
    rss: m.rss,
    resources: activeResources(),
    connections: await server.connections(),
    cached: server.cache.stats().number,
    errors: client.stats.errors,
  };
  lastHandshakes = sample.handshakes;
  lastAt = now;
  samples.push(sample);
  const handles = Object.values(sample.resources).reduce((a, b) => a + b, 0);
  say(
    `${sample.seconds.toFixed(0).padStart(6)} ${String(sample.handshakes).padStart(10)} ${sample.rate.toFixed(0).padStart(7)} ${mib(sample.heapUsed).padStart(10)} ${mib(sample.rss).padStart(10)} ${String(handles).padStart(8)} ${String(sample.connections).padStart(5)} ${String(sample.cached).padStart(7)} ${String(sample.errors).padStart(6)}`,
  );
  if (now - started >= durationMs) break;
  await loadFor(intervalMs);
}
await server.close();

const problems: string[] = [];
const xs = samples.map((s) => s.handshakes);
const fit = linearFit(
  xs,
  samples.map((s) => s.heapUsed),
);
const span = xs[xs.length - 1]! - xs[0]!;
const fitted = fit.slope * span;
const minutes = (samples[samples.length - 1]!.seconds - samples[0]!.seconds) / 60;
say(
  `heapUsed trend: ${fit.slope.toFixed(2)} bytes per handshake, ${mib(fitted)} over ${span} handshakes (${mib(minutes > 0 ? fitted / minutes : 0)}/min)`,
);
if (fit.slope > maxBytesPerHandshake && fitted > minGrowth) {
  problems.push(
    `heap grows ${fit.slope.toFixed(1)} bytes per handshake (${mib(fitted)} over the run)`,
  );
}
const first = samples[0]!.resources;
say(
  `handles when quiesced: ${JSON.stringify(first)} at the first sample, ${JSON.stringify(samples[samples.length - 1]!.resources)} at the last`,
);
for (const s of samples) {
  const grown = resourceIncrease(first, s.resources);
  if (Object.keys(grown).length > 0)
    problems.push(`more handles at ${s.seconds.toFixed(0)} s: ${JSON.stringify(grown)}`);
  if (s.connections !== 0)
    problems.push(`${s.connections} connections open at ${s.seconds.toFixed(0)} s`);
}
if (client.stats.errors > 0)
  problems.push(`${client.stats.errors} client errors: ${client.stats.errorSamples.join('; ')}`);
for (const p of problems) say(`FAIL: ${p}`);
say(problems.length === 0 ? `ok: ${samples.length} samples, no trend in heap or handles` : 'FAIL');
process.exitCode = problems.length === 0 ? 0 : 1;
