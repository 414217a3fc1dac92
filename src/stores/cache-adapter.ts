// Any SessionStore as a SessionCache's external cache: the store packaged as OpenSSL's three
// callbacks. The engine stays store-agnostic (it only knows callbacks), and a user who wants
// something else still passes callbacks of their own.
import { DEFAULT_LOOKUP_DEADLINE_MS, DEFAULT_SESSION_TIMEOUT } from '../cache/options.js';
import type {
  CachedSession,
  GetSessionCallback,
  GetSessionInfo,
  NewSessionCallback,
  RemoveReason,
  RemoveSessionCallback,
} from '../cache/types.js';
import type { SessionRecord } from '../session/session-record.js';
import { channels } from '../cache/events.js';
import {
  CircuitBreaker,
  BREAKER_REFUSED,
  type CircuitBreakerOptions,
  type CircuitState,
} from './circuit-breaker.js';
import {
  MAX_STORED_SESSION_BYTES,
  StoredSessionError,
  decodeStoredSession,
  encodeStoredSession,
  type StoredSessionCodec,
} from '../session/stored-record.js';
import { covers } from './revocations.js';
import { SessionCacheError } from '../common/errors.js';
import type { Revocation, SessionStore } from './store.js';
import { codecFromOptions, type EncryptionOption } from './encryption/options.js';
import {
  MAX_ID_BYTES,
  checkOptions,
  functionOption,
  integerOption,
  isPromiseLike,
} from '../common/validate.js';

/** Default of {@link StoreCallbacksOptions.maxInFlightWrites}. */
export const DEFAULT_MAX_IN_FLIGHT_WRITES = 1024;

/** Default of {@link StoreCallbacksOptions.writeTimeoutMs}. */
export const DEFAULT_WRITE_TIMEOUT_MS = 500;

/** Which store call failed, for {@link StoreCallbacksOptions.onError}. */
export type StoreOperation = 'set' | 'get' | 'take' | 'delete' | 'encode' | 'decode' | 'revoke';

/** Options of {@link storeCallbacks}. */
export interface StoreCallbacksOptions {
  /**
   * Most writes (`set` and `delete`) of an asynchronous store that may be pending at once. A write
   * beyond it is dropped and counted (`droppedWrites`/`droppedDeletes`): a slow or unreachable
   * store costs full handshakes, never an unbounded queue of sessions (secrets) in memory.
   * Synchronous stores never have writes pending.
   * @default 1024
   */
  maxInFlightWrites?: number;
  /**
   * The codec the stored values are written with and read back with: the seam for encryption at
   * rest. See {@link StoredSessionCodec}.
   * @default undefined (plain envelopes)
   */
  codec?: StoredSessionCodec | undefined;
  /**
   * Encrypts stored values (AES-256-GCM, `AesGcmCodec`) with a `Keyring`, or with the
   * keyring `loadKeyring` finds in `{ keys, keyFile, env }` (which must then hold a key). Values
   * are then bound to their namespace and id, and plain ones are refused. Not with `codec`.
   * @default undefined (plain envelopes, unless `codec` is given)
   */
  encryption?: EncryptionOption | undefined;
  /**
   * Lifetime in seconds of a session that carries no timeout of its own (the Node wiring's sessions
   * always carry one); use the cache's `timeout`.
   * @default 300
   */
  timeout?: number;
  /**
   * The clock, ms since the epoch, for a session that carries no creation time.
   * @default Date.now
   */
  clock?: () => number;
  /**
   * Told of every failure after it has been counted, e.g. to log it. Errors come from the store or
   * the envelope decoder and never contain session bytes; an exception thrown here is ignored.
   * @default undefined (failures are only counted)
   */
  onError?: ((error: unknown, operation: StoreOperation) => void) | undefined;
  /**
   * The circuit breaker in front of the store (see {@link CircuitBreakerOptions}): after
   * `failureThreshold` consecutive failures or timeouts of store calls it opens, and then lookups
   * miss at once (`breakerRejectedReads`) and writes and deletes are dropped (`droppedWrites`,
   * `droppedDeletes`) without asking the store; after the cool-down one call probes the store, and
   * its success closes the breaker. `false` turns it off. State changes are published on
   * `channels.breaker`.
   * @default {} (on, with the defaults of CircuitBreakerOptions)
   */
  breaker?: CircuitBreakerOptions | false | undefined;
  /**
   * How long an asynchronous `get`/`take` may take before it counts as a failure of the store
   * (`readTimeouts`, and towards opening the breaker). The cache itself stops waiting after its
   * `lookupDeadlineMs`: give both the same value.
   * @default 50 (the cache's default lookupDeadlineMs)
   */
  readTimeoutMs?: number;
  /**
   * How long an asynchronous `set`/`delete` may stay pending before it counts as a failure of the
   * store (`writeTimeouts`, and towards opening the breaker) and gives its `maxInFlightWrites` slot
   * back, whether or not the store ever settles it. Writes happen after the handshake, so this
   * costs no handshake time; it only bounds how long a hung store holds a slot.
   * @default 500
   */
  writeTimeoutMs?: number;
}

