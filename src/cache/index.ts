export { SessionCache, type LookupOptions } from './session-cache.js';
export {
  AUTO_CLEAR_INTERVAL,
  DEFAULT_CACHE_SIZE,
  DEFAULT_LOOKUP_DEADLINE_MS,
  DEFAULT_SESSION_TIMEOUT,
  type SessionCacheOptions,
} from './options.js';
export type { SessionCacheStats } from './stats.js';
export type {
  CachedSession,
  GetSessionCallback,
  GetSessionInfo,
  LookupResult,
  NewSessionCallback,
  RemoveReason,
  RemoveSessionCallback,
  SessionCacheMode,
} from './types.js';
