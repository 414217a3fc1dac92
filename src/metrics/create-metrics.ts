// The cache's statistics as Prometheus metrics, through prom-client, in a registry of the user's.
// Nothing is counted twice: the cache, the attachment and the store adapter already keep their
// counters, so every metric here reads them when Prometheus scrapes (prom-client's `collect`), and
// a handshake costs not one prom-client call. Only store latency is recorded per call, by a
// StoreLatencyRecorder that wraps the store (see store-latency.ts).
import type { SessionCacheStats } from '../cache/stats.js';
import type { AttachmentStats } from '../node/attachment-stats.js';
import type { StoreAdapterStats } from '../stores/cache-adapter.js';
import { loadPromClient, type PromClientModule } from './prom-client.js';
import {
  TIMED_STORE_OPERATIONS,
  type LatencyHistogram,
  type StoreLatencyRecorder,
} from './store-latency.js';
import type { Registry } from 'prom-client';

/** What {@link createMetrics} reads a cache through: `SessionCache` has it. */
export interface MetricsCacheSource {
  /** The cache's counters now (OpenSSL's `SSL_CTX_sess_*` statistics); read at every scrape. */
  stats(): SessionCacheStats;
}

/** What {@link createMetrics} reads an attachment through: `attach()`'s result has it. */
export interface MetricsAttachmentSource {
  /** The attachment's counters now; read at every scrape. */
  stats(): AttachmentStats;
}

/** What {@link createMetrics} reads a store adapter through: `storeCallbacks()`'s result has it. */
export interface MetricsAdapterSource {
  /** The adapter's counters now; read at every scrape. */
  stats(): StoreAdapterStats;
}

/** Options of {@link createMetrics}. */
export interface CreateMetricsOptions {
  /** The cache whose statistics (OpenSSL's counters and ours) are exported. */
  cache: MetricsCacheSource;
  /** The Node wiring (`attach()`'s result): connections, resumed handshakes, rejections. */
  attachment?: MetricsAttachmentSource | undefined;
  /** The store adapter (`storeCallbacks()`'s result): writes, reads, errors, dropped writes. */
  adapter?: MetricsAdapterSource | undefined;
  /** Store latency, recorded by a {@link StoreLatencyRecorder} that wraps the store. */
  storeLatency?: StoreLatencyRecorder | undefined;
  /**
   * The prom-client registry to register the metrics on.
   * @default prom-client's global registry (`register`)
   */
  registry?: Registry | undefined;
  /**
   * Prefix of every metric name.
   * @default 'tls_session_cache_'
   */
  prefix?: string | undefined;
}

/** The metrics made by {@link createMetrics}. */
export interface SessionCacheMetrics {
  /** The registry they are registered on. */
  readonly registry: Registry;
  /** Their names, e.g. `tls_session_cache_hits_total`. */
  readonly names: readonly string[];
  /** Removes them from the registry (e.g. when the server stops). Idempotent. */
  remove(): void;
}

/** Default of {@link CreateMetricsOptions.prefix}. */
export const DEFAULT_METRICS_PREFIX = 'tls_session_cache_';

type Labels = Record<string, string>;
/** One sample: labels and value; a metric reads a list of them at scrape time. */
type Sample = readonly [labels: Labels, value: number];

interface MetricSpec {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  labelNames?: readonly string[];
  read: () => readonly Sample[];
}

const one = (value: number): readonly Sample[] => [[{}, value]];

const CACHE_COUNTERS: readonly [keyof SessionCacheStats, string, string][] = [
  ['accept', 'accept_total', 'Server handshakes started (OpenSSL sess_accept).'],
  ['acceptGood', 'accept_good_total', 'Server handshakes completed (OpenSSL sess_accept_good).'],
  [
    'acceptRenegotiate',
    'accept_renegotiate_total',
    'Server renegotiations started (OpenSSL sess_accept_renegotiate).',
  ],
  ['connect', 'connect_total', 'Client handshakes started (OpenSSL sess_connect).'],
  ['connectGood', 'connect_good_total', 'Client handshakes completed (OpenSSL sess_connect_good).'],
  [
    'connectRenegotiate',
    'connect_renegotiate_total',
    'Client renegotiations started (OpenSSL sess_connect_renegotiate).',
  ],
  [
    'hits',
    'hits_total',
    'Sessions found and accepted for resumption, internal or external (OpenSSL sess_hits).',
  ],
  ['cbHits', 'cb_hits_total', 'Of the hits, those found through the store (OpenSSL sess_cb_hits).'],
  [
    'misses',
    'misses_total',
    'Lookups the internal cache could not answer, even if the store then did (OpenSSL sess_misses).',
  ],
  ['timeouts', 'timeouts_total', 'Sessions found but expired (OpenSSL sess_timeouts).'],
  [
    'cacheFull',
    'cache_full_total',
    'Sessions evicted because the internal cache was full (OpenSSL sess_cache_full).',
  ],
  ['lookups', 'lookups_total', 'Resumption attempts; hit rate = hits_total / lookups_total.'],
  ['getMisses', 'get_misses_total', 'Store lookups that found nothing.'],
  ['getErrors', 'get_errors_total', 'Store lookups that failed (answered as misses).'],
  [
    'getTimeouts',
    'get_timeouts_total',
    'Store lookups that did not answer within the lookup deadline (answered as misses).',
  ],
  ['rejected', 'rejected_total', 'Sessions found but refused by the acceptance checks.'],
  ['callbackErrors', 'callback_errors_total', 'Exceptions thrown by the new/remove callbacks.'],
];