/** What a {@link StoreAdapter} counted since it was made. */
export interface StoreAdapterStats {
  /** `set` calls issued. */
  writes: number;
  /** `set`s the store answered with `false`: deadline passed, too large, or full. */
  notStored: number;
  /**
   * Sessions not written because `maxInFlightWrites` writes were pending, the breaker was open, or
   * after `close()`.
   */
  droppedWrites: number;
  /** `set`s that threw or rejected, and sessions that could not be encoded. */
  writeErrors: number;
  /** `delete` calls issued (for removals that mean "never resume again"). */
  deletes: number;
  /**
   * Deletes not issued because `maxInFlightWrites` writes were pending, the breaker was open, or
   * after `close()`.
   */
  droppedDeletes: number;
  /** `delete`s that threw or rejected. */
  deleteErrors: number;
  /** `get`/`take` calls issued. */
  reads: number;
  /** Reads that found a value which decoded for the key asked. */
  found: number;
  /** Reads that threw or rejected (answered as a miss). */
  readErrors: number;
  /** Values that did not decode: corrupt, for another key, or of a newer format (a miss). */
  decodeErrors: number;
  /** Writes and deletes pending now. */
  inFlight: number;
  /** Revocation reports received from the store (see {@link StoreAdapter.bind}). */
  revocations: number;
  /** Sessions dropped from bound caches' memory because of those reports. */
  revokedSessions: number;
  /**
   * Store reads whose answer arrived after a revocation that covers it had been reported: answered
   * as a miss, so that a revoked session does not re-enter memory through a read already in flight.
   */
  staleReads: number;
  /** Reads that had not settled within `readTimeoutMs` (the cache answered a miss meanwhile). */
  readTimeouts: number;
  /** Writes and deletes that had not settled within `writeTimeoutMs` (their slot was given back). */
  writeTimeouts: number;
  /** The circuit breaker's state now, or `disabled` (`breaker: false`). */
  breakerState: CircuitState | 'disabled';
  /** How many times the breaker opened. */
  breakerOpens: number;
  /** Lookups answered with a miss at once because the breaker was open. */
  breakerRejectedReads: number;
}

/**
 * What {@link StoreAdapter.bind} needs of a cache: `SessionCache`'s `revoke` and `revokeAll`, which
 * drop sessions from memory with reason `revoked` (which does not delete from the store again).
 */
export interface RevocableCache {
  /** Drops the session from memory; see `SessionCache.revoke`. */
  revoke(id: Uint8Array, namespace: string): boolean;
  /** Drops every session of `namespace` (every session when `undefined`); see `SessionCache.revokeAll`. */
  revokeAll(namespace?: string): number;
}

