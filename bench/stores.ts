/**
 * Store micro-benchmark: median (and p99) latency and ops/s of `set`, `get`, `take` and a missing
 * `get`, for every store side by side in one run, with session-sized values.
 *
 *   npm run bench:stores [-- --ops N] [-- --rounds N] [-- --value-bytes N] [-- --store URL ...]
 *
 * Default stores: `memory` and `sqlite:` on a fresh file in a temp dir (WAL, synchronous NORMAL,
 * as SqliteStore opens it). Any `--store` value `serve` accepts can be added, e.g.
 * `--store redis://127.0.0.1:6379`; an asynchronous store is awaited op by op, so its latency is
 * a round trip and its ops/s those of one caller.
 *
 * Each round writes `ops` new entries (`set`), reads each once (`get`), reads `ops` ids that do not
 * exist (`get miss`), then takes each once (`take`): so the store holds `ops` entries during the
 * reads. Latency is per operation (`process.hrtime.bigint()`); ops/s is per phase (`ops` divided
 * by its wall time). The report gives the median of the rounds.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import * as hdr from 'hdr-histogram-js';
import { parseStoreUrl } from '../src/stores/store-url.js';
import { createStore } from '../src/stores/from-url.js';
import type { SessionStore } from '../src/stores/store.js';
import { numberOption, parseArgs } from './handshake/common.js';

const argv = process.argv.slice(2);
const storeArgs: string[] = [];
for (let i = argv.indexOf('--store'); i >= 0; i = argv.indexOf('--store')) {
  const value = argv[i + 1];
  if (value === undefined) throw new Error('--store needs a value');
  storeArgs.push(value);
  argv.splice(i, 2);
}
const { values, flags } = parseArgs(argv, {
  values: ['ops', 'rounds', 'value-bytes'],
  flags: ['help', 'quick'],
});
if (flags.has('help')) {
  process.stdout.write(`npm run bench:stores -- [options]
  --ops N           operations per phase and round (default 20000; --quick 5000)
  --rounds N        rounds, report medians (default 3)
  --value-bytes N   size of each value (default 512: a session envelope with some room)
  --store URL       a store to measure, repeatable (default: memory and a fresh sqlite file)
`);
  process.exit(0);
}
const ops = numberOption(values, 'ops', flags.has('quick') ? 5000 : 20_000, { integer: true });
const rounds = numberOption(values, 'rounds', 3, { integer: true });
const valueBytes = numberOption(values, 'value-bytes', 512, { integer: true });

const OPS = ['set', 'get', 'get miss', 'take'] as const;
type Op = (typeof OPS)[number];
const NS = 'bench/AbCdEf0123456789';
const HOUR = 3_600_000;

interface PhaseResult {
  p50Us: number;
  p99Us: number;
  opsPerSecond: number;
}

function histogram(): hdr.Histogram {
  // 10 ns to 10 s, in ns, 3 significant digits.
  return hdr.build({
    lowestDiscernibleValue: 10,
    highestTrackableValue: 10_000_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

async function phase(
  ids: Buffer[],
  run: (id: Buffer) => unknown,
  check: (result: unknown) => boolean,
): Promise<PhaseResult> {
  const h = histogram();
  let failures = 0;
  const began = process.hrtime.bigint();
  for (const id of ids) {
    const t0 = process.hrtime.bigint();
    let result = run(id);
    if (result instanceof Promise) result = await result;
    h.recordValue(Math.max(10, Number(process.hrtime.bigint() - t0)));
    if (!check(result)) failures++;
  }
  const elapsedNs = Number(process.hrtime.bigint() - began);
  if (failures > 0) throw new Error(`${failures} of ${ids.length} operations gave a wrong answer`);
  return {
    p50Us: h.getValueAtPercentile(50) / 1000,
    p99Us: h.getValueAtPercentile(99) / 1000,
    opsPerSecond: ids.length / (elapsedNs / 1e9),
  };
}

async function round(store: SessionStore): Promise<Record<Op, PhaseResult>> {
  const ids = Array.from({ length: ops }, () => randomBytes(32));
  const missing = Array.from({ length: ops }, () => randomBytes(32));
  const value = randomBytes(valueBytes);
  const expiresAtMs = Date.now() + HOUR;
  const isValue = (r: unknown): boolean => r instanceof Uint8Array && r.byteLength === valueBytes;
  const set = await phase(
    ids,
    (id) => store.set(NS, id, value, expiresAtMs),
    (r) => r === true,
  );
  const get = await phase(ids, (id) => store.get(NS, id), isValue);
  const miss = await phase(
    missing,
    (id) => store.get(NS, id),
    (r) => r === undefined,
  );
  const take = await phase(ids, (id) => store.take(NS, id), isValue);
  return { set, get, 'get miss': miss, take };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const dir = mkdtempSync(join(tmpdir(), 'tsc-bench-stores-'));
const urls = storeArgs.length > 0 ? storeArgs : ['memory', `sqlite:${join(dir, 'bench.db')}`];
const results = new Map<string, Record<Op, PhaseResult>[]>();
const loadBefore = loadavg()[0]!;
try {
  for (const url of urls) {
    // The URL may hold a password: the report names the store by its kind only.
    const store = await createStore(parseStoreUrl(url));
    const label = storeArgs.length > 0 ? `${store.kind} (${urls.indexOf(url) + 1})` : store.kind;
    try {
      // Warm-up: JIT, SQLite page cache, connections.
      await round(store);
      await store.clear?.();
      const samples: Record<Op, PhaseResult>[] = [];
      for (let r = 0; r < rounds; r++) {
        process.stderr.write(`${label}: round ${r + 1}/${rounds}\n`);
        samples.push(await round(store));
      }
      results.set(label, samples);
    } finally {
      await store.close();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const labels = [...results.keys()];
const summary = (label: string, op: Op, key: keyof PhaseResult): number =>
  median(results.get(label)!.map((sample) => sample[op][key]));
const us = (n: number): string => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

console.log(
  `\nStore benchmark: ${ops} ops per phase, median of ${rounds} round(s), ${valueBytes}-byte values, ` +
    `32-byte ids; Node ${process.version}, ${cpus().length} CPUs; ` +
    `1-min load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after\n`,
);
console.log(`| op | ${labels.map((l) => `${l} p50 µs | ${l} p99 µs | ${l} ops/s`).join(' | ')} |`);
console.log(`|---|${labels.map(() => '---:|---:|---:').join('|')}|`);
for (const op of OPS) {
  const cells = labels.map(
    (l) =>
      `${us(summary(l, op, 'p50Us'))} | ${us(summary(l, op, 'p99Us'))} | ${int(summary(l, op, 'opsPerSecond'))}`,
  );
  console.log(`| ${op} | ${cells.join(' | ')} |`);
}
