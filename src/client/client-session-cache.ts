// The client-side session cache: OpenSSL's SSL_get1_session side, for outgoing connections.
//
// What it keeps, and how it maps onto the store contract (namespace, id of 1–32 bytes → value, with
// an atomic `take`):
//
// - **Namespace = origin.** `client/` + SHA-256 of every connection option that must match for a
//   session to be offered (origin-key.ts). Different CAs, client certificates, server names,
//   version bounds or ALPN lists are different namespaces, so no lookup can ever cross them.
// - **Ids = slot numbers**, one byte each. Slot 0 holds the origin's newest TLS ≤ 1.2 session: it
//   is reusable (any number of connections may resume it) and is read with `get`. Slots
//   1…`ticketsPerOrigin` hold TLS 1.3 tickets: each is single use and is read with `take`, so that of
//   any number of connections — in this process or in any process sharing the store — exactly one
//   offers a given ticket. A TLS 1.3 server sends two or more tickets per connection; each goes to
//   its own slot, so concurrent connections to one origin use different tickets. The number of
//   slots is the per-origin bound: a new ticket goes to a slot this process believes empty (or
//   expired), else replaces the ticket that expires soonest.
// - Why slots rather than the ticket's own id: the store contract has no "any entry of this
//   namespace" query (`list` is optional and, in Redis, a scan of every key). With slots a process
//   that has never seen an origin — a new CLI run — finds its tickets with at most
//   `ticketsPerOrigin + 1` point reads, the same on every store.
// - **An in-process index** remembers, per origin, which slots this process wrote and until when
//   (no secrets: times only), so lookups try the slots likely to be full first; slots it believes
//   empty are tried afterwards, because other processes may have filled them. It is bounded by
//   `maxOrigins` (least recently used first out).
// - **Values** are the DER in a small envelope bound to its (namespace, slot)
//   (stored-client-session.ts), through the `codec` when one is given: encrypted at rest exactly
//   like the server's records. They expire in the store at the session's own deadline.
//
// Which sessions are kept (the warnings of SSL_get_session(3)):
// - only those Node's `session` event hands over (the reliable source: in TLS 1.3 a session exists
//   only once a ticket arrives, possibly late, possibly never);
// - only resumable ones (a ticket, or a TLS 1.2 session id) that have not expired, by the decoded
//   session's own time, timeout and ticket lifetime hint (client-session.ts);
// - never one from a connection that ended in an error: with `keep: 'immediately'` (OpenSSL's
//   behaviour) a session is stored when it arrives and removed again if its connection then fails;
//   with `keep: 'afterCleanClose'` it is held back until the connection has closed without an error.
import { errorMonitor, type EventEmitter } from 'node:events';
import tls from 'node:tls';
import { MemoryStore } from '../stores/memory-store.js';
import type { StoredSessionCodec } from '../session/stored-record.js';
import type { MaybePromise, SessionStore } from '../stores/store.js';
import { checkOptions, functionOption, integerOption, isPromiseLike } from '../common/validate.js';
import { clientSessionOf, type ClientSession } from './client-session.js';
import { originKeyOf, type OriginKey, type OriginOptions } from './origin-key.js';
import { decodeClientSession, encodeClientSession } from './stored-client-session.js';

/** Default of {@link ClientSessionCacheOptions.ticketsPerOrigin}. */
export const DEFAULT_TICKETS_PER_ORIGIN = 4;
/** Default of {@link ClientSessionCacheOptions.maxEntries}. */
export const DEFAULT_CLIENT_MAX_ENTRIES = 4096;
/** Default of {@link ClientSessionCacheOptions.maxBytes}. */
export const DEFAULT_CLIENT_MAX_BYTES = 8 * 1024 * 1024;
/** Default of {@link ClientSessionCacheOptions.maxOrigins}. */
export const DEFAULT_CLIENT_MAX_ORIGINS = 1024;

/** When a session Node hands over becomes available to other connections. */
export type KeepPolicy = 'immediately' | 'afterCleanClose';

