import { CacheEntry } from './cache-entry.js';
import { entryKey, sameBytes, storedEntryKey } from '../common/id-key.js';
import {
  AUTO_CLEAR_INTERVAL,
  DEFAULT_CACHE_SIZE,
  DEFAULT_LOOKUP_DEADLINE_MS,
  DEFAULT_SESSION_TIMEOUT,
  MAX_CACHE_SIZE,
  SESSION_CACHE_MODES,
  SESSION_CACHE_OPTION_KEYS,
  type SessionCacheOptions,
} from './options.js';
import {
  booleanOption,
  checkInteger,
  checkKnownKeys,
  checkOptions,
  functionOption,
  oneOfOption,
} from '../common/validate.js';
import { emptyStats, type SessionCacheStats } from './stats.js';
import { channels, type MissReason, type RejectReason } from './events.js';
import type {
  CachedSession,
  GetSessionCallback,
  LookupResult,
  NewSessionCallback,
  RemoveReason,
  RemoveSessionCallback,
  SessionCacheMode,
} from './types.js';

/** Options of one server-side lookup. */
export interface LookupOptions {
  /**
   * A TLS 1.3 resumption: the session is taken out of the cache (single use). When a get callback
   * is set, it decides: it is asked even if the internal cache holds the session, and must delete
   * what it returns, so that one session resumes at most once across every process sharing it.
   */
  singleUse?: boolean;
  /**
   * The caller's acceptance check (session id context, tenant, SNI, …), run on a valid session
   * before it counts as a hit. A refused session stays cached (it is valid in its own context) and
   * counts in `rejected`.
   */
  accept?: (session: CachedSession) => boolean;
  /**
   * The namespace to look in (see {@link CachedSession.namespace}).
   * @default ''
   */
  namespace?: string;
}

type Pending =
  | { readonly kind: 'new'; readonly session: CachedSession }
  | {
      readonly kind: 'remove';
      readonly id: Uint8Array;
      readonly reason: RemoveReason;
      readonly session: CachedSession | undefined;
      readonly namespace: string;
    };

const NONE: LookupResult = Object.freeze({ session: undefined, source: 'none' });
const TIMED_OUT = Symbol('timed out');

/**
 * OpenSSL's server-side session cache (the "internal cache" of `SSL_CTX_set_session_cache_mode`)
 * with its new / remove / get callbacks, statistics, timeouts, size bound and modes — the engine
 * that the Node wiring drives. It never parses sessions and never touches the network; it is
 * synchronous except for an asynchronous get callback.
 *
 * Differences from OpenSSL 3.0, on purpose:
 * - a session is valid from its `time` up to but excluding `time + timeout` (OpenSSL 3.0 still
 *   accepts it at exactly `time + timeout`; BoringSSL does not), and never "from the future";
 * - when full, the session that expires soonest is evicted (OpenSSL ≥ 3.2 order), found in an
 *   indexed heap, so that sessions arriving out of expiry order (from another process) cost
 *   O(log n) rather than a walk of the list;
 * - callbacks run after the cache's state is settled and are queued, never nested, so a callback may
 *   call back into the cache; an exception in a callback is caught and counted.
 */
export class SessionCache {
  readonly #entries = new Map<string, CacheEntry>();
  readonly #heap = new CacheEntry.Heap();
  #seq = 0;
  readonly #stats: SessionCacheStats = emptyStats();
  readonly #clock: () => number;
  readonly #onCallbackError: (error: unknown, callback: 'new' | 'remove' | 'get') => void;
  readonly #pending: Pending[] = [];
  #dispatching = false;
  #closed = false;
  #warned = false;

  #cacheSize: number;
  #timeout: number;
  #mode: SessionCacheMode;
  #noInternalLookup: boolean;
  #noInternalStore: boolean;
  #noAutoClear: boolean;
  #updateTime: boolean;
  #lookupDeadlineMs: number;
  #onNew: NewSessionCallback | undefined;
  #onRemove: RemoveSessionCallback | undefined;
  #onGet: GetSessionCallback | undefined;

