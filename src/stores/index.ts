// The stores' public surface, for src/index.ts to re-export (`export * from './stores/index.js'`).
// The Redis store adds its own line here.
export type { ListOptions, MaybePromise, SessionStore, StoreStats, StoredEntry } from './store.js';
export {
  MemoryStore,
  DEFAULT_MEMORY_MAX_BYTES,
  DEFAULT_MEMORY_MAX_ENTRIES,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_SWEEP_INTERVAL_MS,
  type MemoryStoreOptions,
} from './memory-store.js';
export {
  SqliteStore,
  DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
  DEFAULT_SQLITE_MAX_ENTRIES,
  SQLITE_SCHEMA_VERSION,
  type SqliteStoreOptions,
} from './sqlite-store.js';
export {
  storeCallbacks,
  DEFAULT_MAX_IN_FLIGHT_WRITES,
  DEFAULT_WRITE_TIMEOUT_MS,
  type StoreAdapter,
  type StoreAdapterStats,
  type StoreCallbacks,
  type StoreCallbacksOptions,
  type StoreOperation,
} from './cache-adapter.js';
export {
  encodeStoredSession,
  decodeStoredSession,
  StoredSessionError,
  MAX_STORED_SESSION_BYTES,
  STORED_SESSION_VERSION,
  type StoredSessionCodec,
  type StoredSessionContext,
  type StoredSessionErrorCode,
  type StoredSessionOptions,
} from '../session/stored-record.js';
export { createStore, type CreateStoreOptions } from './from-url.js';
export {
  parseStoreUrl,
  StoreUrlError,
  SUPPORTED_STORES,
  type StoreUrl,
  type MemoryStoreUrl,
  type SqliteStoreUrl,
  type RedisStoreUrl,
  type RedisClusterStoreUrl,
  type RedisSentinelStoreUrl,
} from './store-url.js';
export { MAX_ID_BYTES, MAX_NAMESPACE_BYTES } from '../common/validate.js';
export {
  RedisStore,
  RedisStoreError,
  type RedisStoreErrorCode,
  type RedisStoreErrorReason,
} from './redis-store.js';
// The one error base class and its documented codes (docs/errors.md).
export {
  SessionCacheError,
  hasErrorCode,
  type SessionCacheErrorCode,
  type StoreErrorCode,
} from '../common/errors.js';
export type { RedisStoreOptions, RedisNodeAddress } from './redis-options.js';
// Whether a store can answer now (connecting, ready, degraded, closed), for every store.
export { storeState, type StoreState } from './store-state.js';
// Revocation across processes (watchRevocations, adapter.bind).
export type { Revocation, RevocationListener } from './store.js';
export type { RevocableCache } from './cache-adapter.js';
export { DEFAULT_SQLITE_REVOCATION_POLL_MS } from './sqlite-store.js';
export * from './encryption/index.js';
// The breaker's settings (StoreCallbacksOptions.breaker); the breaker itself is the adapter's.
export {
  CIRCUIT_BREAKER_DEFAULTS,
  type CircuitBreakerOptions,
  type CircuitState,
} from './circuit-breaker.js';
