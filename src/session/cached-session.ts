/**
 * A session as the cache keeps it: the serialized `SSL_SESSION` plus the few fields the cache needs
 * to decide about it. The cache never parses `data`; whoever builds this object (the Node wiring, a
 * store adapter) decodes the DER once.
 */
export interface CachedSession {
  /** The session id (1–32 bytes for real sessions; the cache accepts any non-empty id). */
  readonly id: Uint8Array;
  /** The serialized session (`i2d_SSL_SESSION` DER), handed back to Node unchanged. A secret. */
  readonly data: Uint8Array;
  /**
   * Creation time in seconds since the epoch (the session's own `time`). When absent the cache uses
   * the time it was added.
   */
  readonly time?: number;
  /**
   * Lifetime in seconds (the session's own `timeout`). When absent the cache's
   * default timeout (`SessionCacheOptions.timeout`) applies.
   */
  readonly timeout?: number;
  /**
   * The isolation context the session belongs to (e.g. tenant and session id context): a lookup
   * finds only sessions of its own namespace, and the same id may exist in several. Must not
   * contain NUL.
   * @default ''
   */
  readonly namespace?: string;
}
