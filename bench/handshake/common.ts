/**
 * What the handshake benchmark's three processes share: the server configurations, the case list,
 * the messages they exchange over IPC, and small helpers (argv parsing, latency summaries).
 *
 * Processes: `run.ts` (orchestrator, mostly idle) forks `server.ts` (one configuration per process,
 * so that every case starts from an empty cache and a fresh heap) and `client.ts` (the load). On a
 * 2-core machine the server and the client then each get a core; an in-process client would share
 * the server's event loop and make every configuration look the same.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';

/** The server configurations, as `server.ts --config NAME` knows them. */
export const CONFIGS = [
  'node-tickets',
  'map',
  'attach-memory',
  'attach-memory-no-reader',
  'attach-memorystore',
  'attach-sqlite',
  'attach-sqlite-external',
  'attach-redis',
  'attach-redis-external',
  'attach-tickets',
  'attach-tickets-sqlite',
] as const;
export type ConfigName = (typeof CONFIGS)[number];

/** One line each for `--help` and the report. */
export const CONFIG_DESCRIPTIONS: Record<ConfigName, string> = {
  'node-tickets': "tls.createServer with Node's defaults: stateless tickets, no cache",
  map: 'statefulServerOptions() + a bare Map on newSession/resumeSession (TLS 1.2 only)',
  'attach-memory':
    "openSessionCache({ internalCache: true }): the engine's internal cache alone, no store",
  'attach-memory-no-reader':
    'the same with readClientHello: false (TLS 1.2 only): isolates the reader',
  'attach-memorystore':
    'openSessionCache() with a MemoryStore as the only cache (internal cache off): `serve --store memory`',
  'attach-sqlite':
    'openSessionCache() with the internal cache in front of a SqliteStore on a fresh file: `serve --store sqlite:FILE`',
  'attach-sqlite-external':
    'the same with the internal cache off: every lookup reads SQLite (a cluster whose reconnects land elsewhere)',
  'attach-redis':
    'openSessionCache() with the internal cache in front of a RedisStore (a local redis-server): `serve --store redis://…`',
  'attach-redis-external':
    'the same with the internal cache off: every lookup is a Redis round trip (a fleet whose reconnects land elsewhere)',
  'attach-tickets':
    "openSessionCache({ mode: 'tickets' }): stateless tickets under shared rotating keys, single use, memory store",
  'attach-tickets-sqlite':
    'the same with the ticket keys (sealed) and TLS 1.2 session ids in a SqliteStore on a fresh file',
};

export const VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof VERSIONS)[number];

/**
 * - `resumed`: offer a session on every connection after the first; a TLS 1.3 ticket is offered
 *   once only (RFC 8446 §C.4; browsers do so), so a connection offers none when the pool is empty;
 * - `resumed-reuse` (TLS 1.3, `node-tickets` only): the same, but when no unused ticket is left the
 *   newest one is offered again, as Node's `https.Agent` does (it keeps the last session it got).
 *   Needed because Node's stateless-ticket server sends NO new ticket on a resumed TLS 1.3
 *   handshake, so under single use only two of three handshakes can resume; a stateful server sends
 *   one per resumption, its pool never runs dry and this mode would equal `resumed`;
 * - `full`: never offer a session.
 */
export const MODES = ['resumed', 'resumed-reuse', 'full'] as const;
export type Mode = (typeof MODES)[number];

/**
 * Versions a configuration can resume. A bare `Map` never resumes TLS 1.3 (Node hands
 * `resumeSession` the random legacy session id, not the PSK identity; see SPEC.md), and without the
 * ClientHello reader `attach()` cannot either, so their TLS 1.3 rows would only repeat the
 * `full` numbers under a misleading name: they are left out, in both modes.
 */
export const CONFIG_VERSIONS: Record<ConfigName, readonly TlsVersion[]> = {
  'node-tickets': VERSIONS,
  map: ['TLSv1.2'],
  'attach-memory': VERSIONS,
  'attach-memory-no-reader': ['TLSv1.2'],
  'attach-memorystore': VERSIONS,
  'attach-sqlite': VERSIONS,
  'attach-sqlite-external': VERSIONS,
  'attach-redis': VERSIONS,
  'attach-redis-external': VERSIONS,
  'attach-tickets': VERSIONS,
  'attach-tickets-sqlite': VERSIONS,
};

export interface BenchCase {
  config: ConfigName;
  version: TlsVersion;
  mode: Mode;
}

export const caseId = (c: BenchCase): string => `${c.config}/${c.version}/${c.mode}`;

/** Every possible case, in the order the report lists them. */
export function allCases(): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const version of VERSIONS) {
    for (const mode of MODES) {
      for (const config of CONFIGS) {
        if (!CONFIG_VERSIONS[config].includes(version)) continue;
        if (mode === 'resumed-reuse' && (version !== 'TLSv1.3' || config !== 'node-tickets')) {
          continue;
        }
        cases.push({ config, version, mode });
      }
    }
  }
  return cases;
}

