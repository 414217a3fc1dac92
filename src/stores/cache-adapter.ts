// Any SessionStore as a SessionCache's external cache: the store packaged as OpenSSL's three
// callbacks. The engine stays store-agnostic (it only knows callbacks), and a user who wants
// something else still passes callbacks of their own.
// It composes named pieces, one concept each, under ./adapter/: the encoding (stored-value.ts), the
// write slots (write-queue.ts), the breaker in front of every call (breaker-gate.ts), the timeouts
// (timed-call.ts) and the revocation fan-out with its stale-read guard (revocation-binding.ts).
// The three callbacks are made once per adapter: a call allocates no more than the store's own
// promise handling needs.
import { DEFAULT_LOOKUP_DEADLINE_MS, DEFAULT_SESSION_TIMEOUT } from '../cache/options.js';
import type {
  CachedSession,
  GetSessionCallback,
  GetSessionInfo,
  NewSessionCallback,
  RemoveReason,
  RemoveSessionCallback,
} from '../cache/types.js';
import { channels } from '../cache/events.js';
import type { CircuitBreakerOptions, CircuitState } from './circuit-breaker.js';
import type { StoredSessionCodec } from '../session/stored-record.js';
import type { SessionStore } from './store.js';
import { storeState, type StoreState } from './store-state.js';
import { codecFromOptions, type EncryptionOption } from './encryption/options.js';
import {
  MAX_ID_BYTES,
  checkKnownKeys,
  checkOptions,
  functionOption,
  integerOption,
  isPromiseLike,
} from '../common/validate.js';
import { BREAKER_REFUSED, BreakerGate } from './adapter/breaker-gate.js';
import { WriteQueue } from './adapter/write-queue.js';
import {
  RevocationBinding,
  type ReadInFlight,
  type RevocableCache,
} from './adapter/revocation-binding.js';
import { StoredValues } from './adapter/stored-value.js';
import { startTimeout, type StoreOperation } from './adapter/timed-call.js';

export type { StoreOperation } from './adapter/timed-call.js';
export type { RevocableCache } from './adapter/revocation-binding.js';

/** Default of {@link StoreCallbacksOptions.maxInFlightWrites}. */
export const DEFAULT_MAX_IN_FLIGHT_WRITES = 1024;

/** Default of {@link StoreCallbacksOptions.writeTimeoutMs}. */
export const DEFAULT_WRITE_TIMEOUT_MS = 500;

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

