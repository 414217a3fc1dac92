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
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateCert, removeCert } from './certs.js';
import {
  CONFIG_DESCRIPTIONS,
  allCases,
  caseId,
  numberOption,
  parseArgs,
  type BenchCase,
  type ClientMessage,
  type ClientResult,
  type ServerCommand,
  type ServerReport,
} from './common.js';

const { values, flags } = parseArgs(process.argv.slice(2), {
  values: ['rounds', 'duration', 'warmup', 'concurrency', 'filter', 'json', 'cpu-prof'],
  flags: ['quick', 'help'],
});
if (flags.has('help')) {
  process.stdout.write(`npm run bench:handshake -- [options]
  --quick             1.5 s per case after 0.5 s warm-up (default 5 s after 1 s)
  --rounds N          run the case list N times in rotating order, report medians (default 3)
  --duration S        measured seconds per case
  --warmup S          warm-up seconds per case
  --concurrency N     concurrent client connections (default 8)
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
const filter = values.has('filter') ? new RegExp(values.get('filter')!) : undefined;
const jsonFile = values.get('json');
const profileDir = values.get('cpu-prof');

const SERVER_SCRIPT = fileURLToPath(new URL('./server.ts', import.meta.url));
const CLIENT_SCRIPT = fileURLToPath(new URL('./client.ts', import.meta.url));
/** The children run TypeScript through tsx's loader, as `tsx` itself does for this script. */
const TSX_ARGS = ['--import', import.meta.resolve('tsx')];
/** Startup, warm-up, the window and the drain take far less; past this a case has hung. */
const CASE_TIMEOUT_MS = (warmupS + durationS) * 1000 + 60_000;

const cases = allCases().filter((c) => filter === undefined || filter.test(caseId(c)));
if (cases.length === 0) throw new Error(`--filter ${String(filter)} matches no case`);

// --- one case: a server process and a client process ------------------------------------------------

/** One case's numbers from one round. */
interface Sample {
  handshakesPerSecond: number;
  resumedFraction: number;
  p50Ms: number;
  p99Ms: number;
  clientP50Ms: number;
  serverCpuUs: number;
  clientCpuUs: number;
  serverElu: number;
  clientElu: number;
  errors: number;
  client: ClientResult;
  server: ServerReport;
}

/**
 * `--cpu-prof` for a child, one directory per process: tsx's module hooks run on a worker thread,
 * which writes a profile of its own, so a fixed `--cpu-prof-name` would let it overwrite the main
 * thread's. The main thread's file is the one whose name has thread id 0 (`CPU.….PID.0.….cpuprofile`).
 */
function profileArgs(who: string, c: BenchCase, round: number): string[] {
  if (profileDir === undefined) return [];
  const dir = join(profileDir, `${who}-${caseId(c).replaceAll('/', '-')}-r${round + 1}`);
  return ['--cpu-prof', '--cpu-prof-dir', dir];
}

function exited(child: ChildProcess, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${name} exited with ${signal ?? `code ${String(code)}`}`));
    });
  });
}

/** Waits for the server's `ready PORT` line, the same protocol an `openssl s_server` wrapper will use. */
function readyPort(server: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: server.stdout! });
    lines.on('line', (line) => {
      const match = /^ready (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
    server.once('exit', () => reject(new Error('server exited before it was ready')));
  });
}

function ask(server: ChildProcess, command: ServerCommand): Promise<ServerReport> {
  return new Promise((resolve) => {
    server.once('message', (report: ServerReport) => resolve(report));
    server.send(command);
  });
}