/** Options of {@link ClientSessionCache}. */
export interface ClientSessionCacheOptions {
  /**
   * Where sessions live: a `MemoryStore` (this process), `SqliteStore` (every process on the host,
   * and across runs), `RedisStore` (a fleet). The cache never closes a store you pass.
   * @default a private MemoryStore bounded by `maxEntries` and `maxBytes`
   */
  store?: SessionStore;
  /**
   * Encryption at rest: transforms every value written, and is the only codec accepted when
   * reading (plain values are then refused). The same seam as the server's `storeCallbacks`.
   * @default undefined (plain values)
   */
  codec?: StoredSessionCodec;
  /** TLS 1.3 tickets kept per origin (slots), 1–32. @default 4 */
  ticketsPerOrigin?: number;
  /** Entries of the default MemoryStore (not allowed with `store`). @default 4096 */
  maxEntries?: number;
  /** Bytes of values of the default MemoryStore (not allowed with `store`). @default 8388608 (8 MiB) */
  maxBytes?: number;
  /** Origins the in-process slot index remembers (metadata only). @default 1024 */
  maxOrigins?: number;
  /** See {@link KeepPolicy}. @default 'immediately' */
  keep?: KeepPolicy;
  /** The clock, ms since the epoch; also given to the default MemoryStore. @default Date.now */
  clock?: () => number;
}

/** Counters of {@link ClientSessionCache.stats}. */
export interface ClientSessionCacheStats {
  /** Lookups made (connections that had no session of their own). */
  lookups: number;
  /** Lookups that found a session to offer. */
  hits: number;
  /** Lookups that found none. */
  misses: number;
  /** Connections that resumed (`isSessionReused()`), of those the cache watched. */
  resumed: number;
  /** Sessions written to the store. */
  stored: number;
  /** Sessions the store refused (too large, full, already expired). */
  notStored: number;
  /** Sessions Node handed over that can never be resumed (no ticket, no id), or malformed. */
  notResumable: number;
  /** Sessions found expired (when handed over, or when read back). */
  expired: number;
  /** Sessions dropped because their connection ended in an error. */
  droppedAfterError: number;
  /** Stored values that did not decode (another codec or key, tampered, another format). */
  decodeErrors: number;
  /** Store operations that threw or rejected (a miss or a lost write, never an error to you). */
  storeErrors: number;
}

interface OriginSlots {
  /** Per slot: when what this process last wrote there expires; 0 when believed empty. */
  readonly expires: number[];
  /** Per slot: a token of this process's last write, to undo only our own write. */
  readonly tokens: number[];
  cursor: number;
}

interface Written {
  readonly namespace: string;
  readonly slot: number;
  readonly token: number;
}

interface Watched {
  readonly key: OriginKey;
  pending: Buffer[];
  written: Written[];
  done: boolean;
  failed: boolean;
}

const SLOT_IDS: readonly Uint8Array[] = Array.from({ length: 33 }, (_, i) => Uint8Array.of(i));

/**
 * A session cache for outgoing TLS connections: keeps the sessions Node's clients are given,
 * keyed by everything that must match for resumption, and offers each TLS 1.3 ticket once.
 *
 * @example
 * ```ts
 * const cache = new ClientSessionCache({ store: await SqliteStore.open({ path: 'sessions.db' }) });
 * const socket = await cache.connect({ host: 'api.example.com', port: 443 });
 * ```
 */
export class ClientSessionCache {
  /** The store sessions live in. */
  readonly store: SessionStore;
  /** See {@link ClientSessionCacheOptions.ticketsPerOrigin}. */
  readonly ticketsPerOrigin: number;
  /** See {@link ClientSessionCacheOptions.keep}. */
  readonly keep: KeepPolicy;