const ATTACHMENT_COUNTERS: readonly [keyof AttachmentStats, string, string][] = [
  ['connections', 'connections_total', 'TCP connections accepted.'],
  ['handshakes', 'handshakes_total', 'TLS handshakes completed.'],
  ['helloParsed', 'hello_parsed_total', 'ClientHellos read and parsed before Node saw them.'],
  [
    'helloMerged',
    'hello_merged_total',
    'ClientHellos that spanned several TLS records, merged into one.',
  ],
  [
    'helloPassthrough',
    'hello_passthrough_total',
    'Connections handed to Node untouched: not TLS, not a valid ClientHello, too big or too slow.',
  ],
  ['helloClosed', 'hello_closed_total', 'Connections closed before a complete ClientHello.'],
  [
    'tls13NoLegacySessionId',
    'tls13_no_legacy_session_id_total',
    'TLS 1.3 ClientHellos offering a session without a legacy session id (cannot resume statefully).',
  ],
  [
    'decodeErrors',
    'session_decode_errors_total',
    "Sessions from Node's newSession that could not be decoded (not cached).",
  ],
  [
    'badSessionsRemoved',
    'bad_sessions_removed_total',
    'Sessions removed because their connection ended in a fatal TLS error.',
  ],
];

type AdapterCounter = Exclude<keyof StoreAdapterStats, 'breakerState' | 'storeState'>;

const ADAPTER_COUNTERS: readonly [AdapterCounter, string, string][] = [
  ['writes', 'store_writes_total', 'Store writes (set) issued.'],
  [
    'notStored',
    'store_not_stored_total',
    'Store writes refused: deadline passed, too large, full.',
  ],
  [
    'droppedWrites',
    'store_dropped_writes_total',
    'Sessions not written because too many writes were pending (or the adapter was closed).',
  ],
  [
    'writeErrors',
    'store_write_errors_total',
    'Store writes that failed, and unencodable sessions.',
  ],
  ['deletes', 'store_deletes_total', 'Store deletes issued (revoked or bad sessions).'],
  [
    'droppedDeletes',
    'store_dropped_deletes_total',
    'Store deletes not issued because too many writes were pending.',
  ],
  ['deleteErrors', 'store_delete_errors_total', 'Store deletes that failed.'],
  ['reads', 'store_reads_total', 'Store reads (get or take) issued.'],
  ['found', 'store_found_total', 'Store reads that found a session which decoded.'],
  ['readErrors', 'store_read_errors_total', 'Store reads that failed (answered as misses).'],
  [
    'decodeErrors',
    'store_decode_errors_total',
    'Stored values that did not decode: corrupt, for another key, wrong codec or newer format.',
  ],
  [
    'readTimeouts',
    'store_read_timeouts_total',
    'Store reads not settled within readTimeoutMs (the cache answered a miss meanwhile).',
  ],
  [
    'writeTimeouts',
    'store_write_timeouts_total',
    'Store writes and deletes not settled within writeTimeoutMs (their slot was given back).',
  ],
  [
    'breakerOpens',
    'store_breaker_opens_total',
    'Times the store circuit breaker opened (store calls then skipped: misses, dropped writes).',
  ],
  [
    'breakerRejectedReads',
    'store_breaker_rejected_reads_total',
    'Lookups answered with a miss at once because the circuit breaker was open.',
  ],
  ['revocations', 'store_revocations_total', 'Revocation reports received from the store.'],
  [
    'revokedSessions',
    'store_revoked_sessions_total',
    "Sessions dropped from this process's memory because another process revoked them.",
  ],
  [
    'staleReads',
    'store_stale_reads_total',
    'Store reads answered after a revocation covering them was reported (answered as a miss).',
  ],
];

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
const STORE_STATES = ['connecting', 'ready', 'degraded', 'closed'] as const;

