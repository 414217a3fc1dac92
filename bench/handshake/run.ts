/**
 * Handshake benchmark: TLS handshakes per second and server-side handshake latency for several
 * server configurations side by side, in one run, with the server and the load client in separate
 * processes.
 *
 *   npm run bench:handshake [-- --quick] [-- --rounds N] [-- --duration S] [-- --warmup S]
 *       [-- --concurrency N] [-- --filter REGEX] [-- --json FILE] [-- --cpu-prof DIR]
 *
 * For every case (configuration × TLS version × mode, see common.ts) it forks a fresh `server.ts`
 * and a `client.ts`, lets the client warm up, then measures for a fixed duration. The machine is
 * shared and noisy, so the whole case list is run `--rounds` times (default 3), each round in a
 * rotated order so that no case always runs first or right after the same neighbour, and the
 * report gives the median of the rounds for every number, plus the spread of handshakes/s
 * ((max − min) / median) so that a reader can see how far to trust a difference.
 *
 * Numbers: handshakes/s and resumedFraction are the client's (completed `secureConnect`s in the
 * window, and the share that `isSessionReused()` reported); p50/p99 are the server's, from TCP
 * accept to `secureConnection`; CPU µs per handshake and event-loop utilization come from both
 * processes and tell which side was the bottleneck (on 2 cores, often the client).
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { CERT_KINDS, generateCert, removeCert } from './certs.js';
import {
  CONFIG_DESCRIPTIONS,
  allCases,
  caseId,
  numberOption,
  oneOf,
  parseArgs,
  type BenchCase,
} from './common.js';
import {
  driveWithClient,
  medians,
  profileArgs,
  rotated,
  spread,
  startNodeServer,
  withServer,
  type Metric,
  type Sample,
} from './orchestrator.js';

const { values, flags } = parseArgs(process.argv.slice(2), {
  values: [
    'rounds',
    'duration',
    'warmup',
    'concurrency',
    'clients',
    'cert',
    'filter',
    'json',
    'cpu-prof',
  ],
  flags: ['quick', 'help'],
});
if (flags.has('help')) {
  process.stdout.write(`npm run bench:handshake -- [options]
  --quick             1.5 s per case after 0.5 s warm-up (default 5 s after 1 s)
  --rounds N          run the case list N times in rotating order, report medians (default 3)
  --duration S        measured seconds per case
  --warmup S          warm-up seconds per case
  --concurrency N     concurrent connections per client process (default 8)
  --clients N         load client processes per case (default 2); client-bound cases are flagged
  --cert KIND         ecdsa (P-256, default) or rsa (2048)
  --filter REGEX      only cases whose id (config/TLSvX/mode) matches
  --json FILE         also write medians, every round's raw numbers and the ratios as JSON
  --cpu-prof DIR      write a V8 CPU profile of every server and client process under DIR
`);
  process.exit(0);
}
const quick = flags.has('quick');
const rounds = numberOption(values, 'rounds', 3, { integer: true });
const durationS = numberOption(values, 'duration', quick ? 1.5 : 5);
const warmupS = numberOption(values, 'warmup', quick ? 0.5 : 1);
const concurrency = numberOption(values, 'concurrency', 8, { integer: true });
const clients = numberOption(values, 'clients', 2, { integer: true });
const certKind = oneOf('cert', values.get('cert') ?? 'ecdsa', CERT_KINDS);
const filter = values.has('filter') ? new RegExp(values.get('filter')!) : undefined;
const jsonFile = values.get('json');
const profileDir = values.get('cpu-prof');

const cases = allCases().filter((c) => filter === undefined || filter.test(caseId(c)));
if (cases.length === 0) throw new Error(`--filter ${String(filter)} matches no case`);

// --- one case: a server process and a client process ------------------------------------------------

async function runCase(c: BenchCase, round: number): Promise<Sample> {
  const name = `${caseId(c)}-r${round + 1}`;
  return withServer(
    () =>
      startNodeServer({
        config: c.config,
        version: c.version,
        certDir: cert.dir,
        execArgv: profileArgs(profileDir, `server-${name}`),
      }),
    (server) =>
      driveWithClient(server, {
        version: c.version,
        mode: c.mode,
        certDir: cert.dir,
        concurrency,
        clients,
        warmupS,
        durationS,
        execArgv: profileArgs(profileDir, `client-${name}`),
        label: caseId(c),
      }),
  );
}

// --- all cases, in rotating order --------------------------------------------------------------------

function progress(text: string): void {
  // A rewritten line on a terminal; whole lines in a log.
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
  else process.stderr.write(`${text}\n`);
}

// The machine is shared: the load average before and after says how quiet the run was.
const loadBefore = loadavg()[0]!;
const cert = generateCert(certKind);
const samples = new Map<string, Sample[]>(cases.map((c) => [caseId(c), []]));
const started = Date.now();
try {
  for (let round = 0; round < rounds; round++) {
    const order = rotated(cases, round, rounds);
    for (const [i, c] of order.entries()) {
      const label = `round ${round + 1}/${rounds}, case ${i + 1}/${order.length}: ${caseId(c)}`;
      progress(`${label} …`);
      const sample = await runCase(c, round);
      samples.get(caseId(c))!.push(sample);
      progress(
        `${label}: ${Math.round(sample.handshakesPerSecond)} hs/s, ` +
          `${(sample.resumedFraction * 100).toFixed(0)}% resumed`,
      );
    }
  }
} finally {
  removeCert(cert);
}
if (process.stderr.isTTY) process.stderr.write('\n');
const loadAfter = loadavg()[0]!;

// --- report ------------------------------------------------------------------------------------------

interface Row extends BenchCase {
  id: string;
  /** The median of the rounds, metric by metric. */
  median: Record<Metric, number>;
  /** (max − min) / median of handshakes/s over the rounds. */
  spread: number;
  rounds: Sample[];
}