/** The three callbacks, ready to spread into `SessionCacheOptions`. */
export interface StoreCallbacks {
  /** Writes each new session to the store in the background. */
  readonly onNew: NewSessionCallback;
  /** Deletes from the store sessions that must never resume again (`removed`, `bad`). */
  readonly onRemove: RemoveSessionCallback;
  /** Reads (`get`) or, for a single-use TLS 1.3 lookup, takes (`take`) from the store. */
  readonly onGet: GetSessionCallback;
}

/** A store plugged into a cache; made by {@link storeCallbacks}. */
export interface StoreAdapter extends StoreCallbacks {
  /** The store. */
  readonly store: SessionStore;
  /** `{ onNew, onRemove, onGet }` alone, e.g. `new SessionCache({ ...adapter.callbacks })`. */
  readonly callbacks: StoreCallbacks;
  /** A snapshot of the counters. */
  stats(): StoreAdapterStats;
  /**
   * Keeps `cache`'s memory (its internal cache) in step with the store: every session removed from
   * the store — by `cache.remove`, by another process, by a script or the CLI (`store.delete`,
   * `store.clear`) — is dropped from `cache` too, within the store's propagation bound, so that no
   * process resumes it from memory. Needs a store with `watchRevocations` (every store of this
   * package has it); for another store it does nothing and {@link propagatesRevocations} is false.
   * Call it once per cache, right after making the cache. The removals carry reason `revoked`,
   * which never deletes from the store again (no loops).
   * @returns a function that stops it (idempotent); {@link close} stops it too
   */
  bind(cache: RevocableCache): () => void;
  /** Whether the store reports revocations (has `watchRevocations`), i.e. {@link bind} does something. */
  readonly propagatesRevocations: boolean;
  /** Resolves once every write and delete issued so far has settled. Never rejects. */
  drain(): Promise<void>;
  /**
   * Stops writing (later sessions are dropped and counted, lookups miss), waits for pending writes,
   * then closes the store. Idempotent. Do not call it for a store that other caches still use:
   * call {@link drain} instead and close the store yourself.
   */
  close(): Promise<void>;
}

/**
 * Why a removal deletes from the store, or why not. The store is shared by every process, so only
 * a removal that means "this session must never resume anywhere" may delete from it; everything
 * else concerns this process's memory only.
 */
const DELETE_ON_REMOVE: Readonly<Record<RemoveReason, boolean>> = {
  // Revocation (`cache.remove(id)`): the whole point is that no process resumes it again.
  removed: true,
  // Its connection ended in a fatal TLS error (OpenSSL's ssl_clear_bad_session): distrusted
  // everywhere, not only here.
  bad: true,
  // This process's internal cache was full. Other processes (and this one, through the store) may
  // still resume it: that is what the store is for.
  evicted: false,
  // This process is shutting down. Sessions must outlive it, so that a restarted or another
  // process resumes them.
  closed: false,
  // `cache.clear()` empties this process's memory. Deleting each session from a shared store would
  // let one process wipe the sessions of the whole fleet; `store.clear()` does that on purpose.
  flushed: false,
  // A different session with the same id was added; its write is issued right after. A delete
  // issued now could land after that write (an asynchronous store does not order them) and
  // remove the replacement.
  replaced: false,
  // The store expires every entry at the same absolute deadline (`time + timeout`) by itself; a
  // delete would only cost a round trip (and with `updateTime` the memory deadline is not the
  // store's anyway).
  expired: false,
  // The new callback answered "not kept". Ours never does; a wrapper that does chose not to keep it
  // in memory, which says nothing about the store.
  notKept: false,
  // A single-use session was resumed: with a get callback the store's atomic `take` already
  // deleted it (the engine does not even notify this case then).
  resumed: false,
  // The store reported that it was removed there (by this process or another): deleting again
  // would only make the store report it again, to every process.
  revoked: false,
};