/**
 * Registers Prometheus metrics for a cache (and optionally its attachment, store adapter and store
 * latency) on a prom-client registry. Values are read from the sources when the registry is
 * scraped; the handshake path is not touched. `prom-client` is an optional peer dependency.
 *
 * Metric names (with the default prefix `tls_session_cache_`): the cache's `sessions` (gauge) and
 * OpenSSL's counters `accept_total`, `accept_good_total`, `hits_total`, `cb_hits_total`,
 * `misses_total`, `timeouts_total`, `cache_full_total`, …, `lookups_total`, `get_errors_total`,
 * `get_timeouts_total`; the attachment's `connections_total`, `handshakes_total`,
 * `resumed_handshakes_total{protocol}`, `sessions_rejected_total{reason}`, …; the adapter's
 * `store_writes_total`, `store_dropped_writes_total`, `store_read_errors_total`, …,
 * `store_in_flight`, `store_state{state}` (1 for `degraded` while the store cannot reach its
 * server) and, with a circuit breaker, `store_breaker_state{state}` and
 * `store_breaker_opens_total`; and `store_operation_duration_seconds{operation}` (histogram).
 * The README's "Operating" section lists them all.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * createMetrics({ cache, attachment, adapter, registry });
 * // in the /metrics handler: res.end(await registry.metrics());
 * ```
 * @throws Error naming the fix when prom-client is not installed; TypeError/RangeError naming the
 * option for invalid options; prom-client's error when a name is already registered.
 */
export function createMetrics(options: CreateMetricsOptions): SessionCacheMetrics {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options must be an object');
  }
  const { cache, attachment, adapter, storeLatency } = options;
  checkSource('cache', cache, false);
  checkSource('attachment', attachment, true);
  checkSource('adapter', adapter, true);
  if (storeLatency !== undefined && typeof storeLatency?.snapshot !== 'function') {
    throw new TypeError('storeLatency must be a StoreLatencyRecorder');
  }
  const prefix = options.prefix ?? DEFAULT_METRICS_PREFIX;
  if (typeof prefix !== 'string' || !/^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new RangeError(
      'prefix must be a valid Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)',
    );
  }
  const client = loadPromClient();
  const registry = options.registry ?? client.register;
  if (typeof registry?.registerMetric !== 'function') {
    throw new TypeError('registry must be a prom-client Registry');
  }

  const specs: MetricSpec[] = [
    {
      name: 'sessions',
      help: 'Sessions in the internal cache now (OpenSSL SSL_CTX_sess_number).',
      type: 'gauge',
      read: () => one(cache.stats().number),
    },
    ...CACHE_COUNTERS.map(([key, name, help]): MetricSpec => ({
      name,
      help,
      type: 'counter',
      read: () => one(cache.stats()[key]),
    })),
  ];
  if (attachment !== undefined) specs.push(...attachmentSpecs(attachment));
  if (adapter !== undefined) specs.push(...adapterSpecs(adapter));

  const made: string[] = [];
  try {
    for (const spec of specs) made.push(register(client, registry, prefix, spec));
    if (storeLatency !== undefined) {
      made.push(registerLatency(registry, prefix, storeLatency));
    }
  } catch (error) {
    for (const name of made) registry.removeSingleMetric(name);
    throw error;
  }
  let removed = false;
  return Object.freeze({
    registry,
    names: Object.freeze([...made]),
    remove: () => {
      if (removed) return;
      removed = true;
      for (const name of made) registry.removeSingleMetric(name);
    },
  });
}

function attachmentSpecs(attachment: MetricsAttachmentSource): MetricSpec[] {
  return [
    ...ATTACHMENT_COUNTERS.map(([key, name, help]): MetricSpec => ({
      name,
      help,
      type: 'counter',
      read: () => one(attachment.stats()[key]),
    })),
    {
      name: 'resumed_handshakes_total',
      help: 'Handshakes that resumed a session, by protocol (TLSv1.2 counts TLS 1.2 and earlier).',
      type: 'counter',
      labelNames: ['protocol'],
      read: () => {
        const s = attachment.stats();
        return [
          [{ protocol: 'TLSv1.2' }, s.resumed - s.resumedTls13],
          [{ protocol: 'TLSv1.3' }, s.resumedTls13],
        ];
      },
    },
    {
      name: 'sessions_rejected_total',
      help: 'Sessions found for a lookup but refused by the wiring, by check (other: wrong id, expired, future).',
      type: 'counter',
      labelNames: ['reason'],
      read: () => {
        const s = attachment.stats();
        const known =
          s.rejectedProtocol +
          s.rejectedSessionIdContext +
          s.rejectedHostName +
          s.rejectedExtendedMasterSecret;
        return [
          [{ reason: 'protocol' }, s.rejectedProtocol],
          [{ reason: 'session-id-context' }, s.rejectedSessionIdContext],
          [{ reason: 'host-name' }, s.rejectedHostName],
          [{ reason: 'extended-master-secret' }, s.rejectedExtendedMasterSecret],
          [{ reason: 'other' }, Math.max(0, s.rejected - known)],
        ];
      },
    },
  ];
}

