/**
 * The result of `npm run bench`, as written by `--json FILE` (after validation against
 * {@link benchResultSchema} in `schema.ts`) and read by the table and chart writers.
 *
 * Numbers are medians over the rounds; a metric that a case cannot measure is `null` (for example
 * the server-side latency of `openssl s_server`, which is not instrumented).
 *
 * @module
 */

/** Which load client drove a case. */
export type ClientKind = 'node' | 's_time';

/** One round of one case. */
export interface SampleResult {
  handshakesPerSec: number;
  resumedFraction: number;
  p50Ms: number | null;
  p99Ms: number | null;
  serverCpuUsPerHandshake: number;
  errors: number;
  /** The load client, not the server, was the limit in this round (see `CaseResult.clientBound`). */
  clientBound?: boolean;
  /** The raw `openssl s_time` figures, for the cases it drove. */
  sTime?: {
    connections: number;
    resumed: number;
    full: number;
    connectionsPerUserSec: number;
    realSeconds: number;
    wallSeconds: number;
  };
}

/** One case: a load client, a server configuration, a TLS version and a mode. */
export interface CaseResult {
  /** `CONFIG/TLSvX/MODE` for our client, `s_time:CONFIG/TLSvX/MODE` for s_time. */
  id: string;
  client: ClientKind;
  /** The server configuration: a `server.ts` config name, or `s_server`. */
  config: string;
  /** The server software, e.g. `node`, `node + attach`, `openssl s_server`. */
  server: string;
  /** Where sessions live, e.g. `stateless tickets`, `Map`, `memory`, `internal cache`. */
  store: string;
  /** A short name for charts. */
  label: string;
  tls: '1.2' | '1.3';
  mode: 'resumed' | 'full';
  /**
   * TLS 1.3 resumed only: the client offers its newest ticket again when it has no unused one
   * (`resumed-reuse` in bench/handshake), instead of using every ticket once.
   */
  ticketReuse: boolean;
  handshakesPerSec: number;
  /** Server-side handshake latency (TCP accept → secureConnection), median of the rounds' p50. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** The share of handshakes that resumed, as the client saw it (`isSessionReused()`, s_time `r`). */
  resumedFraction: number;
  /** Client-side handshake latency (connect → secureConnect). */
  clientP50Ms: number | null;
  serverCpuUsPerHandshake: number;
  clientCpuUsPerHandshake: number | null;
  /** Event-loop utilization (1 = never idle); `null` for processes without an event loop. */
  serverElu: number | null;
  clientElu: number | null;
  /** Server CPU over the window in cores (1 = one core busy throughout); `null` if unknown. */
  serverCpuShare?: number | null;
  /** All load clients' CPU over the window, in cores. */
  clientCpuShare?: number | null;
  /** Load client processes (or s_time processes) that drove the case. */
  clients?: number;
  /**
   * In most rounds a client, not the server, was the limit (a client's event loop ≥ 90 % busy,
   * or s_time's CPU ≥ 90 % of its wall time, while the server used < 85 % of a core): this case's
   * handshakes/s measures the clients; compare servers by server CPU per handshake instead.
   */
  clientBound?: boolean;
  errors: number;
  rounds: number;
  /** (max − min) / median of handshakes/s over the rounds. */
  spread: number;
  minHandshakesPerSec: number;
  maxHandshakesPerSec: number;
  samples: SampleResult[];
}

/** A ratio of two cases' medians. */
export interface RatioResult {
  name: string;
  /** Ids of the two cases. */
  numerator: string;
  denominator: string;
  /** numerator ÷ denominator handshakes/s. */
  handshakesPerSec: number;
  /**
   * denominator ÷ numerator server CPU per handshake: the handshakes/s ratio the two servers would
   * reach if each had a core to itself (the load client is often the bottleneck on two cores).
   */
  serverCapacity: number;
  /** The target for the handshakes/s ratio (≥), or `null` when there is none. */
  target: number | null;
  /** Whether `handshakesPerSec` meets the target; `null` without a target. */
  met: boolean | null;
  /** Whether `serverCapacity` would meet it; `null` without a target. */
  capacityMet: boolean | null;
  /** How to read it. */
  note: string;
}

export interface BenchMeta {
  date: string;
  command: string;
  node: string;
  /** OpenSSL linked into Node. */
  nodeOpenssl: string;
  /** `openssl version` of the CLI (s_server, s_time). */
  opensslCli: string;
  cpus: number;
  cpuModel: string;
  platform: string;
  rounds: number;
  durationS: number;
  warmupS: number;
  sTimeSeconds: number;
  concurrency: number;
  /** Load client processes per case (our client), and s_time processes per case. */
  clients?: number;
  sTimeProcesses?: number;
  /** The server certificate: `ecdsa` (P-256) or `rsa` (2048). */
  cert?: string;
  loadAverageBefore: number;
  loadAverageAfter: number;
  elapsedS: number;
}

export interface BenchResult {
  meta: BenchMeta;
  notes: string[];
  cases: CaseResult[];
  ratios: RatioResult[];
}