async function runCase(c: BenchCase, round: number): Promise<Sample> {
  const serverArgs = ['--config', c.config, '--tls', c.version, '--cert-dir', cert.dir];
  const server = fork(SERVER_SCRIPT, serverArgs, {
    execArgv: [...TSX_ARGS, ...profileArgs('server', c, round)],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const serverExit = exited(server, 'server');
  serverExit.catch(() => undefined); // observed below; never an unhandled rejection meanwhile
  let timer: NodeJS.Timeout | undefined;
  try {
    const port = await readyPort(server);
    // prettier-ignore
    const clientArgs = [
      '--port', String(port), '--tls', c.version, '--mode', c.mode, '--cert-dir', cert.dir,
      '--concurrency', String(concurrency), '--warmup', String(warmupS),
      '--duration', String(durationS),
    ];
    const client = fork(CLIENT_SCRIPT, clientArgs, {
      execArgv: [...TSX_ARGS, ...profileArgs('client', c, round)],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let report: Promise<ServerReport> | undefined;
    let result: ClientResult | undefined;
    client.on('message', (message: ClientMessage) => {
      // The server's window follows the client's: it starts counting when the client's warm-up
      // ends and is read when the client's window closes (the IPC hop costs well under 1 ms).
      if (message.type === 'window-start') server.send({ type: 'reset' } satisfies ServerCommand);
      else if (message.type === 'window-end') report = ask(server, { type: 'report' });
      else result = message;
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        client.kill();
        reject(new Error(`${caseId(c)}: no result after ${CASE_TIMEOUT_MS} ms`));
      }, CASE_TIMEOUT_MS);
    });
    await Promise.race([exited(client, 'client'), timeout]);
    if (result === undefined || report === undefined) throw new Error('client sent no result');
    const serverReport = await report;
    return {
      handshakesPerSecond: result.handshakesPerSecond,
      resumedFraction: result.resumedFraction,
      p50Ms: serverReport.latency.p50Ms,
      p99Ms: serverReport.latency.p99Ms,
      clientP50Ms: result.latency.p50Ms,
      serverCpuUs: serverReport.cpuUsPerHandshake,
      clientCpuUs: result.cpuUsPerHandshake,
      serverElu: serverReport.elu,
      clientElu: result.elu,
      errors: result.errors + serverReport.errors,
      client: result,
      server: serverReport,
    };
  } finally {
    clearTimeout(timer);
    if (server.connected) server.send({ type: 'stop' } satisfies ServerCommand);
    else server.kill();
    await serverExit.catch(() => undefined);
  }
}

// --- all cases, in rotating order --------------------------------------------------------------------

function progress(text: string): void {
  // A rewritten line on a terminal; whole lines in a log.
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
  else process.stderr.write(`${text}\n`);
}

// The machine is shared: the load average before and after says how quiet the run was.
const loadBefore = loadavg()[0]!;
const cert = generateCert();
const samples = new Map<string, Sample[]>(cases.map((c) => [caseId(c), []]));
const started = Date.now();
try {
  for (let round = 0; round < rounds; round++) {
    // Round r starts r/rounds of the way into the list: each case takes a different position.
    const offset = Math.round((round * cases.length) / rounds);
    const order = [...cases.slice(offset), ...cases.slice(0, offset)];
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

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

type Metric = Exclude<keyof Sample, 'client' | 'server'>;
const METRICS: Metric[] = [
  'handshakesPerSecond',
  'resumedFraction',
  'p50Ms',
  'p99Ms',
  'clientP50Ms',
  'serverCpuUs',
  'clientCpuUs',
  'serverElu',
  'clientElu',
  'errors',
];

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
  const med = Object.fromEntries(METRICS.map((m) => [m, median(list.map((s) => s[m]))])) as Record<
    Metric,
    number
  >;
  const rates = list.map((s) => s.handshakesPerSecond);
  const spread = (Math.max(...rates) - Math.min(...rates)) / med.handshakesPerSecond;
  return { ...c, id: caseId(c), median: med, spread, rounds: list };
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
    'server CPU µs/hs | client CPU µs/hs | server ELU | client ELU | errors |',
);
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const m = r.median;
  console.log(
    `| ${r.config} | ${r.version.replace('TLSv', '')} | ${r.mode} | ${int(m.handshakesPerSecond)} | ` +
      `${fixed(r.spread * 100, 0)}% | ${fixed(m.resumedFraction, 3)} | ${fixed(m.p50Ms, 2)} | ` +
      `${fixed(m.p99Ms, 2)} | ${fixed(m.clientP50Ms, 2)} | ${int(m.serverCpuUs)} | ` +
      `${int(m.clientCpuUs)} | ${fixed(m.serverElu, 2)} | ${fixed(m.clientElu, 2)} | ${m.errors} |`,
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
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAfter,
  };
  writeFileSync(jsonFile, `${JSON.stringify({ meta, rows, ratios }, null, 2)}\n`);
}
