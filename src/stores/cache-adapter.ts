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
import type { SessionRecord } from '../node/session-record.js';
import { channels } from '../events.js';
import {
  CircuitBreaker,
  BREAKER_REFUSED,
  type CircuitBreakerOptions,
  type CircuitState,
} from './circuit-breaker.js';
import {
  StoredSessionError,
  decodeStoredSession,
  encodeStoredSession,
  type StoredSessionCodec,
} from './record.js';
import type { SessionStore } from './store.js';
import {
  MAX_ID_BYTES,
  checkOptions,
  functionOption,
  integerOption,
  isPromiseLike,
} from './validate.js';

/** Default of {@link StoreCallbacksOptions.maxInFlightWrites}. */
export const DEFAULT_MAX_IN_FLIGHT_WRITES = 1024;

/** Default of {@link StoreCallbacksOptions.writeTimeoutMs}. */
export const DEFAULT_WRITE_TIMEOUT_MS = 500;

/** Which store call failed, for {@link StoreCallbacksOptions.onError}. */
export type StoreOperation = 'set' | 'get' | 'take' | 'delete' | 'encode' | 'decode';

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
  const codecOptions = { codec: opts.codec };
  // Fails early on a malformed codec rather than on the first session.
  if (opts.codec !== undefined) {
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
        return decode(value, id, namespace);
      },
      (error: unknown) => {
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
    drain,
    close: () => {
      closed = true;
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
function timeoutError(operation: StoreOperation, ms: number): Error {
  return Object.assign(new Error(`session store ${operation} did not settle within ${ms} ms`), {
    code: 'ETIMEDOUT',
  });
}