/**
 * Plugs `store` into a `SessionCache` as its external cache (OpenSSL's new/remove/get callbacks):
 *
 * - `onNew` writes each session (the envelope of {@link encodeStoredSession}) with the session's own
 *   deadline `(time + timeout) × 1000` in the background: the handshake never waits for it; a
 *   failure is counted; at most `maxInFlightWrites` are pending, the excess is dropped;
 * - `onRemove` deletes only for `removed` and `bad` (see the comments on each reason);
 * - `onGet` calls `take` for a single-use (TLS 1.3) lookup and `get` otherwise, decodes with
 *   {@link decodeStoredSession}, and answers synchronously when the store did — no promise on the
 *   hot path of an in-process store. A failing or garbled store is a miss, never an error;
 * - a circuit breaker (`breaker`) stops asking a store that keeps failing or hanging: lookups miss
 *   at once and writes are dropped (counted) until a probe after the cool-down succeeds. Reads
 *   count as hanging after `readTimeoutMs`, writes after `writeTimeoutMs` (which also gives their
 *   in-flight slot back).
 *
 * @example
 * ```ts
 * const adapter = storeCallbacks(await SqliteStore.open({ path: 'sessions.db' }));
 * const cache = new SessionCache({ ...adapter.callbacks });
 * adapter.bind(cache); // sessions removed from the store (anywhere) leave this cache's memory too
 * attach(server, cache);
 * // at shutdown: cache.close(); await adapter.close();
 * ```
 * @throws TypeError/RangeError naming the option for invalid options
 */
