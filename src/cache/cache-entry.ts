import type { HeapItem } from './expiry-heap.js';
import type { CachedSession, LookupResult } from './types.js';

/** One internal-cache entry; it is also its own item in the expiry heap. */
export interface CacheEntry extends HeapItem {
  /** The map key: namespace and binary-safe id (see `entryKey`). */
  readonly key: string;
  session: CachedSession;
  /** Effective creation time in ms (the session's own time, or the last use with `updateTime`). */
  timeMs: number;
  /** Lifetime in ms. */
  timeoutMs: number;
  /** `timeMs + timeoutMs`: the first instant at which the session is no longer valid. */
  expiresAtMs: number;
  /** The lookup answer for a hit, made once so that the hot path allocates nothing. */
  readonly hit: LookupResult;
}