  /**
   * @param options - see {@link SessionCacheOptions}; invalid values throw a `TypeError` or
   * `RangeError` naming the option.
   */
  constructor(options: SessionCacheOptions = {}) {
    checkOptions(options);
    checkKnownKeys('SessionCache', options, SESSION_CACHE_OPTION_KEYS);
    this.#cacheSize = checkInteger(
      'cacheSize',
      options.cacheSize ?? DEFAULT_CACHE_SIZE,
      0,
      MAX_CACHE_SIZE,
    );
    this.#timeout = checkInteger('timeout', options.timeout ?? DEFAULT_SESSION_TIMEOUT, 0);
    this.#mode = oneOfOption('mode', options.mode ?? 'server', SESSION_CACHE_MODES);
    this.#noInternalLookup = booleanOption('noInternalLookup', options.noInternalLookup);
    this.#noInternalStore = booleanOption('noInternalStore', options.noInternalStore);
    this.#noAutoClear = booleanOption('noAutoClear', options.noAutoClear);
    this.#updateTime = booleanOption('updateTime', options.updateTime);
    this.#lookupDeadlineMs = checkInteger(
      'lookupDeadlineMs',
      options.lookupDeadlineMs ?? DEFAULT_LOOKUP_DEADLINE_MS,
      1,
      60_000,
    );
    this.#onNew = functionOption('onNew', options.onNew);
    this.#onRemove = functionOption('onRemove', options.onRemove);
    this.#onGet = functionOption('onGet', options.onGet);
    this.#onCallbackError =
      functionOption('onCallbackError', options.onCallbackError) ??
      ((error, callback) => this.#warnOnce(error, callback));
    this.#clock = functionOption('clock', options.clock) ?? Date.now;
  }

  // --- configuration: OpenSSL's SSL_CTX_sess_set_* / get_* ---------------------------------------

  /**
   * The size bound (`SSL_CTX_sess_get_cache_size` / `_set_cache_size`); see
   * {@link SessionCacheOptions.cacheSize}. Lowering it evicts the soonest-expiring sessions at once.
   * Setting a non-number throws a `TypeError`, a number that is not an integer from 0 to
   * 4294967295 a `RangeError`.
   */
  get cacheSize(): number {
    return this.#cacheSize;
  }
  set cacheSize(value: number) {
    this.#cacheSize = checkInteger('cacheSize', value, 0, MAX_CACHE_SIZE);
    this.#evictOverflow();
    this.#drain();
  }

  /**
   * The default timeout in seconds (`SSL_CTX_get_timeout` / `SSL_CTX_set_timeout`); see
   * {@link SessionCacheOptions.timeout}. Setting a non-number throws a `TypeError`, a negative or
   * fractional number a `RangeError`.
   */
  get timeout(): number {
    return this.#timeout;
  }
  set timeout(value: number) {
    this.#timeout = checkInteger('timeout', value, 0);
  }

  /**
   * The cache mode (`SSL_CTX_get_session_cache_mode` / `_set_session_cache_mode`); see
   * {@link SessionCacheOptions.mode}. Setting anything but one of the modes throws a `TypeError`.
   */
  get mode(): SessionCacheMode {
    return this.#mode;
  }
  set mode(value: SessionCacheMode) {
    this.#mode = oneOfOption('mode', value, SESSION_CACHE_MODES);
  }

  /**
   * The `SSL_SESS_CACHE_NO_INTERNAL_LOOKUP` mode bit; see {@link SessionCacheOptions.noInternalLookup}.
   * Setting `undefined` turns it off; setting anything else but a boolean throws a `TypeError`.
   */
  get noInternalLookup(): boolean {
    return this.#noInternalLookup;
  }
  set noInternalLookup(value: boolean) {
    this.#noInternalLookup = booleanOption('noInternalLookup', value);
  }

  /**
   * The `SSL_SESS_CACHE_NO_INTERNAL_STORE` mode bit; see {@link SessionCacheOptions.noInternalStore}.
   * Setting `undefined` turns it off; setting anything else but a boolean throws a `TypeError`.
   */
  get noInternalStore(): boolean {
    return this.#noInternalStore;
  }
  set noInternalStore(value: boolean) {
    this.#noInternalStore = booleanOption('noInternalStore', value);
  }

  /**
   * The `SSL_SESS_CACHE_NO_AUTO_CLEAR` mode bit; see {@link SessionCacheOptions.noAutoClear}.
   * Setting `undefined` turns it off; setting anything else but a boolean throws a `TypeError`.
   */
  get noAutoClear(): boolean {
    return this.#noAutoClear;
  }
  set noAutoClear(value: boolean) {
    this.#noAutoClear = booleanOption('noAutoClear', value);
  }

  /**
   * The `SSL_SESS_CACHE_UPDATE_TIME` mode bit; see {@link SessionCacheOptions.updateTime}.
   * Setting `undefined` turns it off; setting anything else but a boolean throws a `TypeError`.
   */
  get updateTime(): boolean {
    return this.#updateTime;
  }
  set updateTime(value: boolean) {
    this.#updateTime = booleanOption('updateTime', value);
  }

  /**
   * The lookup deadline in milliseconds; see {@link SessionCacheOptions.lookupDeadlineMs}. Setting a
   * non-number throws a `TypeError`, a number that is not an integer from 1 to 60000 a `RangeError`.
   */
  get lookupDeadlineMs(): number {
    return this.#lookupDeadlineMs;
  }
  set lookupDeadlineMs(value: number) {
    this.#lookupDeadlineMs = checkInteger('lookupDeadlineMs', value, 1, 60_000);
  }

  /**
   * The new-session callback in force (`SSL_CTX_sess_get_new_cb` / `_set_new_cb`), or `undefined`.
   * Setting anything but a function or `undefined` throws a `TypeError`.
   */
  get onNew(): NewSessionCallback | undefined {
    return this.#onNew;
  }
  set onNew(callback: NewSessionCallback | undefined) {
    this.#onNew = functionOption('onNew', callback);
  }

  /**
   * The remove-session callback in force (`SSL_CTX_sess_get_remove_cb` / `_set_remove_cb`), or
   * `undefined`. Setting anything but a function or `undefined` throws a `TypeError`.
   */
  get onRemove(): RemoveSessionCallback | undefined {
    return this.#onRemove;
  }
  set onRemove(callback: RemoveSessionCallback | undefined) {
    this.#onRemove = functionOption('onRemove', callback);
  }

  /**
   * The get-session callback in force (`SSL_CTX_sess_get_get_cb` / `_set_get_cb`), or `undefined`.
   * Setting anything but a function or `undefined` throws a `TypeError`.
   */
  get onGet(): GetSessionCallback | undefined {
    return this.#onGet;
  }
  set onGet(callback: GetSessionCallback | undefined) {
    this.#onGet = functionOption('onGet', callback);
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  // --- the internal cache: SSL_CTX_add_session / remove_session / flush_sessions -------------------

  /**
   * Adds a session to the internal cache (`SSL_CTX_add_session`), evicting the soonest-expiring
   * session if the cache is full — possibly the new one. Does not call the new callback.
   * @returns `true` if the session was added, `false` if this very session (same id, same bytes) was
   * already cached or the cache is closed.
   */
  add(session: CachedSession): boolean {
    const id = checkSession(session);
    if (this.#closed) return false;
    const added = this.#addInternal(session, id);
    this.#drain();
    return added;
  }

  /**
   * Removes a session (`SSL_CTX_remove_session`): revocation. The remove callback is told even if the
   * internal cache did not hold it, so an external cache can delete it too.
   * @returns whether the internal cache held it.
   */
  remove(id: Uint8Array, namespace = ''): boolean {
    return this.#removeId(id, 'removed', namespace);
  }

  /**
   * Marks the session of a connection that ended in a fatal error as bad and removes it (OpenSSL's
   * `ssl_clear_bad_session`), with reason `bad`.
   * @returns whether the internal cache held it.
   */
  removeBad(id: Uint8Array, namespace = ''): boolean {
    return this.#removeId(id, 'bad', namespace);
  }

  /**
   * Drops this process's copy of a session that was revoked elsewhere (deleted from the shared
   * store by another process or a script), with reason `revoked`: the remove callback is told, but
   * an external cache must not delete again (the store already did). Unlike {@link remove}, nothing
   * is said when the internal cache does not hold it.
   * @returns whether the internal cache held it.
   */
  revoke(id: Uint8Array, namespace = ''): boolean {
    checkNamespace(namespace);
    const entry = this.#entries.get(entryKey(id, namespace));
    if (entry === undefined) return false;
    this.#removeEntry(entry, 'revoked');
    this.#drain();
    return true;
  }

  /**
   * {@link revoke} for every session of `namespace`, or for every session when `namespace` is
   * `undefined` (a whole namespace or the whole store was cleared, or revocations may have been
   * missed).
   * @returns how many were dropped.
   */
  revokeAll(namespace?: string): number {
    if (namespace === undefined) return this.#removeAll('revoked');
    checkNamespace(namespace);
    let removed = 0;
    for (const entry of [...this.#entries.values()]) {
      if ((entry.session.namespace ?? '') !== namespace) continue;
      this.#removeEntry(entry, 'revoked');
      removed++;
    }
    this.#drain();
    return removed;
  }

  /**
   * Removes every session that has expired at `nowMs` (`SSL_CTX_flush_sessions`).
   * @returns how many were removed.
   */
  flush(nowMs: number = this.#clock()): number {
    let removed = 0;
    for (
      let entry = this.#heap.peek();
      entry !== undefined && CacheEntry.expiresAtMs(entry) <= nowMs;
    ) {
      this.#removeEntry(entry, 'expired');
      removed++;
      entry = this.#heap.peek();
    }
    this.#drain();
    return removed;
  }

  /**
   * Removes every session (OpenSSL's `SSL_CTX_flush_sessions(ctx, 0)`), reason `flushed`.
   * @returns how many were removed.
   */
  clear(): number {
    return this.#removeAll('flushed');
  }

  /** Whether the internal cache holds a session with this id (expired or not); no statistics. */
  has(id: Uint8Array, namespace = ''): boolean {
    return this.#entries.has(entryKey(id, namespace));
  }

  /** The internal cache's session with this id, expired or not, without statistics or callbacks. */
  peek(id: Uint8Array, namespace = ''): CachedSession | undefined {
    return this.#entries.get(entryKey(id, namespace))?.session;
  }

  /** When the internal cache's session with this id stops being valid, in ms; no statistics. */
  expiresAt(id: Uint8Array, namespace = ''): number | undefined {
    const entry = this.#entries.get(entryKey(id, namespace));
    return entry === undefined ? undefined : CacheEntry.expiresAtMs(entry);
  }

  /** The internal cache's sessions, soonest expiry first. */
  *sessions(): IterableIterator<CachedSession> {
    for (const entry of this.#heap.sorted()) yield entry.session;
  }

  // --- the handshake path: ssl_update_cache / ssl_get_prev_session ---------------------------------

  /**
   * A server handshake produced a new session (OpenSSL's `ssl_update_cache`; Node's `newSession`):
   * store it in the internal cache unless `noInternalStore`, then tell the new callback; `false`
   * from the callback removes it again (`notKept`). Nothing happens unless the mode caches server
   * sessions.
   */
  sessionNegotiated(session: CachedSession): void {
    const id = checkSession(session);
    if (this.#closed || (this.#mode !== 'server' && this.#mode !== 'both')) return;
    if (!this.#noInternalStore) this.#addInternal(session, id);
    if (channels.newSession.hasSubscribers) {
      channels.newSession.publish({ namespace: session.namespace ?? '', id });
    }
    if (this.#onNew !== undefined) this.#pending.push({ kind: 'new', session });
    this.#drain();
  }

  /**
   * Finds the session a client offers (OpenSSL's `ssl_get_prev_session`): the internal cache first
   * (unless `noInternalLookup`), then the get callback. A session is returned only if its id is
   * exactly `id`, it is valid now (not expired, not from the future) and `accept` agrees. Answers
   * synchronously unless the get callback answers with a promise. Never rejects; throws only for
   * an invalid `namespace` option (a programming error, not a network input).
   */
  lookup(id: Uint8Array, options?: LookupOptions): LookupResult | Promise<LookupResult> {
    if (this.#closed || id.byteLength === 0) return NONE;
    const stats = this.#stats;
    stats.lookups++;
    const singleUse = options?.singleUse === true;
    const accept = options?.accept;
    const namespace = options?.namespace ?? '';
    if (namespace !== '') checkNamespace(namespace);
    const nowMs = this.#clock();
    let internalHit: CacheEntry | undefined;

    if (!this.#noInternalLookup) {
      const entry = this.#entries.get(entryKey(id, namespace));
      if (entry === undefined) {
        stats.misses++;
      } else if (!CacheEntry.isValidAt(entry, nowMs)) {
        stats.timeouts++;
        this.#removeEntry(entry, 'expired');
        this.#drain();
        return miss(id, namespace, 'expired');
      } else if (accept !== undefined && !accept(entry.session)) {
        stats.rejected++;
        return miss(id, namespace, 'rejected');
      } else if (singleUse) {
        // With a get callback its take is the authority and the notification, so the memory copy
        // leaves silently; without one, the remove callback learns of the use.
        this.#removeEntry(entry, 'resumed', this.#onGet === undefined);
        internalHit = entry;
      } else {
        if (this.#updateTime) this.#touch(entry, nowMs);
        stats.hits++;
        if (channels.resume.hasSubscribers) {
          channels.resume.publish({ namespace, id, source: 'internal' });
        }
        // The entry is its own answer: a hit allocates nothing.
        return entry;
      }
    }

    const get = this.#onGet;
    if (get === undefined) {
      this.#drain();
      if (internalHit === undefined) return miss(id, namespace, 'not-found');
      stats.hits++;
      if (channels.resume.hasSubscribers) {
        channels.resume.publish({ namespace, id, source: 'internal' });
      }
      return internalHit;
    }
    this.#drain();
    let answer: ReturnType<GetSessionCallback>;
    try {
      answer = get(id, { singleUse, namespace });
    } catch {
      stats.getErrors++;
      return miss(id, namespace, 'error');
    }
    if (isPromiseLike(answer)) return this.#awaitExternal(id, namespace, answer, singleUse, accept);
    return this.#acceptExternal(id, namespace, answer, singleUse, accept, nowMs);
  }

  /** A server handshake started (`sess_accept`). */
  handshakeStarted(): void {
    this.#stats.accept++;
  }

  /** A server renegotiation started (`sess_accept_renegotiate`). */
  renegotiationStarted(): void {
    this.#stats.acceptRenegotiate++;
  }

  /**
   * A server handshake completed (`sess_accept_good`). Every 255th one flushes expired sessions,
   * as OpenSSL does, unless `noAutoClear`.
   */
  handshakeCompleted(): void {
    const good = ++this.#stats.acceptGood;
    if (!this.#noAutoClear && (good & AUTO_CLEAR_INTERVAL) === AUTO_CLEAR_INTERVAL) this.flush();
  }

  /** A client handshake started (`sess_connect`). */
  connectStarted(): void {
    this.#stats.connect++;
  }

  /** A client renegotiation started (`sess_connect_renegotiate`). */
  connectRenegotiationStarted(): void {
    this.#stats.connectRenegotiate++;
  }

  /** A client handshake completed (`sess_connect_good`). */
  connectCompleted(): void {
    this.#stats.connectGood++;
  }

  /** A snapshot of the statistics; see {@link SessionCacheStats}. */
  stats(): SessionCacheStats {
    return { ...this.#stats, number: this.#entries.size };
  }

  /**
   * Closes the cache (OpenSSL's `SSL_CTX_free`): every session leaves with reason `closed`, then the
   * cache stays empty: adds are ignored and lookups miss. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#removeAll('closed');
  }

  // --- internals ----------------------------------------------------------------------------------

  /** `id` is `session.id`, read once by the caller (a record's id is a getter that copies). */
  #addInternal(session: CachedSession, id: Uint8Array): boolean {
    const key = storedEntryKey(id, session.namespace ?? '');
    const nowMs = this.#clock();
    const existing = this.#entries.get(key);
    if (existing !== undefined) {
      if (existing.session === session || sameBytes(existing.session.data, session.data)) {
        if (this.#updateTime) this.#touch(existing, nowMs);
        return false;
      }
      this.#removeEntry(existing, 'replaced');
    }
    const timeMs = this.#updateTime || session.time === undefined ? nowMs : session.time * 1000;
    const timeoutMs = (session.timeout ?? this.#timeout) * 1000;
    const entry = new CacheEntry(key, session, timeMs, timeoutMs, this.#seq++);
    this.#entries.set(key, entry);
    this.#heap.push(entry);
    this.#evictOverflow();
    return true;
  }

  #evictOverflow(): void {
    const size = this.#cacheSize;
    if (size === 0) return;
    while (this.#entries.size > size) {
      const victim = this.#heap.peek();
      if (victim === undefined) break;
      this.#removeEntry(victim, 'evicted');
      this.#stats.cacheFull++;
    }
  }

  #touch(entry: CacheEntry, nowMs: number): void {
    CacheEntry.restart(entry, nowMs);
    this.#heap.update(entry);
  }

  #removeEntry(entry: CacheEntry, reason: RemoveReason, notify = true): void {
    this.#entries.delete(CacheEntry.key(entry));
    this.#heap.remove(entry);
    if (channels.remove.hasSubscribers) {
      const { id, namespace = '' } = entry.session;
      channels.remove.publish({ namespace, id, reason });
    }
    if (notify && this.#onRemove !== undefined) {
      this.#pending.push({
        kind: 'remove',
        id: entry.session.id,
        reason,
        session: entry.session,
        namespace: entry.session.namespace ?? '',
      });
    }
  }

  #removeId(id: Uint8Array, reason: RemoveReason, namespace: string): boolean {
    checkNamespace(namespace);
    if (id.byteLength === 0) return false;
    const entry = this.#entries.get(entryKey(id, namespace));
    if (entry !== undefined) this.#removeEntry(entry, reason);
    else if (channels.remove.hasSubscribers) channels.remove.publish({ namespace, id, reason });
    if (entry === undefined && this.#onRemove !== undefined) {
      this.#pending.push({ kind: 'remove', id, reason, session: undefined, namespace });
    }
    this.#drain();
    return entry !== undefined;
  }

  #removeAll(reason: RemoveReason): number {
    const count = this.#entries.size;
    const notify = this.#onRemove !== undefined;
    const publish = channels.remove.hasSubscribers;
    // Soonest expiry first, so that callbacks see the same order as eviction would give.
    for (const entry of notify || publish ? this.#heap.sorted() : []) {
      if (publish) {
        const { id, namespace = '' } = entry.session;
        channels.remove.publish({ namespace, id, reason });
      }
      if (!notify) continue;
      this.#pending.push({
        kind: 'remove',
        id: entry.session.id,
        reason,
        session: entry.session,
        namespace: entry.session.namespace ?? '',
      });
    }
    this.#entries.clear();
    this.#heap.clear();
    this.#drain();
    return count;
  }

  async #awaitExternal(
    id: Uint8Array,
    namespace: string,
    answer: PromiseLike<CachedSession | undefined>,
    singleUse: boolean,
    accept: LookupOptions['accept'],
  ): Promise<LookupResult> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      // The deadline is declared only after the I/O that arrived meanwhile has been read: after a
      // busy stretch of the event loop the timers phase runs before the poll phase, and an answer
      // already sitting in the socket would otherwise lose to its own timer (measured under load:
      // 2–18 % of healthy Redis lookups). Costs at most one loop iteration past the deadline.
      timer = setTimeout(() => setImmediate(resolve, TIMED_OUT), this.#lookupDeadlineMs);
      timer.unref();
    });
    let settled: CachedSession | undefined | typeof TIMED_OUT;
    try {
      settled = await Promise.race([answer, deadline]);
    } catch {
      this.#stats.getErrors++;
      return miss(id, namespace, 'error');
    } finally {
      clearTimeout(timer);
    }
    if (settled === TIMED_OUT) {
      this.#stats.getTimeouts++;
      return miss(id, namespace, 'timeout');
    }
    if (this.#closed) return NONE;
    return this.#acceptExternal(id, namespace, settled, singleUse, accept, this.#clock());
  }

  #acceptExternal(
    id: Uint8Array,
    namespace: string,
    session: CachedSession | undefined,
    singleUse: boolean,
    accept: LookupOptions['accept'],
    nowMs: number,
  ): LookupResult {
    const stats = this.#stats;
    if (session === undefined || session === null) {
      stats.getMisses++;
      return miss(id, namespace, 'not-found');
    }
    // Node hands OpenSSL whatever we answer, whatever id it asked for; a TLS 1.3 session under the
    // wrong id aborts the handshake, so anything but the exact id is a miss.
    const sessionId = idOf(session);
    if (
      sessionId === undefined ||
      !sameBytes(sessionId, id) ||
      (session.namespace ?? '') !== namespace
    ) {
      stats.getErrors++;
      return reject(id, namespace, 'wrong-id', 'rejected');
    }
    const timeMs = session.time === undefined ? nowMs : session.time * 1000;
    const expiresAtMs = timeMs + (session.timeout ?? this.#timeout) * 1000;
    if (timeMs > nowMs || nowMs >= expiresAtMs) {
      stats.timeouts++;
      // OpenSSL removes a timed-out session it got from the get callback, telling remove_cb.
      if (!singleUse && this.#onRemove !== undefined) {
        this.#pending.push({
          kind: 'remove',
          id: session.id,
          reason: 'expired',
          session,
          namespace,
        });
        this.#drain();
      }
      return reject(id, namespace, timeMs > nowMs ? 'future' : 'expired', 'expired');
    }
    if (accept !== undefined && !accept(session)) {
      stats.rejected++;
      return miss(id, namespace, 'rejected');
    }
    stats.cbHits++;
    stats.hits++;
    if (channels.resume.hasSubscribers) {
      channels.resume.publish({ namespace, id, source: 'external' });
    }
    if (
      !singleUse &&
      !this.#noInternalStore &&
      (this.#mode === 'server' || this.#mode === 'both')
    ) {
      this.#addInternal(session, sessionId);
      this.#drain();
    }
    return { session, source: 'external' };
  }

  /**
   * Runs queued callbacks in order. A callback that calls back into the cache only queues more work,
   * which this loop (the outermost one) runs: no recursion, and the state a callback sees is final.
   */
  #drain(): void {
    if (this.#dispatching || this.#pending.length === 0) return;
    this.#dispatching = true;
    const queue = this.#pending;
    try {
      for (let i = 0; i < queue.length; i++) {
        const item = queue[i]!;
        if (item.kind === 'new') this.#callNew(item.session);
        else this.#callRemove(item.id, item.reason, item.session, item.namespace);
      }
    } finally {
      queue.length = 0;
      this.#dispatching = false;
    }
  }

  #callNew(session: CachedSession): void {
    const onNew = this.#onNew;
    if (onNew === undefined) return;
    let kept: boolean | void;
    try {
      kept = onNew(session);
    } catch (error) {
      this.#callbackFailed(error, 'new');
      return;
    }
    if (kept === false) {
      const entry = this.#entries.get(entryKey(session.id, session.namespace ?? ''));
      if (entry !== undefined && entry.session === session) this.#removeEntry(entry, 'notKept');
    }
  }

  #callRemove(
    id: Uint8Array,
    reason: RemoveReason,
    session: CachedSession | undefined,
    namespace: string,
  ): void {
    const onRemove = this.#onRemove;
    if (onRemove === undefined) return;
    try {
      onRemove(id, reason, session, namespace);
    } catch (error) {
      this.#callbackFailed(error, 'remove');
    }
  }

  #callbackFailed(error: unknown, callback: 'new' | 'remove' | 'get'): void {
    this.#stats.callbackErrors++;
    try {
      this.#onCallbackError(error, callback);
    } catch {
      // The error handler itself failed; the count above is all we can keep.
    }
  }

  #warnOnce(error: unknown, callback: string): void {
    if (this.#warned) return;
    this.#warned = true;
    const name = error instanceof Error ? error.name : typeof error;
    process.emitWarning(
      `tls-session-cache: the ${callback} callback threw (${name}); further callback errors are only counted in stats().callbackErrors`,
      { code: 'TLS_SESSION_CACHE_CALLBACK_ERROR' },
    );
  }
}

