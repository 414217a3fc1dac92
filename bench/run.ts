/**
 * `npm run bench`: resumed and full TLS handshakes, TLS 1.2 and 1.3, side by side in ONE run, for
 * every server configuration of the handshake benchmark (Node's default tickets, a bare `Map`,
 * `attach()` with each store in bench/handshake/common.ts) and for the native anchor, OpenSSL's
 * `s_server` with its internal cache — driven by our Node load client, and (TLS 1.2) also by
 * OpenSSL's own `s_time`. Prints a Markdown table and the ratios against the issue's targets, with
 * a progress bar on stderr; `--json FILE` and `--chart FILE.svg` write the same run.
 *
 *   npm run bench [-- --quick | --smoke] [-- --rounds N] [-- --duration S] [-- --warmup S]
 *       [-- --stime-seconds S] [-- --concurrency N] [-- --filter REGEX] [-- --json FILE]
 *       [-- --chart FILE.svg] [-- --markdown FILE] [-- --cpu-prof DIR]
 *
 * Every case gets a fresh server process (an empty cache) and a fresh client process; the whole
 * list runs `--rounds` times in rotated order and every number is the median of the rounds (see
 * bench/handshake/run.ts for the method, which this reuses through bench/handshake/orchestrator.ts).
 * A configuration added to `CONFIGS` in bench/handshake/common.ts is measured here too, and an
 * `attach-<store>` one gets its ratio against the memory store.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { dirname, relative, sep } from 'node:path';
import { S_SERVER_PATH, opensslVersion, startSServer } from './anchors/s-server.js';
import { driveWithSTime, type STimeResult } from './anchors/s-time.js';
import { CERT_KINDS, generateCert, removeCert } from './handshake/certs.js';
import {
  MODES,
  VERSIONS,
  allCases,
  numberOption,
  oneOf,
  parseArgs,
  type ConfigName,
  type Mode,
  type TlsVersion,
} from './handshake/common.js';
import {
  driveWithClient,
  medians,
  profileArgs,
  rotated,
  spread,
  startNodeServer,
  withServer,
  type Sample,
} from './handshake/orchestrator.js';
import { renderChart } from './report/chart.js';
import { renderReadmeSection } from './report/markdown.js';
import { caseProgress } from './report/progress.js';
import { computeRatios, TARGETS } from './report/ratios.js';
import { benchResultSchema, validate } from './report/schema.js';
import { renderReport } from './report/table.js';
import type { BenchResult, CaseResult, ClientKind, SampleResult } from './report/types.js';

const argv = process.argv.slice(2);
const { values, flags } = parseArgs(argv, {
  // prettier-ignore
  values: [
    'rounds', 'duration', 'warmup', 'stime-seconds', 'concurrency', 'filter', 'json', 'chart',
    'markdown', 'cpu-prof', 'clients', 'stime-processes', 'cert',
  ],
  flags: ['quick', 'smoke', 'help'],
});
if (flags.has('help')) {
  process.stdout.write(`npm run bench -- [options]
  --quick             under 2 minutes: 2 rounds, 0.8 s per case after 0.3 s warm-up; every
                      resumed case, full ones only for Node tickets, attach-memory and s_server;
                      s_time 1 s against s_server and attach-memory. Default: every case,
                      3 rounds × 5 s after 1 s, s_time 5 s
  --smoke             a handful of cases, 1 round of 0.3 s: checks that everything runs (CI)
  --rounds N          run the case list N times in rotating order, report medians
  --duration S        measured seconds per case (our load client)
  --warmup S          warm-up seconds per case (our load client)
  --stime-seconds S   openssl s_time -time S (whole seconds; it runs S to S + 1 s)
  --concurrency N     concurrent connections per load client process (default 8)
  --clients N         load client processes per case (default 2; 1 for --smoke): one Node client saturates
                      its core before a Node server does; a case whose clients were the limit
                      is flagged client-bound in the table and the JSON
  --stime-processes N openssl s_time processes side by side per s_time case (default 2)
  --cert KIND         server certificate: ecdsa (P-256, default) or rsa (2048)
  --filter REGEX      only cases whose id matches (CONFIG/TLSvX/MODE, s_time:CONFIG/TLSv1.2/MODE)
  --json FILE         write the results (validated against bench/report/schema.ts)
  --chart FILE.svg    write a chart of the results
  --markdown FILE     write the README's performance section (with --chart: embeds it)
  --cpu-prof DIR      V8 CPU profiles of every Node server and client process under DIR
`);
  process.exit(0);
}
const quick = flags.has('quick');
const smoke = flags.has('smoke');
if (quick && smoke) throw new Error('--quick and --smoke exclude each other');
const rounds = numberOption(values, 'rounds', smoke ? 1 : quick ? 2 : 3, { integer: true });
const durationS = numberOption(values, 'duration', smoke ? 0.3 : quick ? 0.8 : 5);
const warmupS = numberOption(values, 'warmup', smoke ? 0.2 : quick ? 0.3 : 1);
const sTimeSeconds = numberOption(values, 'stime-seconds', smoke || quick ? 1 : 5, {
  integer: true,
});
const concurrency = numberOption(values, 'concurrency', 8, { integer: true });
const clients = numberOption(values, 'clients', smoke ? 1 : 2, { integer: true });
const sTimeProcesses = numberOption(values, 'stime-processes', 2, { integer: true });
const certKind = oneOf('cert', values.get('cert') ?? 'ecdsa', CERT_KINDS);
const filter = values.has('filter') ? new RegExp(values.get('filter')!) : undefined;
const jsonFile = values.get('json');
const chartFile = values.get('chart');
const markdownFile = values.get('markdown');
const profileDir = values.get('cpu-prof');

// --- the cases -------------------------------------------------------------------------------------

type ServerConfig = ConfigName | 's_server';

interface RunCase {
  id: string;
  client: ClientKind;
  config: ServerConfig;
  version: TlsVersion;
  mode: Mode;
}

/** The servers s_time drives besides s_server: the anchors of the ratios that need it first. */
const S_TIME_NODE_CONFIGS: readonly ConfigName[] = quick
  ? ['attach-memory']
  : ['attach-memory', 'map', 'node-tickets'];
