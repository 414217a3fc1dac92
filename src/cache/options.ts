import type {
  GetSessionCallback,
  NewSessionCallback,
  RemoveSessionCallback,
  SessionCacheMode,
} from './types.js';

/** OpenSSL's default internal cache size (`SSL_SESSION_CACHE_MAX_SIZE_DEFAULT`). */
export const DEFAULT_CACHE_SIZE = 20_480;
/** Default session lifetime in seconds: Node's `sessionTimeout` default (OpenSSL's own is 7200). */
export const DEFAULT_SESSION_TIMEOUT = 300;
/** Default deadline in milliseconds for an asynchronous get callback. */
export const DEFAULT_LOOKUP_DEADLINE_MS = 50;
/** OpenSSL flushes expired sessions every 255 completed handshakes unless auto-clear is off. */
export const AUTO_CLEAR_INTERVAL = 255;

/**
 * Options of a {@link SessionCache}. Every option can also be changed later through the cache's
 * setters, as OpenSSL's `SSL_CTX_sess_set_*` functions allow.
 */
export interface SessionCacheOptions {
  /**
   * Most sessions kept in the internal cache (`SSL_CTX_sess_set_cache_size`); `0` means unbounded. When a session is added to a
   * full cache, the session that expires soonest is evicted (counted in `cacheFull`).
   * @default 20480
   */
  cacheSize?: number;
  /**
   * Lifetime in seconds for sessions that carry no timeout of their own.
   * @default 300
   */
  timeout?: number;
  /**
   * Which sessions the internal cache keeps (OpenSSL's `SSL_CTX_set_session_cache_mode`).
   * @default 'server'
   */
  mode?: SessionCacheMode;
  /**
   * Never look sessions up in the internal cache; ask only the get callback
   * (`SSL_SESS_CACHE_NO_INTERNAL_LOOKUP`).
   * @default false
   */
  noInternalLookup?: boolean;
  /**
   * Never store sessions in the internal cache; only the new callback sees them
   * (`SSL_SESS_CACHE_NO_INTERNAL_STORE`).
   * @default false
   */
  noInternalStore?: boolean;
  /**
   * Do not flush expired sessions every 255 completed handshakes (`SSL_SESS_CACHE_NO_AUTO_CLEAR`);
   * call `flush()` yourself.
   * @default false
   */
  noAutoClear?: boolean;
  /**
   * Count a session's timeout from its last use in this cache (when added, and on every hit)
   * rather than from its creation (`SSL_SESS_CACHE_UPDATE_TIME`, extended to hits).
   * @default false
   */
  updateTime?: boolean;
  /**
   * Deadline in milliseconds for an asynchronous get callback; a later answer is a miss
   * (`getTimeouts`). Node cannot be answered with an error, so a slow store must become a miss.
   * @default 50
   */
  lookupDeadlineMs?: number;
  /** The new-session callback; see {@link NewSessionCallback}. */
  onNew?: NewSessionCallback | undefined;
  /** The remove-session callback; see {@link RemoveSessionCallback}. */
  onRemove?: RemoveSessionCallback | undefined;
  /** The get-session callback (the external cache); see {@link GetSessionCallback}. */
  onGet?: GetSessionCallback | undefined;
  /**
   * Where an exception thrown by a callback goes after it has been caught and counted in
   * `callbackErrors`. The default emits one process warning per cache.
   */
  onCallbackError?: ((error: unknown, callback: 'new' | 'remove' | 'get') => void) | undefined;
  /**
   * The clock, in milliseconds since the epoch. Inject one in tests.
   * @default Date.now
   */
  clock?: () => number;
}

/** The four cache modes, in the order OpenSSL's flags combine. */
export const SESSION_CACHE_MODES: readonly SessionCacheMode[] = ['off', 'server', 'client', 'both'];

/** Every key of {@link SessionCacheOptions}, for the unknown-key check. */
export const SESSION_CACHE_OPTION_KEYS: Readonly<Record<keyof SessionCacheOptions, true>> = {
  cacheSize: true,
  timeout: true,
  mode: true,
  noInternalLookup: true,
  noInternalStore: true,
  noAutoClear: true,
  updateTime: true,
  lookupDeadlineMs: true,
  onNew: true,
  onRemove: true,
  onGet: true,
  onCallbackError: true,
  clock: true,
};

/**
 * Largest {@link SessionCacheOptions.cacheSize}: OpenSSL's `long` on every 32-bit platform, and far
 * beyond what memory holds.
 */
export const MAX_CACHE_SIZE = 4_294_967_295;
