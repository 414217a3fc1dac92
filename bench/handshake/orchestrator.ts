/**
 * The handshake benchmark's reusable machinery: start a server under test, drive it with the load
 * client (`client.ts`) for a warm-up and a measured window, and collect one {@link Sample}; plus the
 * small statistics the reports share. `run.ts` (`npm run bench:handshake`) and `bench/run.ts`
 * (`npm run bench`, which adds the OpenSSL anchors) are both thin loops over these pieces.
 *
 * A server under test is anything that listens on a port and can say what it did during the
 * client's window ({@link ServerUnderTest}): a forked `server.ts` (one configuration per process,
 * answering over IPC), or a foreign process such as `openssl s_server` (see `bench/anchors/`),
 * whose CPU is read from `/proc` and whose handshakes are counted by the client.
 *
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CLIENT_SATURATED, SERVER_SATURATED } from './common.js';
import type {
  ClientMessage,
  ClientResult,
  ConfigName,
  LatencySummary,
  Mode,
  ServerCommand,
  ServerReport,
  TlsVersion,
} from './common.js';

export const SERVER_SCRIPT = fileURLToPath(new URL('./server.ts', import.meta.url));
export const CLIENT_SCRIPT = fileURLToPath(new URL('./client.ts', import.meta.url));
/** The children run TypeScript through tsx's loader, as `tsx` itself does for the scripts. */
export const TSX_ARGS: readonly string[] = ['--import', import.meta.resolve('tsx')];
/** Startup and drain take far less; past this (plus warm-up and window) a case has hung. */
export const CASE_SLACK_MS = 60_000;

/** What a server did during one measurement window. */
export interface ServerWindow {
  /** Handshakes it completed in the window; `undefined` when it cannot tell (`s_server`). */
  handshakes: number | undefined;
  /** Of those, how many resumed; `undefined` when it cannot tell. */
  resumed: number | undefined;
  /** Errors it saw (`tlsClientError`s, socket errors). */
  errors: number;
  /** Server-side handshake latency; `undefined` when the server is not instrumented. */
  latency: LatencySummary | undefined;
  /** Server process CPU time (user + system) over the window, in µs. */
  cpuMicros: number;
  /** Event-loop utilization; `undefined` for a process without one. */
  elu: number | undefined;
  /** The Node server's full report (cache and attachment statistics), when there is one. */
  report?: ServerReport;
}

/** A listening server that can be asked about a measurement window. */
export interface ServerUnderTest {
  readonly port: number;
  /** The client's warm-up is over: start counting. */
  startWindow(): void;
  /** The client's window closed: what happened since {@link startWindow}. */
  endWindow(): Promise<ServerWindow>;
  /** Stops the server and waits for its process to exit. */
  stop(): Promise<void>;
}

/** One case's numbers from one round. */
export interface Sample {
  handshakesPerSecond: number;
  resumedFraction: number;
  /** Server-side latency; `NaN` when the server is not instrumented. */
  p50Ms: number;
  p99Ms: number;
  /** Client-side latency; `NaN` when the client does not report it. */
  clientP50Ms: number;
  serverCpuUs: number;
  /** `NaN` when the client does not report it. */
  clientCpuUs: number;
  /** `NaN` when the server has no event loop. */
  serverElu: number;
  clientElu: number;
  /** Server CPU over the window, in cores (1 = one core busy all the time); NaN if unknown. */
  serverCpuShare: number;
  /** All load clients' CPU over the window, in cores; NaN if unknown. */
  clientCpuShare: number;
  errors: number;
  /**
   * The client, not the server, was the limit: some client's event loop was busy ≥ 90 % of the
   * window while the server's CPU stayed under {@link SERVER_SATURATED} of a core. Its handshakes/s
   * then says what the clients could drive; only the server-CPU numbers compare servers.
   */
  clientBound: boolean;
  /** Load client processes that drove the case. */
  clients: number;
  client?: ClientResult;
  server?: ServerReport;
}

/** The numeric fields of a {@link Sample}, in the order the reports list them. */
export type Metric = Exclude<keyof Sample, 'client' | 'server' | 'clientBound' | 'clients'>;
export const METRICS: readonly Metric[] = [
  'handshakesPerSecond',
  'resumedFraction',
  'p50Ms',
  'p99Ms',
  'clientP50Ms',
  'serverCpuUs',
  'clientCpuUs',
  'serverElu',
  'clientElu',
  'serverCpuShare',
  'clientCpuShare',
  'errors',
];