/**
 * Handshakes each client of a `--smoke` case counts at least (its window stays open past 0.3 s
 * until then): a loaded CI machine once let a case count none, and "resumption happened" needs some.
 */
const SMOKE_MIN_HANDSHAKES = 10;
/** `lookupDeadlineMs` of the servers of a `--smoke` run: far above any scheduling delay. */
const SMOKE_LOOKUP_DEADLINE_MS = 10_000;
/** What `--smoke` runs: one case of each kind, enough for two ratios. */
const SMOKE_CASES = [
  'attach-memory/TLSv1.2/resumed',
  'map/TLSv1.2/resumed',
  'attach-redis-external/TLSv1.3/resumed',
  's_server/TLSv1.2/resumed',
  's_time:s_server/TLSv1.2/resumed',
];

function caseList(): RunCase[] {
  const list: RunCase[] = [];
  const push = (client: ClientKind, config: ServerConfig, version: TlsVersion, mode: Mode) => {
    const id = `${client === 's_time' ? 's_time:' : ''}${config}/${version}/${mode}`;
    list.push({ id, client, config, version, mode });
  };
  // Our client against every configuration of the handshake benchmark (new stores included).
  for (const c of allCases()) push('node', c.config, c.version, c.mode);
  for (const version of VERSIONS) {
    for (const mode of ['resumed', 'full'] as const) {
      push('node', 's_server', version, mode);
      // s_time cannot resume TLS 1.3 (it never reads the tickets): TLS 1.2 only.
      if (version !== 'TLSv1.2') continue;
      for (const config of ['s_server', ...S_TIME_NODE_CONFIGS] as const) {
        push('s_time', config, version, mode);
      }
    }
  }
  // Report order: TLS version, mode, client (ours first), then as listed.
  const rank = (c: RunCase) =>
    VERSIONS.indexOf(c.version) * 100 + MODES.indexOf(c.mode) * 10 + (c.client === 'node' ? 0 : 1);
  return list
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i)
    .map(({ c }) => c);
}