function adapterSpecs(adapter: MetricsAdapterSource): MetricSpec[] {
  const specs: MetricSpec[] = [
    ...ADAPTER_COUNTERS.map(([key, name, help]): MetricSpec => ({
      name,
      help,
      type: 'counter',
      read: () => one(adapter.stats()[key]),
    })),
    {
      name: 'store_in_flight',
      help: 'Store writes and deletes pending now.',
      type: 'gauge',
      read: () => one(adapter.stats().inFlight),
    },
  ];
  specs.push({
    name: 'store_breaker_state',
    help: "The store circuit breaker's state: 1 for the current one (closed, open, half-open; none when disabled).",
    type: 'gauge',
    labelNames: ['state'],
    read: () => {
      const state = adapter.stats().breakerState;
      return BREAKER_STATES.map((s): Sample => [{ state: s }, state === s ? 1 : 0]);
    },
  });
  specs.push({
    name: 'store_state',
    help: "The store's state: 1 for the current one (connecting, ready, degraded: cannot reach its server, closed).",
    type: 'gauge',
    labelNames: ['state'],
    read: () => {
      const state = adapter.stats().storeState;
      return STORE_STATES.map((s): Sample => [{ state: s }, state === s ? 1 : 0]);
    },
  });
  return specs;
}

/**
 * A prom-client Counter/Gauge whose value is read from `spec.read()` at scrape time.
 * @returns its name
 */
function register(
  client: PromClientModule,
  registry: Registry,
  prefix: string,
  spec: MetricSpec,
): string {
  const name = prefix + spec.name;
  const config = {
    name,
    help: spec.help,
    labelNames: [...(spec.labelNames ?? [])],
    registers: [registry],
  };
  if (spec.type === 'counter') {
    new client.Counter({
      ...config,
      collect() {
        // A counter cannot be set: emptied, then raised to the source's value.
        this.reset();
        for (const [labels, value] of spec.read()) this.inc(labels, Math.max(0, value));
      },
    });
  } else {
    new client.Gauge({
      ...config,
      collect() {
        for (const [labels, value] of spec.read()) this.set(labels, value);
      },
    });
  }
  return name;
}

/**
 * The latency histogram, read from the recorder at scrape time. prom-client's Histogram can only
 * be fed one observation at a time, so this is a metric object of our own with the shape the
 * registry reads (`name`, `help`, `type`, `get()`), registered with `registerMetric`.
 * @returns its name
 */
function registerLatency(
  registry: Registry,
  prefix: string,
  recorder: StoreLatencyRecorder,
): string {
  const name = `${prefix}store_operation_duration_seconds`;
  const help =
    'Time taken by store calls on the handshake path (get, take, set, delete), in seconds.';
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    labelNames: ['operation'],
    get: async () => {
      const snapshot = recorder.snapshot();
      const values = TIMED_STORE_OPERATIONS.flatMap((operation) =>
        histogramSamples(name, operation, snapshot[operation]),
      );
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
    // registry.resetMetrics() resets every metric; the recorder keeps counting regardless.
    reset: () => undefined,
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  return name;
}

function histogramSamples(name: string, operation: string, h: LatencyHistogram) {
  const samples: { metricName: string; labels: Record<string, string | number>; value: number }[] =
    [];
  let cumulative = 0;
  h.buckets.forEach((bound, i) => {
    cumulative += h.counts[i] ?? 0;
    samples.push({
      metricName: `${name}_bucket`,
      labels: { operation, le: bound },
      value: cumulative,
    });
  });
  samples.push({
    metricName: `${name}_bucket`,
    labels: { operation, le: '+Inf' },
    value: h.count,
  });
  samples.push({ metricName: `${name}_sum`, labels: { operation }, value: h.sum });
  samples.push({ metricName: `${name}_count`, labels: { operation }, value: h.count });
  return samples;
}

function checkSource(name: string, source: unknown, optional: boolean): void {
  if (source === undefined && optional) return;
  if (typeof (source as { stats?: unknown } | null)?.stats !== 'function') {
    throw new TypeError(`${name} must have a stats() method`);
  }
}