function checkNamespace(namespace: unknown): void {
  if (typeof namespace !== 'string') throw new TypeError('namespace must be a string');
  if (namespace.includes('\u0000')) throw new RangeError('namespace must not contain NUL');
}

/** Publishes a miss when someone listens; returns the "nothing to resume" answer. */
function miss(id: Uint8Array, namespace: string, reason: MissReason): LookupResult {
  if (channels.miss.hasSubscribers) channels.miss.publish({ namespace, id, reason });
  return NONE;
}

/** Publishes why found session data was refused, then the miss that follows. */
function reject(
  id: Uint8Array,
  namespace: string,
  reason: RejectReason,
  missReason: MissReason,
): LookupResult {
  if (channels.rejected.hasSubscribers) channels.rejected.publish({ namespace, id, reason });
  return miss(id, namespace, missReason);
}

function isPromiseLike(value: unknown): value is PromiseLike<CachedSession | undefined> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * The id of a usable session object, or `undefined`. Each field is read once: the records of the
 * Node wiring compute `id` and `data` on every read.
 */
function idOf(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as CachedSession).id;
  return id instanceof Uint8Array && (value as CachedSession).data instanceof Uint8Array
    ? id
    : undefined;
}

/** Throws a `TypeError`/`RangeError` for an unusable session; returns its id. */
function checkSession(session: CachedSession): Uint8Array {
  const id = idOf(session);
  if (id === undefined) {
    throw new TypeError('session must be an object with Uint8Array id and data');
  }
  if (id.byteLength === 0) throw new RangeError('session.id must not be empty');
  if (session.namespace !== undefined) checkNamespace(session.namespace);
  if (session.time !== undefined && !Number.isFinite(session.time)) {
    throw new RangeError('session.time must be a finite number of seconds');
  }
  if (
    session.timeout !== undefined &&
    !(Number.isFinite(session.timeout) && session.timeout >= 0)
  ) {
    throw new RangeError('session.timeout must be a finite number of seconds ≥ 0');
  }
  return id;
}