/**
 * What `--quick` keeps: every resumed case (all stores), and full handshakes only for the servers
 * whose resumed ÷ full ratio is reported as a target or an anchor; not the diagnostic
 * `attach-memory-no-reader`.
 */
const QUICK_FULL_CONFIGS: readonly string[] = ['node-tickets', 'attach-memory', 's_server'];
const inQuick = (c: RunCase): boolean =>
  c.config !== 'attach-memory-no-reader' &&
  (c.mode !== 'full' || QUICK_FULL_CONFIGS.includes(c.config));

let cases = caseList();
if (smoke) cases = cases.filter((c) => SMOKE_CASES.includes(c.id));
if (quick) cases = cases.filter(inQuick);
if (filter !== undefined) cases = cases.filter((c) => filter.test(c.id));
if (cases.length === 0) throw new Error(`--filter ${String(filter)} matches no case`);

/** How a configuration is named in the table and the chart. */
function describe(config: string): { server: string; store: string; label: string } {
  switch (config) {
    case 'node-tickets':
      return { server: 'node', store: 'stateless tickets', label: 'Node tickets' };
    case 'map':
      return { server: 'node', store: 'Map on the events', label: 'bare Map' };
    case 'attach-memory':
      return { server: 'node + attach', store: 'memory', label: 'attach + memory' };
    case 'attach-memory-no-reader':
      return {
        server: 'node + attach, no hello reader',
        store: 'memory',
        label: 'attach + memory, no reader',
      };
    case 's_server':
      return { server: 'openssl s_server', store: 'internal cache', label: 's_server' };
    case 'attach-tickets':
      return { server: 'node + attach, tickets mode', store: 'memory', label: 'tickets + memory' };
    case 'attach-tickets-sqlite':
      return { server: 'node + attach, tickets mode', store: 'sqlite', label: 'tickets + sqlite' };
  }
  const store = /^attach-(.+)$/.exec(config)?.[1];
  if (store !== undefined) return { server: 'node + attach', store, label: `attach + ${store}` };
  return { server: 'node', store: config, label: config };
}

// --- running them ------------------------------------------------------------------------------------

interface Measured {
  sample: Sample;
  sTime?: STimeResult;
}

async function runCase(c: RunCase, round: number, certDir: string): Promise<Measured> {
  const name = `${c.id.replace(':', '-')}-r${round + 1}`;
  const start = () =>
    c.config === 's_server'
      ? startSServer({ certDir, version: c.version })
      : startNodeServer({
          config: c.config,
          version: c.version,
          certDir,
          execArgv: profileArgs(profileDir, `server-${name}`),
          // --smoke is a functional check ("every configuration resumes") run by CI on loaded
          // machines, where a store answer can come later than the 50 ms production deadline
          // and turn resumptions into full handshakes; measurements keep the default.
          ...(smoke ? { lookupDeadlineMs: SMOKE_LOOKUP_DEADLINE_MS } : {}),
        });
  return withServer(start, async (server) => {
    if (c.client === 's_time') {
      return driveWithSTime(server, {
        version: c.version,
        resumed: c.mode !== 'full',
        seconds: sTimeSeconds,
        processes: sTimeProcesses,
      });
    }
    const sample = await driveWithClient(server, {
      version: c.version,
      mode: c.mode,
      certDir,
      concurrency,
      clients,
      warmupS,
      durationS,
      ...(smoke ? { minHandshakes: SMOKE_MIN_HANDSHAKES } : {}),
      ...(c.config === 's_server' ? { httpGet: S_SERVER_PATH } : {}),
      execArgv: profileArgs(profileDir, `client-${name}`),
      label: c.id,
    });
    return { sample };
  });
}

