/**
 * `tls-session-cache/metrics`: the cache's statistics as Prometheus metrics, through prom-client
 * (an optional peer dependency: `npm install prom-client`). Its own entry so that prom-client's
 * types reach only the programs that import it; the main entry never names prom-client.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { SessionCache, SqliteStore, attach, storeCallbacks } from 'tls-session-cache';
 * import { createMetrics, StoreLatencyRecorder } from 'tls-session-cache/metrics';
 *
 * const storeLatency = new StoreLatencyRecorder(); // optional: times the store's calls
 * const adapter = storeCallbacks(storeLatency.wrap(await SqliteStore.open({ path: 'sessions.db' })));
 * const cache = new SessionCache({ ...adapter.callbacks });
 * const registry = new Registry();
 * createMetrics({ cache, attachment: attach(server, cache), adapter, storeLatency, registry });
 * // GET /metrics: res.end(await registry.metrics())
 * ```
 *
 * @packageDocumentation
 */
export {
  createMetrics,
  DEFAULT_METRICS_PREFIX,
  type CreateMetricsOptions,
  type MetricsAdapterSource,
  type MetricsAttachmentSource,
  type MetricsCacheSource,
  type SessionCacheMetrics,
} from './create-metrics.js';
export {
  DEFAULT_STORE_LATENCY_BUCKETS,
  StoreLatencyRecorder,
  TIMED_STORE_OPERATIONS,
  type LatencyHistogram,
  type StoreLatencyOptions,
  type TimedStoreOperation,
} from './store-latency.js';