const rows: Row[] = cases.map((c) => {
  const list = samples.get(caseId(c))!;
  return { ...c, id: caseId(c), median: medians(list), spread: spread(list), rounds: list };
});

const find = (config: string, version: string, mode: string): Row | undefined =>
  rows.find((r) => r.config === config && r.version === version && r.mode === mode);

interface Ratio {
  name: string;
  /** Ratio of median handshakes/s (> 1: the first is faster). */
  handshakesPerSecond: number;
  /** Ratio of median server p50 latency (< 1: the first is faster). */
  p50: number;
  /** Ratio of median server CPU per handshake (< 1: the first is cheaper). */
  serverCpu: number;
}

function ratio(name: string, a: Row | undefined, b: Row | undefined): Ratio[] {
  if (a === undefined || b === undefined) return []; // filtered out
  return [
    {
      name,
      handshakesPerSecond: a.median.handshakesPerSecond / b.median.handshakesPerSecond,
      p50: a.median.p50Ms / b.median.p50Ms,
      serverCpu: a.median.serverCpuUs / b.median.serverCpuUs,
    },
  ];
}

const ratios: Ratio[] = [
  ...ratio(
    'attach-memory ÷ map, TLS 1.2 resumed',
    find('attach-memory', 'TLSv1.2', 'resumed'),
    find('map', 'TLSv1.2', 'resumed'),
  ),
  ...ratio(
    'attach-memory ÷ node-tickets, TLS 1.2 resumed',
    find('attach-memory', 'TLSv1.2', 'resumed'),
    find('node-tickets', 'TLSv1.2', 'resumed'),
  ),
  ...ratio(
    'attach-memory ÷ node-tickets, TLS 1.3 resumed',
    find('attach-memory', 'TLSv1.3', 'resumed'),
    find('node-tickets', 'TLSv1.3', 'resumed'),
  ),
  ...ratio(
    'attach-memory resumed ÷ node-tickets resumed-reuse, TLS 1.3',
    find('attach-memory', 'TLSv1.3', 'resumed'),
    find('node-tickets', 'TLSv1.3', 'resumed-reuse'),
  ),
  ...ratio(
    'reader ÷ no reader (attach-memory), TLS 1.2 resumed',
    find('attach-memory', 'TLSv1.2', 'resumed'),
    find('attach-memory-no-reader', 'TLSv1.2', 'resumed'),
  ),
  ...ratio(
    'reader ÷ no reader (attach-memory), TLS 1.2 full',
    find('attach-memory', 'TLSv1.2', 'full'),
    find('attach-memory-no-reader', 'TLSv1.2', 'full'),
  ),
  ...rows
    .filter((r) => r.mode !== 'full')
    .flatMap((r) =>
      ratio(`${r.mode} ÷ full, ${r.config} ${r.version}`, r, find(r.config, r.version, 'full')),
    ),
];

const fixed = (n: number, digits: number): string => n.toFixed(digits);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

console.log(
  `\nTLS handshake benchmark: median of ${rounds} round(s), ${durationS} s each after ${warmupS} s ` +
    `warm-up, ${concurrency} connections; Node ${process.version}, OpenSSL ${process.versions.openssl}, ` +
    `${cpus().length} CPUs; ${((Date.now() - started) / 1000).toFixed(0)} s in all; ` +
    `1-min load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after\n`,
);
console.log(
  '| config | TLS | mode | hs/s | spread | resumed | p50 ms | p99 ms | client p50 ms | ' +
    'server CPU µs/hs | client CPU µs/hs | server CPU cores | server ELU | client ELU | ' +
    'client-bound rounds | errors |',
);
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const m = r.median;
  console.log(
    `| ${r.config} | ${r.version.replace('TLSv', '')} | ${r.mode} | ${int(m.handshakesPerSecond)} | ` +
      `${fixed(r.spread * 100, 0)}% | ${fixed(m.resumedFraction, 3)} | ${fixed(m.p50Ms, 2)} | ` +
      `${fixed(m.p99Ms, 2)} | ${fixed(m.clientP50Ms, 2)} | ${int(m.serverCpuUs)} | ` +
      `${int(m.clientCpuUs)} | ${fixed(m.serverCpuShare, 2)} | ${fixed(m.serverElu, 2)} | ` +
      `${fixed(m.clientElu, 2)} | ${r.rounds.filter((s) => s.clientBound).length}/${r.rounds.length} | ` +
      `${m.errors} |`,
  );
}
console.log('\n| ratio | hs/s | server p50 | server CPU/hs |');
console.log('|---|---:|---:|---:|');
for (const q of ratios) {
  console.log(
    `| ${q.name} | ${fixed(q.handshakesPerSecond, 2)}× | ${fixed(q.p50, 2)}× | ${fixed(q.serverCpu, 2)}× |`,
  );
}
console.log('\nConfigurations:');
for (const [name, text] of Object.entries(CONFIG_DESCRIPTIONS)) console.log(`- ${name}: ${text}`);

if (jsonFile !== undefined) {
  const meta = {
    node: process.version,
    openssl: process.versions.openssl,
    cpus: cpus().length,
    date: new Date().toISOString(),
    rounds,
    durationS,
    warmupS,
    concurrency,
    clients,
    cert: certKind,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAfter,
  };
  writeFileSync(jsonFile, `${JSON.stringify({ meta, rows, ratios }, null, 2)}\n`);
}
