/**
 * The store contract: where sessions live outside the process (OpenSSL's "external cache"), shared
 * by every process and host that should resume each other's sessions. Modelled on rustls'
 * `StoresServerSessions`:
 *
 * - **ids are untrusted input** (they come from the network): a store must accept any byte string
 *   of 1–32 bytes, must not interpret it, and must be binary-safe (never a lossy string encoding);
 * - **values are secrets** (they hold the master secret): a store never logs them and never puts
 *   them in an error message; it treats them as opaque bytes;
 * - a store **may lose entries** (eviction, restart of a memory store, TTL rounding): the cost is a
 *   full handshake, never an error;
 * - but **`take` must reliably delete what it returns**, atomically: of any number of concurrent
 *   `take`s of one id, across processes, at most one gets the value (TLS 1.3 single use);
 * - expiry is **absolute** (`expiresAtMs`, ms since the epoch): a value is never returned at or
 *   after its deadline, and a value whose deadline has already passed is not stored;
 * - every session lives in a **namespace** (tenant and session id context, see `namespaceOf`): the
 *   same id in two namespaces is two entries.
 * - `setIfAbsent` (optional) **stores only where nothing live is stored**, atomically: of any number
 *   of concurrent `setIfAbsent`s of one (namespace, id), across processes, exactly one returns
 *   `true`, and every later `get` returns that one's value until it expires. An entry whose deadline
 *   has passed counts as absent. This is what lets a fleet agree without a leader (the ticket key of
 *   a period, minted by whoever needs it first) and record a first use (TLS 1.3 single use of
 *   stateless tickets). Entries it writes follow the other rules (they may be lost; expiry is
 *   absolute), so what relies on it must treat a lost entry as "absent", never as an error.
 *
 * Methods may answer synchronously or with a promise (`MaybePromise`): an in-process store answers
 * at once and saves the handshake path a promise; a networked one returns promises. A method that
 * fails throws or rejects; the cache turns that into a miss (get/take) or a dropped write (set).
 */
export type MaybePromise<T> = T | Promise<T>;

/** One stored session, as `list` yields it. The value is included only when asked for. */
export interface StoredEntry {
  /** The namespace it belongs to. */
  readonly namespace: string;
  /** Its id. */
  readonly id: Uint8Array;
  /** When it expires, ms since the epoch. */
  readonly expiresAtMs: number;
  /** Size of the stored value in bytes. */
  readonly size: number;
  /** The stored value, only with `ListOptions.withValues`. A secret. */
  readonly value?: Uint8Array;
}

/** Filters of {@link SessionStore.list}. */
export interface ListOptions {
  /** Only this namespace. */
  namespace?: string;
  /** Only namespaces that start with this prefix (e.g. `"tenant/"`). */
  namespacePrefix?: string;
  /** Only entries expiring before this time (ms since the epoch). */
  expiresBeforeMs?: number;
  /** At most this many entries. */
  limit?: number;
  /** Include the values (secrets) in the entries. */
  withValues?: boolean;
}

/** What {@link SessionStore.stats} reports. */
export interface StoreStats {
  /** Entries stored now (live ones; a store may count not-yet-swept expired entries too). */
  entries: number;
  /** Bytes of values stored now. */
  bytes: number;
}

/**
 * A removal that {@link SessionStore.watchRevocations} reports: sessions that must never resume
 * again, in any process. The fields say how much it covers:
 * - `namespace` and `id`: that one session;
 * - `namespace` alone: every session of that namespace (`clear(namespace)`);
 * - neither: every session (`clear()`, or a watcher that may have missed reports).
 *
 * `id` is only ever given together with `namespace`.
 */
export interface Revocation {
  /** The namespace; absent when the report covers every namespace. */
  readonly namespace?: string;
  /** The session id; absent when the report covers a whole namespace (or everything). */
  readonly id?: Uint8Array;
}

/** Told of each {@link Revocation}; see {@link SessionStore.watchRevocations}. */
export type RevocationListener = (revocation: Revocation) => void;

