import { idKey } from '../common/id-key.js';
import { SessionCacheError } from '../common/errors.js';
import { ExpiryHeap, type HeapItem } from '../cache/expiry-heap.js';
import { MAX_STORED_SESSION_BYTES } from '../session/stored-record.js';
import { EVERYTHING, RevocationWatchers } from './revocations.js';
import type {
  ListOptions,
  RevocationListener,
  SessionStore,
  StoreStats,
  StoredEntry,
} from './store.js';
import {
  checkBytes,
  checkDeadline,
  checkId,
  checkNamespace,
  checkKnownKeys,
  checkOptions,
  functionOption,
  integerOption,
  isStorableId,
} from '../common/validate.js';
import { checkListOptions, matchesList } from './list-options.js';

/** Default of {@link MemoryStoreOptions.maxEntries}: OpenSSL's internal cache size. */
export const DEFAULT_MEMORY_MAX_ENTRIES = 20_480;
/** Default of {@link MemoryStoreOptions.maxBytes}: 64 MiB. */
export const DEFAULT_MEMORY_MAX_BYTES = 64 * 1024 * 1024;
/**
 * Default `maxValueBytes` of the stores in this package: the largest envelope a session can make
 * ({@link MAX_STORED_SESSION_BYTES}) rounded up to a KiB, so that every session fits.
 */
export const DEFAULT_MAX_VALUE_BYTES = Math.ceil(MAX_STORED_SESSION_BYTES / 1024) * 1024;
/** Default of {@link MemoryStoreOptions.sweepIntervalMs}: one minute. */
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most entries kept. Adding to a full store evicts the entry that expires soonest (the oldest
   * among equals), expired ones first.
   * @default 20480
   */
  maxEntries?: number;
  /**
   * Most bytes of values kept (per-entry overhead, about 200 bytes, is bounded by `maxEntries`).
   * Evicts like `maxEntries`.
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * The largest value accepted, in bytes; at most `maxBytes`.
   * @default 68608 (67 KiB: any session's envelope fits)
   */
  maxValueBytes?: number;
  /**
   * How often a timer (unref'd: it never keeps the process alive) drops expired entries, in ms;
   * `0` for no timer. Expired entries are also dropped whenever they are looked up, and evicted
   * first when the store is full.
   * @default 60000
   */
  sweepIntervalMs?: number;
  /**
   * The clock, in ms since the epoch. Inject one in tests.
   * @default Date.now
   */
  clock?: () => number;
}

/** Every key of {@link MemoryStoreOptions}, for the unknown-key check. */
const MEMORY_STORE_OPTION_KEYS: Readonly<Record<keyof MemoryStoreOptions, true>> = {
  maxEntries: true,
  maxBytes: true,
  maxValueBytes: true,
  sweepIntervalMs: true,
  clock: true,
};

interface Entry extends HeapItem {
  readonly key: string;
  readonly namespace: string;
  readonly id: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * The embedded store: sessions in this process's memory, bounded by count and by bytes, answering
 * synchronously (no promise on the handshake path). Shared by nothing but the caches of this
 * process, and gone when it exits: use {@link SqliteStore} or a Redis store to share sessions
 * between processes or keep them across restarts.
 *
 * Values are copied in and out, so neither the caller nor the store can change the other's bytes.
 */
export class MemoryStore implements SessionStore {
  /** `"memory"`. */
  readonly kind = 'memory';
  /** See {@link MemoryStoreOptions.maxValueBytes}. */
  readonly maxValueBytes: number;
  /** See {@link MemoryStoreOptions.maxEntries}. */
  readonly maxEntries: number;
  /** See {@link MemoryStoreOptions.maxBytes}. */
  readonly maxBytes: number;

  readonly #entries = new Map<string, Entry>();
  readonly #heap = new ExpiryHeap<Entry>();
  readonly #clock: () => number;
  readonly #timer: NodeJS.Timeout | undefined;
  #bytes = 0;
  #seq = 0;
  #evictions = 0;
  #closed = false;
  readonly #watchers = new RevocationWatchers();