  readonly #codec: StoredSessionCodec | undefined;
  readonly #ownsStore: boolean;
  readonly #maxOrigins: number;
  readonly #clock: () => number;
  readonly #origins = new Map<string, OriginSlots>();
  readonly #watched = new WeakMap<tls.TLSSocket, Watched>();
  readonly #writes = new Set<Promise<unknown>>();
  #token = 0;
  #deferred: (() => void)[] = [];
  #closed = false;
  readonly #stats: ClientSessionCacheStats = {
    lookups: 0,
    hits: 0,
    misses: 0,
    resumed: 0,
    stored: 0,
    notStored: 0,
    notResumable: 0,
    expired: 0,
    droppedAfterError: 0,
    decodeErrors: 0,
    storeErrors: 0,
  };

  /**
   * @param options - see {@link ClientSessionCacheOptions}; invalid values throw a `TypeError` or
   * `RangeError` naming the option
   */
  constructor(options: ClientSessionCacheOptions = {}) {
    checkOptions(options);
    this.ticketsPerOrigin = integerOption(
      'ticketsPerOrigin',
      options.ticketsPerOrigin,
      DEFAULT_TICKETS_PER_ORIGIN,
      1,
      32,
    );
    this.#maxOrigins = integerOption(
      'maxOrigins',
      options.maxOrigins,
      DEFAULT_CLIENT_MAX_ORIGINS,
      1,
    );
    this.#clock = functionOption('clock', options.clock) ?? Date.now;
    const keep = options.keep ?? 'immediately';
    if (keep !== 'immediately' && keep !== 'afterCleanClose') {
      throw new RangeError(`keep must be 'immediately' or 'afterCleanClose', got ${String(keep)}`);
    }
    this.keep = keep;
    const codec = options.codec;
    if (
      codec !== undefined &&
      (typeof codec !== 'object' ||
        codec === null ||
        typeof codec.encode !== 'function' ||
        typeof codec.decode !== 'function' ||
        !Number.isInteger(codec.id) ||
        codec.id < 1 ||
        codec.id > 255)
    ) {
      throw new TypeError('codec must be { id: 1–255, encode(), decode() }');
    }
    this.#codec = codec;
    if (options.store !== undefined) {
      const store = options.store;
      if (typeof store !== 'object' || store === null || typeof store.take !== 'function') {
        throw new TypeError('store must be a SessionStore');
      }
      if (options.maxEntries !== undefined || options.maxBytes !== undefined) {
        throw new TypeError(
          'maxEntries and maxBytes size the default MemoryStore: set them on the store you pass',
        );
      }
      this.store = store;
      this.#ownsStore = false;
    } else {
      this.store = new MemoryStore({
        maxEntries: integerOption('maxEntries', options.maxEntries, DEFAULT_CLIENT_MAX_ENTRIES, 1),
        maxBytes: integerOption('maxBytes', options.maxBytes, DEFAULT_CLIENT_MAX_BYTES, 1),
        clock: this.#clock,
      });
      this.#ownsStore = true;
    }
  }

  /** A copy of the counters. */
  stats(): ClientSessionCacheStats {
    return { ...this.#stats };
  }

  /**
   * Takes a session to offer to a connection with these options: a TLS 1.3 ticket (removed from
   * the store: it is never offered again) or else the origin's TLS 1.2 session. Answers
   * synchronously when the store does. Never rejects: a failing store is a miss.
   *
   * @param options - the `tls.connect` options of the connection, or an {@link OriginKey}
   * @returns the session for `tls.connect({ session })`, or `undefined`
   */
  lookup(options: OriginOptions | OriginKey): MaybePromise<Buffer | undefined> {
    const key = keyOf(options);
    this.#flushDeferred();
    this.#stats.lookups++;
    if (this.#closed) return this.#miss();
    const ns = key.namespace;
    const origin = this.#origin(ns);
    const now = this.#clock();
    const order = this.#ticketOrder(origin, now);
    const step = (i: number): MaybePromise<Buffer | undefined> => {
      if (i < order.length) {
        const slot = order[i]!;
        origin.expires[slot] = 0;
        origin.tokens[slot] = 0;
        return settle(
          () => this.store.take(ns, SLOT_IDS[slot]!),
          (value) => {
            const session = value === undefined ? undefined : this.#read(value, ns, slot);
            return session === undefined ? step(i + 1) : this.#hit(session.der);
          },
          () => {
            this.#stats.storeErrors++;
            return step(i + 1);
          },
        );
      }
      return settle(
        () => this.store.get(ns, SLOT_IDS[0]!),
        (value) => {
          if (value === undefined) return this.#miss();
          const session = this.#read(value, ns, 0);
          if (session === undefined) {
            this.#background(() => this.store.delete(ns, SLOT_IDS[0]!));
            return this.#miss();
          }
          origin.expires[0] = session.expiresAtMs;
          return this.#hit(session.der);
        },
        () => {
          this.#stats.storeErrors++;
          return this.#miss();
        },
      );
    };
    return step(0);
  }

  /**
   * Keeps a session now (as Node's `session` event handed it over), if it is resumable and
   * unexpired. Prefer {@link ClientSessionCache.watch}, which also keeps sessions of failed
   * connections out.
   *
   * @returns whether it was stored; never rejects
   */
  add(options: OriginOptions | OriginKey, session: Buffer): MaybePromise<boolean> {
    const written = this.#write(keyOf(options), session);
    return written === undefined ? false : written.result;
  }

  /**
   * Watches a client socket: keeps the sessions it is handed (its `session` events), according to
   * {@link ClientSessionCacheOptions.keep}, and none once it ended in an error. Adds only `session`,
   * `secureConnect`, `close` and `errorMonitor` listeners (never an `error` listener: your error
   * handling is unchanged).
   *
   * @param socket - a socket from `tls.connect`, before its handshake completed
   * @param options - the options it was made with, or their {@link OriginKey}
   */
  watch(socket: tls.TLSSocket, options: OriginOptions | OriginKey): void {
    const watched: Watched = {
      key: keyOf(options),
      pending: [],
      written: [],
      done: false,
      failed: false,
    };
    this.#watched.set(socket, watched);
    socket.once('secureConnect', () => {
      if (socket.isSessionReused()) this.#stats.resumed++;
    });
    socket.on('session', (session: Buffer) => {
      if (watched.done) return;
      if (this.keep === 'immediately') {
        // After the I/O callback that delivered the ticket: the response that often arrives in the
        // same read is handed to the application first, and a store write (a SQLite commit) is
        // not on the path to its first byte. A lookup meanwhile writes pending sessions first.
        this.#defer(() => {
          if (watched.failed) {
            this.#stats.droppedAfterError++;
            return;
          }
          const written = this.#write(watched.key, session);
          if (written !== undefined) {
            pushBounded(watched.written, written, this.ticketsPerOrigin + 1);
          }
        });
      } else {
        pushBounded(watched.pending, session, this.ticketsPerOrigin + 1);
      }
    });
    // errorMonitor sees every 'error' without handling it: an application without an error
    // listener still crashes as before. Needed because after a TLS alert Node emits 'error' but
    // leaves the socket open; the application may then destroy() it, which closes "cleanly".
    (socket as EventEmitter).on(errorMonitor, (error: unknown) => {
      if (watched.done || !isTlsFailure(error)) return;
      watched.done = true;
      this.#failed(watched);
    });
    // Not `hadError`: undici (and others) destroy sockets with an error to close them routinely.
    socket.once('close', () => {
      if (watched.done) return;
      watched.done = true;
      this.#commit(watched);
    });
  }

  /**
   * Keeps the held-back sessions of a watched socket now, as if it had closed cleanly (with
   * `keep: 'afterCleanClose'`): for keep-alive pools, once a request completed on it. Sessions it
   * receives later are held back again.
   */
  release(socket: tls.TLSSocket): void {
    const watched = this.#watched.get(socket);
    if (watched !== undefined && !watched.done) this.#commit(watched);
  }

  /**
   * `tls.connect` with a cached session offered and the socket watched; resolves once the
   * connection is secure (`secureConnect`: handshake done, certificate checked), or rejects with
   * the error that ended it first (a TLS alert, a failed certificate check, `ECONNREFUSED`, …),
   * after which the socket is destroyed. A `session` you pass is used as is (and not taken from the
   * cache).
   *
   * Because it resolves after the handshake, `socket.isSessionReused()` is final at once, and a
   * caller that closes the socket straight away never cuts a handshake short (which Node reports
   * as an `ECONNRESET` `error` event, fatal without a listener). A `secureConnect` listener added
   * after the `await` never runs: pass it as `secureConnectListener`. Add your own `error`
   * listener once it resolved, as for any socket.
   *
   * @param options - `tls.connect` options
   * @param secureConnectListener - as for `tls.connect`
   * @returns the socket, connected and secure
   */
  async connect(
    options: tls.ConnectionOptions,
    secureConnectListener?: () => void,
  ): Promise<tls.TLSSocket> {
    const key = originKeyOf(options);
    const session = options.session ?? (await this.lookup(key));
    const socket = tls.connect(
      session === undefined ? options : { ...options, session },
      secureConnectListener,
    );
    this.watch(socket, key);
    await new Promise<void>((resolve, reject) => {
      const onSecure = (): void => {
        socket.off('error', onError);
        resolve();
      };
      const onError = (error: Error): void => {
        socket.off('secureConnect', onSecure);
        socket.destroy();
        reject(error);
      };
      socket.once('secureConnect', onSecure);
      socket.once('error', onError);
    });
    return socket;
  }

  /** Removes every session of an origin, from the store too. */
  async forget(options: OriginOptions | OriginKey): Promise<void> {
    const key = keyOf(options);
    this.#origins.delete(key.namespace);
    await Promise.all(
      SLOT_IDS.slice(0, this.ticketsPerOrigin + 1).map(async (id) => {
        try {
          await this.store.delete(key.namespace, id);
        } catch {
          this.#stats.storeErrors++;
        }
      }),
    );
  }

  /** Waits for background store writes and deletes to settle. */
  async drain(): Promise<void> {
    this.#flushDeferred();
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
  }

  /**
   * Stops taking sessions, waits for pending writes, and closes the store if the cache made it
   * (a store you passed stays open). Idempotent.
   */
  async close(): Promise<void> {
    this.#flushDeferred();
    this.#closed = true;
    await this.drain();
    if (this.#ownsStore) await this.store.close();
  }

  #defer(write: () => void): void {
    this.#deferred.push(write);
    if (this.#deferred.length === 1) setImmediate(() => this.#flushDeferred());
  }

  #flushDeferred(): void {
    const writes = this.#deferred;
    if (writes.length === 0) return;
    this.#deferred = [];
    for (const write of writes) write();
  }

  #hit(der: Buffer): Buffer {
    this.#stats.hits++;
    return der;
  }

  #miss(): undefined {
    this.#stats.misses++;
    return undefined;
  }

  #origin(namespace: string): OriginSlots {
    let origin = this.#origins.get(namespace);
    if (origin !== undefined) {
      // Least recently used first out: re-inserting moves it to the end of the Map's order.
      this.#origins.delete(namespace);
    } else {
      const slots = this.ticketsPerOrigin + 1;
      origin = {
        expires: new Array<number>(slots).fill(0),
        tokens: new Array<number>(slots).fill(0),
        cursor: 1 + Math.floor(Math.random() * this.ticketsPerOrigin),
      };
      if (this.#origins.size >= this.#maxOrigins) {
        const oldest = this.#origins.keys().next();
        if (oldest.done !== true) this.#origins.delete(oldest.value);
      }
    }
    this.#origins.set(namespace, origin);
    return origin;
  }

  // Slots believed full first (soonest-expiring first, so no ticket is left to expire unused), then
  // the others, from this process's cursor, since other processes may have filled them.
  #ticketOrder(origin: OriginSlots, now: number): number[] {
    const full: number[] = [];
    const rest: number[] = [];
    for (let k = 0; k < this.ticketsPerOrigin; k++) {
      const slot = 1 + ((origin.cursor - 1 + k) % this.ticketsPerOrigin);
      (origin.expires[slot]! > now ? full : rest).push(slot);
    }
    full.sort((a, b) => origin.expires[a]! - origin.expires[b]!);
    return full.concat(rest);
  }

  #pickTicketSlot(origin: OriginSlots, now: number): number {
    let victim = 1;
    for (let k = 0; k < this.ticketsPerOrigin; k++) {
      const slot = 1 + ((origin.cursor - 1 + k) % this.ticketsPerOrigin);
      if (origin.expires[slot]! <= now) {
        victim = slot;
        break;
      }
      if (origin.expires[slot]! < origin.expires[victim]!) victim = slot;
    }
    origin.cursor = 1 + (victim % this.ticketsPerOrigin);
    return victim;
  }

  #read(value: Uint8Array, namespace: string, slot: number): ClientSession | undefined {
    let der: Buffer;
    try {
      der = decodeClientSession(value, namespace, SLOT_IDS[slot]!, this.#codec);
    } catch {
      this.#stats.decodeErrors++;
      return undefined;
    }
    const session = clientSessionOf(der, this.#clock());
    if (session === 'expired') {
      this.#stats.expired++;
      return undefined;
    }
    // A slot holds one kind only: a reusable session in a ticket slot would be offered twice.
    if (typeof session === 'string' || session.singleUse !== slot > 0) {
      this.#stats.decodeErrors++;
      return undefined;
    }
    return session;
  }

  #write(key: OriginKey, der: Buffer): (Written & { result: MaybePromise<boolean> }) | undefined {
    if (this.#closed || !Buffer.isBuffer(der)) return undefined;
    const now = this.#clock();
    const session = clientSessionOf(der, now);
    if (typeof session === 'string') {
      if (session === 'expired') this.#stats.expired++;
      else this.#stats.notResumable++;
      return undefined;
    }
    const ns = key.namespace;
    const origin = this.#origin(ns);
    const slot = session.singleUse ? this.#pickTicketSlot(origin, now) : 0;
    const token = ++this.#token;
    origin.expires[slot] = session.expiresAtMs;
    origin.tokens[slot] = token;
    const value = encodeClientSession(der, ns, SLOT_IDS[slot]!, this.#codec);
    const result = settle(
      () => this.store.set(ns, SLOT_IDS[slot]!, value, session.expiresAtMs),
      (stored) => {
        if (stored) this.#stats.stored++;
        else this.#stats.notStored++;
        return stored;
      },
      () => {
        this.#stats.storeErrors++;
        return false;
      },
    );
    if (isPromiseLike(result)) this.#track(result);
    return { namespace: ns, slot, token, result };
  }

  #commit(watched: Watched): void {
    const pending = watched.pending;
    watched.pending = [];
    for (const der of pending) this.#write(watched.key, der);
  }

  #failed(watched: Watched): void {
    watched.failed = true;
    this.#stats.droppedAfterError += watched.pending.length + watched.written.length;
    watched.pending = [];
    for (const w of watched.written) {
      const origin = this.#origins.get(w.namespace);
      // Undo only our own write: if this process wrote the slot again since, that is another
      // connection's session. (Another process may have; then we lose its ticket: a full handshake.)
      if (origin !== undefined && origin.tokens[w.slot] !== w.token) continue;
      if (origin !== undefined) {
        origin.expires[w.slot] = 0;
        origin.tokens[w.slot] = 0;
      }
      this.#background(() => this.store.delete(w.namespace, SLOT_IDS[w.slot]!));
    }
    watched.written = [];
  }

  #background(op: () => MaybePromise<unknown>): void {
    const result = settle(
      op,
      () => undefined,
      () => {
        this.#stats.storeErrors++;
      },
    );
    if (isPromiseLike(result)) this.#track(result);
  }

  #track(promise: PromiseLike<unknown>): void {
    const p = Promise.resolve(promise);
    this.#writes.add(p);
    void p.finally(() => this.#writes.delete(p));
  }
}