const loadBefore = loadavg()[0]!;
const started = Date.now();
const cert = generateCert(certKind);
const measured = new Map<string, Measured[]>(cases.map((c) => [c.id, []]));
const failures: string[] = [];
const progress = caseProgress(cases.length * rounds);
try {
  for (let round = 0; round < rounds; round++) {
    for (const c of rotated(cases, round, rounds)) {
      const label = `round ${round + 1}/${rounds} ${c.id}`;
      progress.starting(label);
      let m: Measured;
      try {
        m = await runCase(c, round, cert.dir);
      } catch (error) {
        // One configuration that cannot run here (a missing server binary, say) must not cost
        // the others their numbers: it is reported, and the exit code says so.
        const message = error instanceof Error ? error.message : String(error);
        failures.push(`${label}: ${message}`);
        progress.finished(label, `FAILED: ${message}`);
        continue;
      }
      measured.get(c.id)!.push(m);
      progress.finished(
        label,
        `${Math.round(m.sample.handshakesPerSecond)} hs/s, ` +
          `${(m.sample.resumedFraction * 100).toFixed(0)}% resumed`,
      );
    }
  }
} finally {
  progress.stop();
  removeCert(cert);
}
const loadAfter = loadavg()[0]!;

// --- the result ----------------------------------------------------------------------------------------

const orNull = (n: number): number | null => (Number.isFinite(n) ? n : null);

function caseResult(c: RunCase): CaseResult {
  const list = measured.get(c.id)!;
  const samples = list.map((m) => m.sample);
  const med = medians(samples);
  const rates = samples.map((s) => s.handshakesPerSecond);
  const perRound: SampleResult[] = list.map(({ sample: s, sTime }) => ({
    handshakesPerSec: s.handshakesPerSecond,
    resumedFraction: s.resumedFraction,
    p50Ms: orNull(s.p50Ms),
    p99Ms: orNull(s.p99Ms),
    serverCpuUsPerHandshake: s.serverCpuUs,
    errors: s.errors,
    clientBound: s.clientBound,
    ...(sTime === undefined
      ? {}
      : {
          sTime: {
            connections: sTime.connections,
            resumed: sTime.resumed,
            full: sTime.full,
            connectionsPerUserSec: sTime.connectionsPerUserSec,
            realSeconds: sTime.realSeconds,
            wallSeconds: sTime.wallSeconds,
          },
        }),
  }));
  return {
    id: c.id,
    client: c.client,
    config: c.config,
    ...describe(c.config),
    tls: c.version === 'TLSv1.2' ? '1.2' : '1.3',
    mode: c.mode === 'full' ? 'full' : 'resumed',
    ticketReuse: c.mode === 'resumed-reuse',
    handshakesPerSec: med.handshakesPerSecond,
    p50Ms: orNull(med.p50Ms),
    p99Ms: orNull(med.p99Ms),
    resumedFraction: med.resumedFraction,
    clientP50Ms: orNull(med.clientP50Ms),
    serverCpuUsPerHandshake: med.serverCpuUs,
    clientCpuUsPerHandshake: orNull(med.clientCpuUs),
    serverElu: orNull(med.serverElu),
    clientElu: orNull(med.clientElu),
    serverCpuShare: orNull(med.serverCpuShare),
    clientCpuShare: orNull(med.clientCpuShare),
    clients: samples[0]?.clients ?? 1,
    clientBound: samples.filter((s) => s.clientBound).length * 2 > samples.length,
    errors: med.errors,
    rounds: samples.length,
    spread: spread(samples),
    minHandshakesPerSec: Math.min(...rates),
    maxHandshakesPerSec: Math.max(...rates),
    samples: perRound,
  };
}