/** A server using this share of a core (or more) is the bottleneck of its case. */
export const SERVER_SATURATED = 0.85;
/** A client whose event loop is busy this share of the window (or more) cannot drive more. */
export const CLIENT_SATURATED = 0.9;

// --- IPC ------------------------------------------------------------------------------------------

/** Orchestrator → server. */
export type ServerCommand =
  /** Start a measurement window: clear the histogram and counters, take CPU/ELU baselines. */
  | { type: 'reset' }
  /** Send a {@link ServerReport} of the window so far. */
  | { type: 'report' }
  /** Close the server and exit (normally, so that `--cpu-prof` gets written). */
  | { type: 'stop' };

/** Percentiles of a latency histogram, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Server → orchestrator, answering `report`. */
export interface ServerReport {
  type: 'report';
  /** Handshakes completed (`secureConnection`) in the window. */
  handshakes: number;
  /** Of those, how many the server saw resumed (cross-checks the client's count). */
  resumed: number;
  /** `tlsClientError`s and socket errors in the window. */
  errors: number;
  /** Raw TCP `connection` → `secureConnection`, per handshake. */
  latency: LatencySummary;
  /** Server process CPU time (user + system) per completed handshake, in µs. */
  cpuUsPerHandshake: number;
  /** Event-loop utilization over the window (1 = the server's thread never waited). */
  elu: number;
  /** `attachment.stats()` and `cache.stats()` for the attach configurations. */
  attachStats?: unknown;
  cacheStats?: unknown;
  /** Entries in the hand-written Map (the `map` configuration). */
  mapSize?: number;
}

/** Client → orchestrator. */
export type ClientMessage = { type: 'window-start' } | { type: 'window-end' } | ClientResult;

/** What the load client measured in its window. */
export interface ClientResult {
  type: 'result';
  /** Handshakes completed (`secureConnect`) inside the window. */
  handshakes: number;
  /** Of those, how many `isSessionReused()` said were resumed. */
  resumed: number;
  /** Connections that failed (any error) inside the window. */
  errors: number;
  /** Connections that offered a session (so `resumed / offered` is the server's hit rate). */
  offered: number;
  windowSeconds: number;
  handshakesPerSecond: number;
  resumedFraction: number;
  /** Client-side `tls.connect()` → `secureConnect`, per handshake. */
  latency: LatencySummary;
  /** Client process CPU time per completed handshake, in µs. */
  cpuUsPerHandshake: number;
  /** Client event-loop utilization over the window: near 1 means the client was the bottleneck. */
  elu: number;
  /** First error messages seen, for diagnosis. */
  sampleErrors: string[];
}

// --- helpers ---------------------------------------------------------------------------------------

/** A latency histogram in µs (integers): 1 µs to 60 s at 3 significant digits. */
export function latencyHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** Records the time since `startMs` (a `performance.now()` reading) in µs. */
export function recordSince(histogram: hdr.Histogram, startMs: number): void {
  const us = Math.round((performance.now() - startMs) * 1000);
  histogram.recordValue(Math.min(Math.max(us, 1), 60_000_000));
}

export function summarize(histogram: hdr.Histogram): LatencySummary {
  const ms = (us: number): number => us / 1000;
  return {
    count: histogram.totalCount,
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p90Ms: ms(histogram.getValueAtPercentile(90)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
    maxMs: ms(histogram.maxValue),
  };
}

/** CPU time (user + system) in µs since `since`, a `process.cpuUsage()` reading. */
export function cpuMicrosSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

/**
 * A tiny `--name value` / `--flag` parser: the scripts are run by hand too, and a dependency for
 * six options is not worth it. Unknown options are an error, so that a typo does not silently
 * measure the default.
 */
export function parseArgs(
  argv: readonly string[],
  spec: { values: readonly string[]; flags: readonly string[] },
): { values: Map<string, string>; flags: Set<string> } {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.replace(/^--/, '');
    if (arg.startsWith('--') && spec.flags.includes(name)) {
      flags.add(name);
    } else if (arg.startsWith('--') && spec.values.includes(name)) {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      values.set(name, value);
    } else {
      throw new Error(`unknown argument ${arg}`);
    }
  }
  return { values, flags };
}

/** A positive number from an option, or the default. */
export function numberOption(
  values: Map<string, string>,
  name: string,
  fallback: number,
  { integer = false } = {},
): number {
  const raw = values.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}`);
  }
  return n;
}

export function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T {
  if (value === undefined || !(allowed as readonly string[]).includes(value)) {
    throw new Error(`--${name} must be one of ${allowed.join(', ')}; got ${String(value)}`);
  }
  return value as T;
}

/** Accepts `1.2`, `TLSv1.2`, `tls1.2`, … */
export function parseVersion(value: string | undefined): TlsVersion {
  const normalized = value === undefined ? undefined : `TLSv${value.replace(/^tlsv?/i, '')}`;
  return oneOf('tls', normalized, VERSIONS);
}
