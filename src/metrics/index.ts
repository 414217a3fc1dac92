// The metrics' public surface, for src/index.ts to re-export.
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