const caseResults = cases.filter((c) => measured.get(c.id)!.length > 0).map(caseResult);
if (caseResults.length === 0) throw new Error(`every case failed:\n  ${failures.join('\n  ')}`);
const notes = [
  "handshakes/s: completed handshakes per second of the client's window (our client: " +
    `${concurrency} concurrent connections in one Node process; s_time: one connection at a time, ` +
    'count over the wall time of the s_time process). resumed: the share the client saw resumed ' +
    "(isSessionReused(); s_time's r characters), measured, not assumed.",
  'server p50/p99: from TCP accept to secureConnection inside the Node server; — for s_server, ' +
    'which is not instrumented. server CPU µs/hs: CPU time of the server process over the ' +
    'window (process.cpuUsage(); /proc/PID/stat for s_server) per handshake.',
  'On 2 cores our Node load client saturates its core before most servers do (client ELU near 1): ' +
    'handshakes/s is then what one Node client can drive, and "server capacity" (the inverse ratio ' +
    'of server CPU per handshake) is the fairer comparison of the servers.',
  's_time cannot resume TLS 1.3 (it closes before reading the tickets; its -reuse resumes 0 %), ' +
    'so there is no s_time anchor for TLS 1.3; s_server TLS 1.3 (stateful tickets, -no_ticket) is ' +
    'driven by our client only.',
  's_time is a different client from ours (C, one connection at a time, closes without ' +
    'close_notify, no SNI): compare s_server with our servers within one client. Rows marked ' +
    'with s_time are an anchor; the mixed-client ratio is the one the issue quoted. Against a Node ' +
    "server s_time's abrupt close turns the server's one-byte reply into an ECONNRESET per " +
    'connection (the errors column): expected, and it costs the Node server an Error per handshake.',
  's_server (-WWW -no_ticket, internal cache of 128 sessions) serves one connection at a time and ' +
    'answers our client\'s "GET /x" with a 2-byte file before closing; our Node servers write one ' +
    'byte and close.',
  `Targets (issue 6): memory ≥ ${TARGETS.memoryVsMap} × Map, ≥ ${TARGETS.memoryVsTickets} × Node ` +
    `tickets, ≥ ${TARGETS.memoryVsSServer} × s_server (TLS 1.2 resumed); TLS 1.3 stateful ≥ ` +
    `${TARGETS.tls13StatefulVsStateless} × stateless; resumed ≥ ${TARGETS.resumedVsFull} × full; ` +
    `SQLite ≥ ${TARGETS.sqliteVsMemory} ×, Redis ≥ ${TARGETS.redisVsMemory} × memory. ` +
    `Issue 14: tickets mode ≥ ${TARGETS.ticketsVsNodeTickets} × Node tickets in server capacity.`,
];
if (failures.length > 0) notes.push(`FAILED (left out or fewer rounds): ${failures.join('; ')}`);
const cpuList = cpus();
const result: BenchResult = {
  meta: {
    date: new Date().toISOString(),
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
    node: process.version,
    nodeOpenssl: process.versions.openssl,
    opensslCli: opensslVersion(),
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? '',
    platform: `${platform()} ${release()}`,
    rounds,
    durationS,
    warmupS,
    sTimeSeconds,
    concurrency,
    clients,
    sTimeProcesses,
    cert: certKind,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAfter,
    elapsedS: (Date.now() - started) / 1000,
  },
  notes,
  cases: caseResults,
  ratios: computeRatios(caseResults),
};

console.log(`\n${renderReport(result)}`);

const problems = validate(benchResultSchema, result);
if (problems.length > 0) {
  throw new Error(`the result does not match its schema:\n  ${problems.join('\n  ')}`);
}
if (jsonFile !== undefined) {
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
}
if (chartFile !== undefined) {
  mkdirSync(dirname(chartFile), { recursive: true });
  writeFileSync(chartFile, renderChart(result));
}
if (markdownFile !== undefined) {
  const chart = chartFile === undefined ? 'CHART.svg' : relative(dirname(markdownFile), chartFile);
  mkdirSync(dirname(markdownFile), { recursive: true });
  writeFileSync(markdownFile, `${renderReadmeSection(result, chart.split(sep).join('/'))}\n`);
}
if (failures.length > 0) {
  process.stderr.write(`${failures.length} case run(s) failed:\n  ${failures.join('\n  ')}\n`);
  process.exitCode = 1;
}