// --- processes ---------------------------------------------------------------------------------------

/** Resolves when `child` exits with code 0, rejects otherwise. */
export function exited(child: ChildProcess, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      if (child.exitCode === 0) resolve();
      else reject(new Error(`${name} exited with ${child.signalCode ?? child.exitCode}`));
      return;
    }
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${name} exited with ${signal ?? `code ${String(code)}`}`));
    });
  });
}

/**
 * `--cpu-prof` for a child, one directory per process: tsx's module hooks run on a worker thread,
 * which writes a profile of its own, so a fixed `--cpu-prof-name` would let it overwrite the main
 * thread's. The main thread's file is the one whose name has thread id 0 (`CPU.….PID.0.….cpuprofile`).
 */
export function profileArgs(profileDir: string | undefined, name: string): string[] {
  if (profileDir === undefined) return [];
  return ['--cpu-prof', '--cpu-prof-dir', join(profileDir, name.replaceAll('/', '-'))];
}

/** Waits for the server's `ready PORT` line. */
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

/** Forks `server.ts` with one configuration and waits until it listens. */
export async function startNodeServer(options: {
  config: ConfigName;
  version: TlsVersion;
  certDir: string;
  execArgv?: readonly string[];
  /** The server's `lookupDeadlineMs`; absent: the product default. */
  lookupDeadlineMs?: number;
}): Promise<ServerUnderTest> {
  const args = [
    ...['--config', options.config, '--tls', options.version],
    ...(options.lookupDeadlineMs === undefined
      ? []
      : ['--lookup-deadline', String(options.lookupDeadlineMs)]),
  ];
  const server = fork(SERVER_SCRIPT, [...args, '--cert-dir', options.certDir], {
    execArgv: [...TSX_ARGS, ...(options.execArgv ?? [])],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const serverExit = exited(server, 'server');
  serverExit.catch(() => undefined); // observed in stop(); never an unhandled rejection meanwhile
  let port: number;
  try {
    port = await readyPort(server);
  } catch (error) {
    server.kill();
    throw error;
  }
  return {
    port,
    startWindow: () => server.send({ type: 'reset' } satisfies ServerCommand),
    endWindow: async () => {
      const report = await ask(server, { type: 'report' });
      return {
        handshakes: report.handshakes,
        resumed: report.resumed,
        errors: report.errors,
        latency: report.latency,
        cpuMicros: report.cpuUsPerHandshake * report.handshakes,
        elu: report.elu,
        report,
      };
    },
    stop: async () => {
      if (server.connected) server.send({ type: 'stop' } satisfies ServerCommand);
      else server.kill();
      await serverExit.catch(() => undefined);
    },
  };
}

// --- the load client -----------------------------------------------------------------------------------

export interface ClientOptions {
  version: TlsVersion;
  mode: Mode;
  certDir: string;
  concurrency: number;
  warmupS: number;
  durationS: number;
  /**
   * Each client's window stays open past `durationS` until it has counted this many handshakes
   * (a functional check on a loaded machine must not end with none). @default 0
   */
  minHandshakes?: number;
  /**
   * Load client processes, each with `concurrency` connections: one Node client saturates its own
   * core before a Node server does, so the server is loaded from several (default 1).
   */
  clients?: number;
  /** Ask for this path with an HTTP/1.0 GET after each handshake (for `s_server -WWW`). */
  httpGet?: string;
  execArgv?: readonly string[];
  /** Used in error messages. */
  label: string;
}

/**
 * Runs the load client against `server` for one warm-up and one window and combines both sides'
 * numbers into a {@link Sample}. The server's window follows the client's: it starts counting when
 * the client's warm-up ends and is read when the client's window closes (the IPC hop costs well
 * under 1 ms). Does not stop the server.
 */
export async function driveWithClient(
  server: ServerUnderTest,
  options: ClientOptions,
): Promise<Sample> {
  // prettier-ignore
  const args = [
    '--port', String(server.port), '--tls', options.version, '--mode', options.mode,
    '--cert-dir', options.certDir, '--concurrency', String(options.concurrency),
    '--warmup', String(options.warmupS), '--duration', String(options.durationS),
    ...(options.httpGet === undefined ? [] : ['--http-get', options.httpGet]),
    ...(options.minHandshakes === undefined ? [] : ['--min-handshakes', String(options.minHandshakes)]),
  ];
  const n = options.clients ?? 1;
  // The server's window opens with the first client's and closes with the last client's: every
  // handshake any client counted falls inside it.
  let started = 0;
  let ended = 0;
  let window: Promise<ServerWindow> | undefined;
  const results: ClientResult[] = [];
  const children = Array.from({ length: n }, () => {
    const client = fork(CLIENT_SCRIPT, args, {
      execArgv: [...TSX_ARGS, ...(options.execArgv ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    client.on('message', (message: ClientMessage) => {
      if (message.type === 'window-start') {
        if (started++ === 0) server.startWindow();
      } else if (message.type === 'window-end') {
        if (++ended === n) window = server.endWindow();
      } else {
        results.push(message);
      }
    });
    return client;
  });
  const limitMs = (options.warmupS + options.durationS) * 1000 + CASE_SLACK_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const child of children) child.kill();
      reject(new Error(`${options.label}: no result after ${limitMs} ms`));
    }, limitMs);
  });
  try {
    await Promise.race([Promise.all(children.map((c) => exited(c, 'client'))), timeout]);
  } finally {
    clearTimeout(timer);
  }
  if (results.length !== n || window === undefined) {
    throw new Error(`${options.label}: a client sent no result`);
  }
  const s = await window;
  const sum = (f: (r: ClientResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const clientHandshakes = sum((r) => r.handshakes);
  const handshakes = s.handshakes ?? clientHandshakes;
  const windowSeconds = Math.max(...results.map((r) => r.windowSeconds));
  const clientCpu = sum((r) => r.cpuUsPerHandshake * r.handshakes);
  const clientElu = Math.max(...results.map((r) => r.elu));
  const serverCpuShare = windowSeconds > 0 ? s.cpuMicros / (windowSeconds * 1e6) : NaN;
  return {
    handshakesPerSecond: sum((r) => r.handshakesPerSecond),
    resumedFraction: clientHandshakes === 0 ? 0 : sum((r) => r.resumed) / clientHandshakes,
    p50Ms: s.latency?.p50Ms ?? NaN,
    p99Ms: s.latency?.p99Ms ?? NaN,
    clientP50Ms: median(results.map((r) => r.latency.p50Ms)),
    serverCpuUs: handshakes === 0 ? 0 : s.cpuMicros / handshakes,
    clientCpuUs: clientHandshakes === 0 ? 0 : clientCpu / clientHandshakes,
    serverElu: s.elu ?? NaN,
    clientElu,
    serverCpuShare,
    clientCpuShare: windowSeconds > 0 ? clientCpu / (windowSeconds * 1e6) : NaN,
    errors: sum((r) => r.errors) + s.errors,
    clientBound: clientElu >= CLIENT_SATURATED && !(serverCpuShare >= SERVER_SATURATED),
    clients: n,
    client: results[0]!,
    ...(s.report === undefined ? {} : { server: s.report }),
  };
}

/** Starts a server, drives it, stops it, whatever happens. */
export async function withServer<T>(
  start: () => Promise<ServerUnderTest>,
  body: (server: ServerUnderTest) => Promise<T>,
): Promise<T> {
  const server = await start();
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

// --- statistics ------------------------------------------------------------------------------------------

/** The median; `NaN` for an empty list or one that contains `NaN` (a metric nobody measured). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0 || xs.some(Number.isNaN)) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median of every metric over the rounds. */
export function medians(samples: readonly Sample[]): Record<Metric, number> {
  return Object.fromEntries(METRICS.map((m) => [m, median(samples.map((s) => s[m]))])) as Record<
    Metric,
    number
  >;
}

/** (max − min) / median of handshakes/s over the rounds: how far to trust a difference. */
export function spread(samples: readonly Sample[]): number {
  const rates = samples.map((s) => s.handshakesPerSecond);
  const mid = median(rates);
  return mid > 0 ? (Math.max(...rates) - Math.min(...rates)) / mid : 0;
}

/** Round r starts r/rounds of the way into the list: each case takes a different position. */
export function rotated<T>(list: readonly T[], round: number, rounds: number): T[] {
  const offset = Math.round((round * list.length) / rounds);
  return [...list.slice(offset), ...list.slice(0, offset)];
}