/** Every key of {@link StoreCallbacksOptions}, for the unknown-key check. */
const STORE_CALLBACKS_OPTION_KEYS: Readonly<Record<keyof StoreCallbacksOptions, true>> = {
  maxInFlightWrites: true,
  codec: true,
  encryption: true,
  timeout: true,
  clock: true,
  onError: true,
  breaker: true,
  readTimeoutMs: true,
  writeTimeoutMs: true,
};

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
  /**
   * The store's own state now (`storeState(store)`): `degraded` while a networked store cannot
   * reach its server (every call then fails at once), `ready` otherwise (always, for memory and
   * SQLite).
   */
  storeState: StoreState;
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
  /**
   * Resolves once the store's revocation reports reach the bound caches (at most the store's
   * startup bound; see `SessionStore.revocationsInForce`); a lookup made before may miss when the
   * subscription comes into force. At once when nothing is bound. Never rejects.
   * @returns whether the reports are in force
   */
  revocationsInForce(): Promise<boolean>;
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
  checkKnownKeys('storeCallbacks', opts, STORE_CALLBACKS_OPTION_KEYS);
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
  const gate = new BreakerGate(opts.breaker, store.kind);

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
    storeState: 'ready',
  };
  let closed = false;
  let closing: Promise<void> | undefined;

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

  const values = new StoredValues(
    codecFromOptions(opts.codec, opts.encryption),
    store,
    stats,
    report,
  );
  const writes = new WriteQueue(maxInFlight, writeTimeoutMs, gate, stats, report);
  const revocations = new RevocationBinding(store, stats, report);
  const countNotStored = (stored: unknown): void => {
    if (stored === false) stats.notStored++;
  };
  const ignore = (): void => undefined;

  const onNew: NewSessionCallback = (session: CachedSession) => {
    if (closed || writes.full) {
      stats.droppedWrites++;
      return;
    }
    // Asked first, so that an outage costs no encoding.
    const ticket = gate.acquire();
    if (ticket === BREAKER_REFUSED) {
      stats.droppedWrites++;
      return;
    }
    let value: Uint8Array;
    try {
      value = values.encode(session);
    } catch (error) {
      // Not the store's fault: a probe ticket goes back unused.
      gate.release(ticket);
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
      gate.failed(ticket);
      stats.writeErrors++;
      report(error, 'set');
      return;
    }
    if (isPromiseLike<boolean>(result)) {
      writes.track(result, 'set', ticket, countNotStored);
    } else {
      gate.succeeded(ticket);
      if (result === false) stats.notStored++;
    }
    // Kept in memory whatever the store answered: this process can still resume it.
  };

  const onRemove: RemoveSessionCallback = (id, reason, _session, namespace) => {
    if (!DELETE_ON_REMOVE[reason] || id.byteLength === 0 || id.byteLength > MAX_ID_BYTES) return;
    if (closed || writes.full) {
      stats.droppedDeletes++;
      return;
    }
    const ticket = gate.acquire();
    if (ticket === BREAKER_REFUSED) {
      stats.droppedDeletes++;
      return;
    }
    stats.deletes++;
    let result: boolean | Promise<boolean>;
    try {
      result = store.delete(namespace, id);
    } catch (error) {
      gate.failed(ticket);
      stats.deleteErrors++;
      report(error, 'delete');
      return;
    }
    if (isPromiseLike<boolean>(result)) writes.track(result, 'delete', ticket, ignore);
    else gate.succeeded(ticket);
  };

  const onGet: GetSessionCallback = (id: Uint8Array, info: GetSessionInfo) => {
    // An id no store can hold (TLS 1.3 PSK identities may be 65 535 bytes) is a miss, at no cost.
    if (closed || id.byteLength === 0 || id.byteLength > MAX_ID_BYTES) return undefined;
    const { namespace, singleUse } = info;
    const operation = singleUse ? 'take' : 'get';
    const ticket = gate.acquire();
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
      gate.failed(ticket);
      stats.readErrors++;
      report(error, operation);
      // Passed on so that the cache counts a get error (and its miss event says `error`), not a
      // plain miss; the cache never lets it reach Node.
      throw error;
    }
    if (!isPromiseLike<Uint8Array | undefined>(answer)) {
      gate.succeeded(ticket);
      return values.decode(answer, id, namespace);
    }
    const read: ReadInFlight | undefined =
      singleUse || !revocations.watching ? undefined : { namespace, id, stale: false };
    if (read !== undefined) revocations.beginRead(read);
    // The cache stops waiting at its own deadline; this timer only tells the breaker (and the
    // counters) that the store is hanging, since a hung store never rejects.
    let done = false;
    const timer = startTimeout(readTimeoutMs, () => {
      if (done) return;
      done = true;
      stats.readTimeouts++;
      gate.failed(ticket);
    });
    return Promise.resolve(answer).then(
      (value) => {
        if (!done) {
          done = true;
          clearTimeout(timer);
          gate.succeeded(ticket);
        }
        if (read !== undefined) {
          revocations.endRead(read);
          if (read.stale && value !== undefined && value !== null) {
            stats.staleReads++;
            return undefined;
          }
        }
        return values.decode(value, id, namespace);
      },
      (error: unknown) => {
        if (read !== undefined) revocations.endRead(read);
        if (!done) {
          done = true;
          clearTimeout(timer);
          gate.failed(ticket);
        }
        stats.readErrors++;
        report(error, operation);
        throw error;
      },
    );
  };

  const callbacks: StoreCallbacks = Object.freeze({ onNew, onRemove, onGet });
  return Object.freeze({
    store,
    callbacks,
    onNew,
    onRemove,
    onGet,
    stats: (): StoreAdapterStats => ({
      ...stats,
      breakerState: gate.state,
      breakerOpens: gate.opens,
      storeState: storeState(store),
    }),
    bind: (cache: RevocableCache) => revocations.bind(cache, closed),
    propagatesRevocations: revocations.propagates,
    revocationsInForce: () => revocations.inForce(),
    drain: () => writes.drain(),
    close: () => {
      closed = true;
      revocations.close();
      closing ??= writes.drain().then(() => store.close());
      return closing;
    },
  });
}