  /**
   * @param options - see {@link MemoryStoreOptions}; invalid values throw a `TypeError` or
   * `RangeError` naming the option.
   */
  constructor(options: MemoryStoreOptions = {}) {
    const opts = checkOptions(options);
    checkKnownKeys('MemoryStore', opts, MEMORY_STORE_OPTION_KEYS);
    this.maxEntries = integerOption('maxEntries', opts.maxEntries, DEFAULT_MEMORY_MAX_ENTRIES, 1);
    this.maxBytes = integerOption('maxBytes', opts.maxBytes, DEFAULT_MEMORY_MAX_BYTES, 1);
    this.maxValueBytes = integerOption(
      'maxValueBytes',
      opts.maxValueBytes,
      Math.min(DEFAULT_MAX_VALUE_BYTES, this.maxBytes),
      1,
      this.maxBytes,
    );
    const sweepIntervalMs = integerOption(
      'sweepIntervalMs',
      opts.sweepIntervalMs,
      DEFAULT_SWEEP_INTERVAL_MS,
      0,
      2 ** 31 - 1,
    );
    this.#clock = functionOption('clock', opts.clock) ?? Date.now;
    if (sweepIntervalMs > 0) {
      this.#timer = setInterval(() => this.sweep(), sweepIntervalMs);
      // The store is a cache: it must never be the reason a process stays alive.
      this.#timer.unref();
    }
  }

  /** Entries evicted because the store was full, since it was made. */
  get evictions(): number {
    return this.#evictions;
  }