export function storeCallbacks(
  store: SessionStore,
  options: StoreCallbacksOptions = {},
): StoreAdapter {
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.set !== 'function' ||
    typeof store.get !== 'function' ||
    typeof store.take !== 'function' ||
    typeof store.delete !== 'function'
  ) {
    throw new TypeError('store must be a SessionStore (with set, get, take and delete)');
  }
  const opts = checkOptions(options);
  const maxInFlight = integerOption(
    'maxInFlightWrites',
    opts.maxInFlightWrites,
    DEFAULT_MAX_IN_FLIGHT_WRITES,
    1,
  );
  const defaultTimeout = integerOption('timeout', opts.timeout, DEFAULT_SESSION_TIMEOUT, 0);
  const clock = functionOption('clock', opts.clock) ?? Date.now;
  const onError = functionOption('onError', opts.onError);
  const readTimeoutMs = integerOption(
    'readTimeoutMs',
    opts.readTimeoutMs,
    DEFAULT_LOOKUP_DEADLINE_MS,
    1,
    60_000,
  );
  const writeTimeoutMs = integerOption(
    'writeTimeoutMs',
    opts.writeTimeoutMs,
    DEFAULT_WRITE_TIMEOUT_MS,
    1,
    600_000,
  );
  if (
    opts.breaker !== undefined &&
    opts.breaker !== false &&
    (typeof opts.breaker !== 'object' || opts.breaker === null)
  ) {
    throw new TypeError('breaker must be CircuitBreakerOptions or false');
  }
  const breaker =
    opts.breaker === false
      ? undefined
      : new CircuitBreaker(
          opts.breaker ?? {},
          (state) => {
            if (channels.breaker.hasSubscribers) {
              channels.breaker.publish({ store: store.kind, state });
            }
          },
          'breaker.',
        );
  const codecOptions = { codec: codecFromOptions(opts.codec, opts.encryption) };
  const maxValueBytes =
    Number.isSafeInteger(store.maxValueBytes) && store.maxValueBytes > 0
      ? store.maxValueBytes
      : MAX_STORED_SESSION_BYTES;
  // Fails early on a malformed codec rather than on the first session.
  if (codecOptions.codec !== undefined) {
    encodeStoredSession({ id: PROBE_ID, data: PROBE_ID, namespace: '' }, codecOptions);
  }

  const stats: StoreAdapterStats = {
    writes: 0,
    notStored: 0,
    droppedWrites: 0,
    writeErrors: 0,
    deletes: 0,
    droppedDeletes: 0,
    deleteErrors: 0,
    reads: 0,
    found: 0,
    readErrors: 0,
    decodeErrors: 0,
    inFlight: 0,
    revocations: 0,
    revokedSessions: 0,
    staleReads: 0,
    readTimeouts: 0,
    writeTimeouts: 0,
    breakerState: 'disabled',
    breakerOpens: 0,
    breakerRejectedReads: 0,
  };
  let closed = false;
  let closing: Promise<void> | undefined;
  let idle: (() => void)[] = [];

  const report = (error: unknown, operation: StoreOperation): void => {
    if (channels.storeError.hasSubscribers) {
      channels.storeError.publish({ store: store.kind, operation, error });
    }
    if (onError === undefined) return;
    try {
      onError(error, operation);
    } catch {
      // A logging hook must not break the handshake path.
    }
  };

  const settled = (): void => {
    stats.inFlight--;
    if (stats.inFlight === 0 && idle.length > 0) {
      const waiting = idle;
      idle = [];
      for (const resolve of waiting) resolve();
    }
  };

  // The breaker's verdicts; with `breaker: false` every call goes through (ticket 0).
  const acquire = (): number => (breaker === undefined ? 0 : breaker.tryAcquire());
  const succeeded = (ticket: number): void => breaker?.success(ticket);
  const failed = (ticket: number): void => breaker?.failure(ticket);

  // Tracks a pending write; `onResult` sees the store's answer. A write that has not settled within
  // `writeTimeoutMs` is written off: it gives its slot back and counts as a failure, and whatever
  // the store answers later is ignored — a hung store must not hold slots (or the breaker) forever.
  const track = (
    pending: PromiseLike<unknown>,
    operation: 'set' | 'delete',
    ticket: number,
    onResult: (result: unknown) => void,
  ): void => {
    stats.inFlight++;
    let done = false;
    const timer = startTimeout(writeTimeoutMs, () => {
      if (done) return;
      done = true;
      settled();
      stats.writeTimeouts++;
      failed(ticket);
      report(timeoutError(operation, writeTimeoutMs), operation);
    });
    Promise.resolve(pending).then(
      (result) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        settled();
        succeeded(ticket);
        onResult(result);
      },
      (error: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        settled();
        failed(ticket);
        if (operation === 'set') stats.writeErrors++;
        else stats.deleteErrors++;
        report(error, operation);
      },
    );
  };

  const onNew: NewSessionCallback = (session: CachedSession) => {
    if (closed || stats.inFlight >= maxInFlight) {
      stats.droppedWrites++;
      return;
    }
    // Asked first, so that an outage costs no encoding.
    const ticket = acquire();
    if (ticket === BREAKER_REFUSED) {
      stats.droppedWrites++;
      return;
    }
    let value: Uint8Array;
    try {
      value = encodeStoredSession(session as SessionRecord, codecOptions);
    } catch (error) {
      // Not the store's fault: a probe ticket goes back unused.
      breaker?.release(ticket);
      stats.writeErrors++;
      report(error, 'encode');
      return;
    }
    const timeS = session.time ?? clock() / 1000;
    const expiresAtMs = (timeS + (session.timeout ?? defaultTimeout)) * 1000;
    const namespace = session.namespace ?? '';
    stats.writes++;
    let result: boolean | Promise<boolean>;
    try {
      result = store.set(namespace, session.id, value, expiresAtMs);
    } catch (error) {
      failed(ticket);
      stats.writeErrors++;
      report(error, 'set');
      return;
    }
    if (isPromiseLike<boolean>(result)) {
      track(result, 'set', ticket, (stored) => {
        if (stored === false) stats.notStored++;
      });
    } else {
      succeeded(ticket);
      if (result === false) stats.notStored++;
    }
    // Kept in memory whatever the store answered: this process can still resume it.
  };

  const onRemove: RemoveSessionCallback = (id, reason, _session, namespace) => {
    if (!DELETE_ON_REMOVE[reason] || id.byteLength === 0 || id.byteLength > MAX_ID_BYTES) return;
    if (closed || stats.inFlight >= maxInFlight) {
      stats.droppedDeletes++;
      return;
    }
    const ticket = acquire();
    if (ticket === BREAKER_REFUSED) {
      stats.droppedDeletes++;
      return;
    }
    stats.deletes++;
    let result: boolean | Promise<boolean>;
    try {
      result = store.delete(namespace, id);
    } catch (error) {
      failed(ticket);
      stats.deleteErrors++;
      report(error, 'delete');
      return;
    }
    if (isPromiseLike<boolean>(result)) track(result, 'delete', ticket, () => undefined);
    else succeeded(ticket);
  };

  const decode = (
    value: Uint8Array | undefined,
    id: Uint8Array,
    namespace: string,
  ): SessionRecord | undefined => {
    if (value === undefined || value === null) return undefined;
    try {
      // Whoever can write to the store can plant anything: bound the size before any parsing.
      if (value instanceof Uint8Array && value.byteLength > maxValueBytes) {
        throw new StoredSessionError(
          'TOO_LARGE',
          `stored value of ${value.byteLength} bytes is over the store's maxValueBytes (${maxValueBytes})`,
        );
      }
      const record = decodeStoredSession(value, namespace, id, codecOptions);
      stats.found++;
      return record;
    } catch (error) {
      stats.decodeErrors++;
      if (channels.rejected.hasSubscribers) {
        const detail = error instanceof StoredSessionError ? error.code : undefined;
        channels.rejected.publish({ namespace, id, reason: 'decode', ...(detail && { detail }) });
      }
      report(error, 'decode');
      return undefined;
    }
  };

  // Revocations: the bound caches, and the reads in flight that a revocation may overtake. A read
  // of a shared store may be answered with a session just before it was deleted and reach us after
  // the report of that delete (two connections, no order between them); its answer would put the
  // revoked session back into memory. Only reads whose answer the cache keeps matter (`get`; a
  // `take`'s answer resumes once and is not kept). Bounded by the store's pending commands.
  const bound = new Set<RevocableCache>();
  const readsInFlight = new Set<{ namespace: string; id: Uint8Array; stale: boolean }>();
  let unwatch: (() => void) | undefined;
  const onRevocation = (revocation: Revocation): void => {
    stats.revocations++;
    for (const read of readsInFlight) {
      if (covers(revocation, read.namespace, read.id)) read.stale = true;
    }
    for (const cache of bound) {
      try {
        if (revocation.namespace === undefined || revocation.id === undefined) {
          stats.revokedSessions += cache.revokeAll(revocation.namespace);
        } else if (cache.revoke(revocation.id, revocation.namespace)) {
          stats.revokedSessions++;
        }
      } catch (error) {
        report(error, 'revoke');
      }
    }
  };
  const propagatesRevocations = typeof store.watchRevocations === 'function';
  const bind = (cache: RevocableCache): (() => void) => {
    if (
      typeof cache !== 'object' ||
      cache === null ||
      typeof cache.revoke !== 'function' ||
      typeof cache.revokeAll !== 'function'
    ) {
      throw new TypeError('cache must be a SessionCache (with revoke and revokeAll)');
    }
    if (!propagatesRevocations || closed) return () => undefined;
    bound.add(cache);
    unwatch ??= store.watchRevocations!(onRevocation);
    return () => {
      bound.delete(cache);
      if (bound.size === 0) stopWatching();
    };
  };
  const stopWatching = (): void => {
    const stop = unwatch;
    unwatch = undefined;
    stop?.();
  };

  const onGet: GetSessionCallback = (id: Uint8Array, info: GetSessionInfo) => {
    // An id no store can hold (TLS 1.3 PSK identities may be 65 535 bytes) is a miss, at no cost.
    if (closed || id.byteLength === 0 || id.byteLength > MAX_ID_BYTES) return undefined;
    const { namespace, singleUse } = info;
    const operation = singleUse ? 'take' : 'get';
    const ticket = acquire();
    if (ticket === BREAKER_REFUSED) {
      // A dead store is not asked: a miss at once, no lookup deadline to wait for.
      stats.breakerRejectedReads++;
      return undefined;
    }
    stats.reads++;
    let answer: Uint8Array | undefined | Promise<Uint8Array | undefined>;
    try {
      // Single use (TLS 1.3): the atomic take is what keeps one ticket from resuming twice across
      // every process sharing the store.
      answer = singleUse ? store.take(namespace, id) : store.get(namespace, id);
    } catch (error) {
      failed(ticket);
      stats.readErrors++;
      report(error, operation);
      // Passed on so that the cache counts a get error (and its miss event says `error`), not a
      // plain miss; the cache never lets it reach Node.
      throw error;
    }
    if (!isPromiseLike<Uint8Array | undefined>(answer)) {
      succeeded(ticket);
      return decode(answer, id, namespace);
    }
    const read = singleUse || unwatch === undefined ? undefined : { namespace, id, stale: false };
    if (read !== undefined) readsInFlight.add(read);
    // The cache stops waiting at its own deadline; this timer only tells the breaker (and the
    // counters) that the store is hanging, since a hung store never rejects.
    let done = false;
    const timer = startTimeout(readTimeoutMs, () => {
      if (done) return;
      done = true;
      stats.readTimeouts++;
      failed(ticket);
    });
    return Promise.resolve(answer).then(
      (value) => {
        if (!done) {
          done = true;
          clearTimeout(timer);
          succeeded(ticket);
        }
        if (read !== undefined) {
          readsInFlight.delete(read);
          if (read.stale && value !== undefined && value !== null) {
            stats.staleReads++;
            return undefined;
          }
        }
        return decode(value, id, namespace);
      },
      (error: unknown) => {
        if (read !== undefined) readsInFlight.delete(read);
        if (!done) {
          done = true;
          clearTimeout(timer);
          failed(ticket);
        }
        stats.readErrors++;
        report(error, operation);
        throw error;
      },
    );
  };

  const drain = (): Promise<void> =>
    stats.inFlight === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          idle.push(resolve);
        });

  const callbacks: StoreCallbacks = Object.freeze({ onNew, onRemove, onGet });
  return Object.freeze({
    store,
    callbacks,
    onNew,
    onRemove,
    onGet,
    stats: (): StoreAdapterStats => ({
      ...stats,
      breakerState: breaker === undefined ? 'disabled' : breaker.state,
      breakerOpens: breaker === undefined ? 0 : breaker.opens,
    }),
    bind,
    propagatesRevocations,
    drain,
    close: () => {
      closed = true;
      bound.clear();
      stopWatching();
      closing ??= drain().then(() => store.close());
      return closing;
    },
  });
}

const PROBE_ID = new Uint8Array([1]);

/**
 * Calls `onTimeout` once `ms` have passed and the I/O that arrived meanwhile has been read. After a
 * busy stretch of the event loop (a hundred handshakes at once) the timers phase runs before the
 * poll phase, so an answer that was sitting in the socket in time would otherwise lose to its own
 * timer, and a healthy but loaded store would open the breaker.
 */
function startTimeout(ms: number, onTimeout: () => void): NodeJS.Timeout {
  const timer = setTimeout(() => setImmediate(onTimeout), ms);
  timer.unref();
  return timer;
}

/** The error reported for a store call that did not settle in time; names no key or value. */
function timeoutError(operation: StoreOperation, ms: number): SessionCacheError {
  return new SessionCacheError(
    'ERR_STORE_TIMEOUT',
    `session store ${operation} did not settle within ${ms} ms`,
  );
}