/** The store contract; see the module comment for the rules every store keeps. */
export interface SessionStore {
  /** A short name for logs and metrics, e.g. `"memory"`, `"sqlite"`, `"redis"`. */
  readonly kind: string;
  /** The largest value accepted, in bytes; `set` of a larger one returns `false`. */
  readonly maxValueBytes: number;
  /**
   * Stores `value` under (`namespace`, `id`) until `expiresAtMs`, replacing what was there.
   * @returns `false` when not stored: deadline already passed, value too large, or the store is
   * full and chose not to evict. Never throws for those; throws/rejects for store failures.
   */
  set(
    namespace: string,
    id: Uint8Array,
    value: Uint8Array,
    expiresAtMs: number,
  ): MaybePromise<boolean>;
  /** The live value, or `undefined`. */
  get(namespace: string, id: Uint8Array): MaybePromise<Uint8Array | undefined>;
  /**
   * Stores `value` under (`namespace`, `id`) until `expiresAtMs` **only if no live value is stored
   * there**, atomically across every instance on the same backend (see the module rules). Optional:
   * tickets mode needs it from a shared store.
   * @returns `true` when this call stored the value; `false` when a live value was already there
   * (left unchanged), or for the reasons `set` returns `false` (deadline passed, value too large).
   * Throws/rejects for store failures, like `set`.
   */
  setIfAbsent?(
    namespace: string,
    id: Uint8Array,
    value: Uint8Array,
    expiresAtMs: number,
  ): MaybePromise<boolean>;
  /** Atomically gets and deletes the live value: at most one caller ever receives it. */
  take(namespace: string, id: Uint8Array): MaybePromise<Uint8Array | undefined>;
  /** Deletes; idempotent. @returns whether something was deleted. */
  delete(namespace: string, id: Uint8Array): MaybePromise<boolean>;
  /** Live entries matching the filters, in no particular order. Optional. */
  list?(options?: ListOptions): AsyncIterable<StoredEntry>;
  /** Deletes every entry (of `namespace` when given). @returns how many. Optional. */
  clear?(namespace?: string): MaybePromise<number>;
  /**
   * Tells `listener` of every removal that means "never resume again", made through **any**
   * instance on the same backend (any process or host): every `delete` (whether or not it found
   * the entry: another process may still hold a copy in memory) and every `clear`. This is what
   * lets each process drop its in-memory (internal cache) copies of a revoked session. Optional;
   * a store without it revokes only what it holds itself.
   *
   * Rules for a store that implements it:
   * - **complete**: every `delete`/`clear` that resolved is reported to every watcher, including
   *   the watchers of the instance that made it, within a bound the store documents;
   * - **conservative**: a report may cover more than was removed (a namespace or everything for a
   *   batch of ids) but never less; a watcher that may have missed reports (a dropped
   *   connection, a log that moved on) receives `{}` ("everything"), once it is sure to see what
   *   follows;
   * - `take` (a single-use resumption) and expiry are not revocations and need not be reported;
   * - the listener may be called synchronously from inside `delete`/`clear`; an exception it
   *   throws is caught and ignored.
   *
   * @returns a function that stops the reports to this listener (idempotent); `close()` stops all.
   */
  watchRevocations?(listener: RevocationListener): () => void;
  /**
   * Resolves once the reports of {@link watchRevocations} reach its watchers (a networked store
   * subscribes on a connection of its own, after `watchRevocations` has returned), or once the
   * store's own startup bound has passed. Until then a watcher may be told `{}` when the
   * subscription comes into force, which makes every read in flight a miss: a cache waits for this
   * before its first lookup. Never rejects. Optional: absent means reports are in force as soon as
   * `watchRevocations` returns.
   * @returns whether the reports are in force
   */
  revocationsInForce?(): Promise<boolean>;
  /**
   * Whether the store can answer now (see `StoreState`): an in-process store is always `ready`
   * (and may leave this out); a networked one is `connecting` at first, `degraded` while its
   * server cannot be reached — every call then fails fast, so the cache does full handshakes —
   * and `ready` when it is back, publishing each change on the `storeState` diagnostics channel.
   * Optional: absent means always `ready`.
   */
  state?(): 'connecting' | 'ready' | 'degraded' | 'closed';
  /** Size figures. Optional. */
  stats?(): MaybePromise<StoreStats>;
  /**
   * Releases everything (connections, timers, file handles). Idempotent. Afterwards `set`, `get`,
   * `take` and `delete` fail — throw, or return a rejected promise — with a `SessionCacheError`
   * whose `code` is `ERR_STORE_CLOSED`, the same for every store (docs/errors.md).
   */
  close(): MaybePromise<void>;
}
