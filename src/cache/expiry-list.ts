import type { CachedSession, LookupResult } from './types.js';

/** One internal-cache entry; it is also its own node in the {@link ExpiryList}. */
export interface CacheEntry {
  /** The binary-safe map key of the id (see `idKey`). */
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
  prev: CacheEntry | undefined;
  next: CacheEntry | undefined;
}

/**
 * The internal cache's entries in order of expiry, soonest first, as OpenSSL 3 keeps its session
 * list: eviction takes the head, `flush` walks from the head and stops at the first live entry.
 * Hand-written because no list library gives O(1) unlink of a known node; insertion walks from the
 * tail, so the common case (a new session outlives every cached one) is O(1).
 */
export class ExpiryList {
  head: CacheEntry | undefined;
  tail: CacheEntry | undefined;

  /** Inserts `entry` after every entry that expires no later than it (FIFO among equals). */
  insert(entry: CacheEntry): void {
    let after = this.tail;
    while (after !== undefined && after.expiresAtMs > entry.expiresAtMs) after = after.prev;
    entry.prev = after;
    entry.next = after === undefined ? this.head : after.next;
    if (entry.next === undefined) this.tail = entry;
    else entry.next.prev = entry;
    if (after === undefined) this.head = entry;
    else after.next = entry;
  }

  /** Unlinks `entry`, which must be in this list. */
  unlink(entry: CacheEntry): void {
    if (entry.prev === undefined) this.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
  }

  /** Drops every entry (their links are left as they are; the entries are garbage). */
  reset(): void {
    this.head = undefined;
    this.tail = undefined;
  }
}