/**
 * Whether an error ends a connection the way a fatal TLS alert does, so that its sessions must not
 * be resumed (OpenSSL removes the session then). Transport errors (`ECONNRESET`, `EPIPE`, … — OpenSSL's
 * SSL_ERROR_SYSCALL, which keeps the session) and HTTP clients' own errors (undici's `UND_ERR_*`,
 * used to close idle sockets) are not; anything else, OpenSSL's errors first, is.
 */
export function isTlsFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  const { code, library } = error as { code?: unknown; library?: unknown };
  if (typeof library === 'string') return true;
  return !(typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code));
}

function keyOf(options: OriginOptions | OriginKey): OriginKey {
  if (
    typeof options === 'object' &&
    options !== null &&
    'namespace' in options &&
    'label' in options
  ) {
    return options as OriginKey;
  }
  return originKeyOf(options as OriginOptions);
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.shift();
}

/**
 * Runs `op` and continues with `then` or `otherwise`, synchronously when `op` answered
 * synchronously: an in-process store adds no promise to the connection path.
 */
function settle<T, U>(
  op: () => MaybePromise<T>,
  then: (value: T) => MaybePromise<U>,
  otherwise: (error: unknown) => MaybePromise<U>,
): MaybePromise<U> {
  let value: MaybePromise<T>;
  try {
    value = op();
  } catch (error) {
    return otherwise(error);
  }
  if (isPromiseLike<T>(value)) return Promise.resolve(value).then(then, otherwise);
  return then(value);
}
