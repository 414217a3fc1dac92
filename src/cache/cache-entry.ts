import type { CachedSession, LookupResult } from './types.js';

/**
 * One internal-cache entry. It is also the lookup answer for a hit (`{ session, source:
 * 'internal' }`), so that a hit allocates nothing and an entry costs one object, not two: its
 * bookkeeping lives in private fields, which neither callers, `Object.keys`, spreads nor equality
 * matchers see. Frozen, as the answer used to be: a caller cannot swap the session of an entry.
 */
export class CacheEntry implements LookupResult {
  readonly session: CachedSession;
  readonly source = 'internal' as const;
  /** The map key: namespace and binary-safe id (see `entryKey`). */
  readonly #key: string;
  /** Effective creation time in ms (the session's own time, or the last use with `updateTime`). */
  #timeMs: number;
  /** The first instant, in ms, at which the session is no longer valid. */
  #expiresAtMs: number;
  /** Insertion order, for ties: among entries expiring together the oldest goes first. */
  readonly #seq: number;
  /** Position in the expiry heap; -1 when not in it. */
  #index = -1;

  constructor(key: string, session: CachedSession, timeMs: number, timeoutMs: number, seq: number) {
    this.session = session;
    this.#key = key;
    this.#timeMs = timeMs;
    this.#expiresAtMs = timeMs + timeoutMs;
    this.#seq = seq;
    Object.freeze(this);
  }

  /** The entry's map key. */
  static key(entry: CacheEntry): string {
    return entry.#key;
  }

  /** When the entry's session stops being valid, in ms. */
  static expiresAtMs(entry: CacheEntry): number {
    return entry.#expiresAtMs;
  }

  /** Whether the session is valid at `nowMs`: not before its time, and before its expiry. */
  static isValidAt(entry: CacheEntry, nowMs: number): boolean {
    return entry.#timeMs <= nowMs && nowMs < entry.#expiresAtMs;
  }

  /**
   * Restarts the entry's lifetime at `nowMs` (`updateTime`). The lifetime is kept as the difference
   * of the two instants rather than in a field of its own: exact for whole milliseconds, which is
   * what sessions (whole seconds) and clocks (`Date.now`) produce.
   */
  static restart(entry: CacheEntry, nowMs: number): void {
    const timeoutMs = entry.#expiresAtMs - entry.#timeMs;
    entry.#timeMs = nowMs;
    entry.#expiresAtMs = nowMs + timeoutMs;
  }

  /** Heap order: sooner expiry first, then insertion order. */
  static #less(a: CacheEntry, b: CacheEntry): boolean {
    return (
      a.#expiresAtMs < b.#expiresAtMs || (a.#expiresAtMs === b.#expiresAtMs && a.#seq < b.#seq)
    );
  }

  /**
   * A binary min-heap of entries with positions, so that any entry can be removed in O(log n): the
   * eviction and expiry order (soonest expiry first, the oldest among equals). Nested here because
   * it keeps its positions in the entries' private fields.
   */
  static readonly Heap = class EntryHeap {
    #items: CacheEntry[] = [];

    /** How many entries it holds. */
    get size(): number {
      return this.#items.length;
    }

    /** The entry that expires first (the oldest among equals), or `undefined`. */
    peek(): CacheEntry | undefined {
      return this.#items[0];
    }

    /** Adds an entry that is not in the heap. */
    push(entry: CacheEntry): void {
      entry.#index = this.#items.length;
      this.#items.push(entry);
      this.#up(entry.#index);
    }

    /** Removes an entry that is in the heap. */
    remove(entry: CacheEntry): void {
      const items = this.#items;
      const i = entry.#index;
      const last = items.pop()!;
      entry.#index = -1;
      if (last === entry) return;
      items[i] = last;
      last.#index = i;
      this.#down(i);
      this.#up(last.#index);
    }

    /** Re-positions an entry whose expiry changed. */
    update(entry: CacheEntry): void {
      this.#down(entry.#index);
      this.#up(entry.#index);
    }

    /** The entries in order, soonest first (a sorted copy: O(n log n), for listing). */
    sorted(): CacheEntry[] {
      return [...this.#items].sort((a, b) =>
        CacheEntry.#less(a, b) ? -1 : CacheEntry.#less(b, a) ? 1 : 0,
      );
    }

    /** Removes every entry. */
    clear(): void {
      for (const entry of this.#items) entry.#index = -1;
      this.#items = [];
    }

    #up(i: number): void {
      const items = this.#items;
      const entry = items[i]!;
      while (i > 0) {
        const parentIndex = (i - 1) >> 1;
        const parent = items[parentIndex]!;
        if (!CacheEntry.#less(entry, parent)) break;
        items[i] = parent;
        parent.#index = i;
        i = parentIndex;
      }
      items[i] = entry;
      entry.#index = i;
    }

    #down(i: number): void {
      const items = this.#items;
      const n = items.length;
      const entry = items[i]!;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && CacheEntry.#less(items[right]!, items[left]!) ? right : left;
        const smallest = items[child]!;
        if (!CacheEntry.#less(smallest, entry)) break;
        items[i] = smallest;
        smallest.#index = i;
        i = child;
      }
      items[i] = entry;
      entry.#index = i;
    }
  };
}