  /** See {@link SessionStore.set}. */
  set(namespace: string, id: Uint8Array, value: Uint8Array, expiresAtMs: number): boolean {
    checkNamespace(namespace);
    checkId(id);
    checkBytes('value', value);
    checkDeadline(expiresAtMs);
    this.#checkOpen();
    // Refused before anything changes: a refused set leaves what was there.
    if (value.byteLength > this.maxValueBytes || expiresAtMs <= this.#clock()) return false;
    const key = entryKey(namespace, id);
    const existing = this.#entries.get(key);
    if (existing !== undefined) this.#remove(existing);
    const entry: Entry = {
      key,
      namespace,
      id: Uint8Array.prototype.slice.call(id),
      value: Uint8Array.prototype.slice.call(value),
      expiresAtMs,
      seq: this.#seq++,
      index: -1,
    };
    this.#entries.set(key, entry);
    this.#heap.push(entry);
    this.#bytes += value.byteLength;
    // Expired entries are at the top of the heap, so they go before any live one.
    while (this.#entries.size > this.maxEntries || this.#bytes > this.maxBytes) {
      const victim = this.#heap.peek()!;
      if (victim.expiresAtMs > this.#clock()) this.#evictions++;
      this.#remove(victim);
    }
    return entry.index !== -1;
  }

  /**
   * See {@link SessionStore.setIfAbsent}. One process, one thread: checking and storing in one
   * synchronous call is atomic. An expired entry counts as absent and is replaced.
   */
  setIfAbsent(namespace: string, id: Uint8Array, value: Uint8Array, expiresAtMs: number): boolean {
    checkNamespace(namespace);
    checkId(id);
    checkBytes('value', value);
    checkDeadline(expiresAtMs);
    if (this.#live(namespace, id) !== undefined) return false;
    return this.set(namespace, id, value, expiresAtMs);
  }

  /** See {@link SessionStore.get}. */
  get(namespace: string, id: Uint8Array): Uint8Array | undefined {
    const entry = this.#live(namespace, id);
    return entry === undefined ? undefined : entry.value.slice();
  }

  /** See {@link SessionStore.take}. */
  take(namespace: string, id: Uint8Array): Uint8Array | undefined {
    const entry = this.#live(namespace, id);
    if (entry === undefined) return undefined;
    this.#remove(entry);
    // No copy: the store no longer holds it.
    return entry.value;
  }

  /**
   * See {@link SessionStore.delete}. Watchers are told at once, before it returns, whether or not
   * the entry was there (a cache of this process may still hold a copy).
   */
  delete(namespace: string, id: Uint8Array): boolean {
    const entry = this.#live(namespace, id);
    if (entry !== undefined) this.#remove(entry);
    if (isStorableId(id) && this.#watchers.size > 0) this.#watchers.announce({ namespace, id });
    return entry !== undefined;
  }

  /** See {@link SessionStore.list}. A snapshot: changes while iterating do not show. */
  async *list(options: ListOptions = {}): AsyncGenerator<StoredEntry> {
    const filters = checkListOptions(options);
    this.#checkOpen();
    const nowMs = this.#clock();
    const found: StoredEntry[] = [];
    for (const entry of this.#entries.values()) {
      if (found.length >= filters.limit) break;
      if (entry.expiresAtMs <= nowMs || !matchesList(filters, entry.namespace, entry.expiresAtMs)) {
        continue;
      }
      found.push({
        namespace: entry.namespace,
        id: entry.id.slice(),
        expiresAtMs: entry.expiresAtMs,
        size: entry.value.byteLength,
        ...(filters.withValues ? { value: entry.value.slice() } : {}),
      });
    }
    yield* found;
  }

  /** See {@link SessionStore.clear}. @returns how many live entries were deleted. */
  clear(namespace?: string): number {
    if (namespace !== undefined) checkNamespace(namespace);
    this.#checkOpen();
    const nowMs = this.#clock();
    let live = 0;
    for (const entry of [...this.#entries.values()]) {
      if (namespace !== undefined && entry.namespace !== namespace) continue;
      if (entry.expiresAtMs > nowMs) live++;
      this.#remove(entry);
    }
    if (this.#watchers.size > 0) {
      this.#watchers.announce(namespace === undefined ? EVERYTHING : { namespace });
    }
    return live;
  }

  /**
   * See {@link SessionStore.watchRevocations}. The store lives in one process, so every `delete`
   * and `clear` is reported synchronously, before it returns: no delay at all.
   */
  watchRevocations(listener: RevocationListener): () => void {
    this.#checkOpen();
    return this.#watchers.add(listener);
  }

  /** See {@link SessionStore.stats}. Counts expired entries not yet swept. */
  stats(): StoreStats {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  /**
   * Drops every entry that has expired at `nowMs`; the timer calls it every `sweepIntervalMs`.
   * @returns how many were dropped.
   */
  sweep(nowMs: number = this.#clock()): number {
    let removed = 0;
    for (let top = this.#heap.peek(); top !== undefined && top.expiresAtMs <= nowMs;) {
      this.#remove(top);
      removed++;
      top = this.#heap.peek();
    }
    return removed;
  }

  /** In-process: always `ready` until closed (see {@link SessionStore.state}). */
  state(): 'ready' | 'closed' {
    return this.#closed ? 'closed' : 'ready';
  }

  /** Drops every entry and stops the timer. Idempotent; any other call afterwards throws. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#entries.clear();
    this.#heap.clear();
    this.#bytes = 0;
    this.#watchers.clear();
  }

  /** The live entry of a key, dropping it if it has expired. */
  #live(namespace: string, id: Uint8Array): Entry | undefined {
    checkNamespace(namespace);
    if (!isStorableId(id)) return undefined;
    this.#checkOpen();
    const entry = this.#entries.get(entryKey(namespace, id));
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= this.#clock()) {
      this.#remove(entry);
      return undefined;
    }
    return entry;
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.key);
    this.#heap.remove(entry);
    this.#bytes -= entry.value.byteLength;
  }

  #checkOpen(): void {
    if (this.#closed) throw new SessionCacheError('ERR_STORE_CLOSED', 'MemoryStore is closed');
  }
}

/**
 * The map key: namespace, NUL, the id's bytes as latin1 (one UTF-16 unit per byte, so distinct ids
 * never collide). Namespaces never contain NUL (checked), so the first NUL ends the namespace.
 */
function entryKey(namespace: string, id: Uint8Array): string {
  return `${namespace}\u0000${idKey(id)}`;
}
