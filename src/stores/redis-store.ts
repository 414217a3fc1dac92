// RedisStore: the session store in Redis (one server, a Redis Cluster, or a master found through
// Redis Sentinel), shared by every process and host of a service.
//
// Every operation is one command on one key — SET … PXAT, GET, GETDEL, DEL — so none needs
// multi-key atomicity and a cluster needs no hash tags: `take` is atomic because GETDEL is. Listing
// SCANs (never KEYS) every master.
//
// Failure is the normal case to design for (issue 5: fail open, bounded): a store error becomes a
// miss or a dropped write in the cache, so the store's job is to fail *fast* and never hold work.
// Hence: no offline queue (a command while disconnected fails at once), no retries of a command
// after a reconnect, a deadline on every command, a hard cap on commands in flight, a socket that
// stays silent while commands wait is declared dead and reconnected, and reconnection attempts at
// most `maxReconnectDelayMs` apart, so that the store is back soon after Redis is. The same holds
// from the first second: a Redis that is down when the store opens is an outage like any other
// (the store starts `degraded` after `startupTimeoutMs` and connects in the background), while a
// Redis that answers and refuses the settings (password, database) is a mistake and fails `create`.
import type { Cluster, Redis } from 'ioredis';
import { checkListOptions, matchesList } from './list-options.js';
import { SessionCacheError } from '../common/errors.js';
import type {
  ListOptions,
  Revocation,
  RevocationListener,
  SessionStore,
  StoredEntry,
  StoreStats,
} from './store.js';
import { EVERYTHING, RevocationPublisher, RevocationWatchers } from './revocations.js';
import {
  RevocationSubscriber,
  encodeRevocations,
  newOrigin,
  revocationChannel,
} from './redis-revocations.js';
import {
  RedisKeyCodec,
  VALUE_HEADER_BYTES,
  decodeDeadline,
  decodeLiveValue,
  encodeValue,
  valueOf,
} from './redis-keys.js';
import {
  resolveRedisOptions,
  type RedisStoreOptions,
  type ResolvedRedisOptions,
} from './redis-options.js';
import { StoreStateTracker, type StoreState } from './store-state.js';
import {
  checkBytes,
  checkDeadline,
  checkId,
  checkNamespace,
  isStorableId,
} from '../common/validate.js';

export {
  parseRedisUrl,
  REDIS_STORE_DEFAULTS,
  type ParsedRedisUrl,
  type RedisNodeAddress,
  type RedisStoreOptions,
} from './redis-options.js';

/** The name ioredis gives the set-if-absent script (see {@link RedisStore.setIfAbsent}). */
const SET_IF_ABSENT_COMMAND = 'tlsSessionCacheSetIfAbsent';

/**
 * KEYS[1] the key; ARGV: the encoded value (header ‖ value), the PXAT time, "now" by the store's
 * clock. A live value of ours (format byte 1, 8-byte big-endian deadline after now) is kept;
 * anything else — nothing, an expired one, a value not ours — is replaced. Deadlines are below
 * 2^53, so Lua's doubles hold them exactly.
 */
const SET_IF_ABSENT_LUA = `
local v = redis.call('GET', KEYS[1])
if v and string.len(v) >= 9 and string.byte(v, 1) == 1 then
  local d = 0
  for i = 2, 9 do d = d * 256 + string.byte(v, i) end
  if d > tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
return 1
`;

/**
 * Why a {@link RedisStore} operation failed, in the lower-case words of earlier releases (kept as
 * {@link RedisStoreError.reason}); {@link RedisStoreError.code} is the stable code shared by every
 * store:
 * - `closed` (`ERR_STORE_CLOSED`): the store was closed;
 * - `unavailable` (`ERR_STORE_UNAVAILABLE`): not connected to Redis right now (refused, down,
 *   reconnecting);
 * - `timeout` (`ERR_STORE_TIMEOUT`): no answer within `commandTimeoutMs`;
 * - `overloaded` (`ERR_STORE_OVERLOADED`): `maxPendingCommands` commands were already in flight;
 * - `unsupported` (`ERR_STORE_UNSUPPORTED`): the server lacks a command the store needs (Redis < 6.2);
 * - `command` (`ERR_STORE_COMMAND`): Redis answered with an error (e.g. `OOM`, `MOVED` storms);
 * - `config` (`ERR_STORE_CONFIG`): Redis answered and refused the store's settings — a wrong
 *   password or user (`WRONGPASS`, `NOAUTH`), a database it does not have, an ACL without the
 *   commands (`NOPERM`). Not an outage: {@link RedisStore.create} rejects with it even when it
 *   would start degraded.
 */
export type RedisStoreErrorReason =
  'closed' | 'unavailable' | 'timeout' | 'overloaded' | 'unsupported' | 'command' | 'config';

/** The codes a {@link RedisStoreError} carries (a subset of {@link StoreErrorCode}). */
export type RedisStoreErrorCode =
  | 'ERR_STORE_CLOSED'
  | 'ERR_STORE_UNAVAILABLE'
  | 'ERR_STORE_TIMEOUT'
  | 'ERR_STORE_OVERLOADED'
  | 'ERR_STORE_UNSUPPORTED'
  | 'ERR_STORE_COMMAND'
  | 'ERR_STORE_CONFIG';

const REDIS_ERROR_CODES: Readonly<Record<RedisStoreErrorReason, RedisStoreErrorCode>> = {
  closed: 'ERR_STORE_CLOSED',
  unavailable: 'ERR_STORE_UNAVAILABLE',
  timeout: 'ERR_STORE_TIMEOUT',
  overloaded: 'ERR_STORE_OVERLOADED',
  unsupported: 'ERR_STORE_UNSUPPORTED',
  command: 'ERR_STORE_COMMAND',
  config: 'ERR_STORE_CONFIG',
};

/**
 * The error of a failed {@link RedisStore} operation: a {@link SessionCacheError} whose `code` is
 * one of {@link RedisStoreErrorCode}. Its message never holds the password.
 */
export class RedisStoreError extends SessionCacheError<RedisStoreErrorCode> {
  /** Always `'RedisStoreError'`, so logs and `error.name` checks tell it apart. */
  override readonly name = 'RedisStoreError';
  /**
   * The same as {@link code} in the lower-case words of earlier releases; see
   * {@link RedisStoreErrorReason}.
   * @deprecated switch on `code`, as for every other store
   */
  readonly reason: RedisStoreErrorReason;

  /** @internal */
  constructor(reason: RedisStoreErrorReason, message: string) {
    super(REDIS_ERROR_CODES[reason], message);
    this.reason = reason;
  }
}

/**
 * Errors that say the settings are wrong rather than that Redis is away: a wrong password or user,
 * a password missing, a database the server does not have, an ACL that forbids a command, a TLS
 * certificate refused (either way: an unknown CA, a host name that does not match, a client
 * certificate missing).
 */
const CONFIG_ERROR =
  /WRONGPASS|NOAUTH|invalid username-password|DB index is out of range|NOPERM|certificate/i;

/**
 * Connection failures that will not mend within a start-up wait: nothing listens there, the name
 * does not resolve, no route. `requireStore` gives up at once on these; any other failure (a
 * connect or ready check that timed out on a busy host, a connection reset) is retried until
 * `startupTimeoutMs`.
 */
const DEFINITIVE_CONNECT_ERROR = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH/;

/** Keys per SCAN page and per pipeline in `list`, `clear` and `stats`. */
const SCAN_COUNT = 500;

/** The two classes used from ioredis (loaded lazily). */
interface IoredisModule {
  readonly Redis: typeof Redis;
  readonly Cluster: typeof Cluster;
}
type Client = Redis | Cluster;

/** How ioredis is imported; {@link useIoredisModule} changes it for tests. */
let importIoredis: () => Promise<IoredisModule> = () => import('ioredis');

/**
 * Makes {@link RedisStore.create} import ioredis with `load` until the returned function is called.
 * For tests: every supported ioredis major (peer `^5 || ^6`) runs the same store code, so the tests
 * load the other major, installed under an npm alias (`() => import('ioredis5')`), through here.
 * @internal
 */
export function useIoredisModule(load: () => Promise<unknown>): () => void {
  const previous = importIoredis;
  importIoredis = load as () => Promise<IoredisModule>;
  return () => {
    importIoredis = previous;
  };
}

/**
 * Loads the optional ioredis dependency on first use, so that users of the other stores never
 * need it installed.
 */
async function loadIoredis(): Promise<IoredisModule> {
  try {
    const ioredis = await importIoredis();
    return { Redis: ioredis.Redis, Cluster: ioredis.Cluster };
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new SessionCacheError(
        'ERR_DEPENDENCY_MISSING',
        'RedisStore needs the optional dependency ioredis: npm install ioredis',
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * A {@link SessionStore} in Redis ≥ 6.2 (or a Redis-compatible server with `SET … PXAT` and
 * `GETDEL`, e.g. Valkey): one server, a Redis Cluster, or the master that Redis Sentinel names
 * (followed across failovers). Create it with {@link RedisStore.create}.
 *
 * Each session is one Redis string, key `keyPrefix ‖ NUL ‖ namespace ‖ NUL ‖ id` (bytes), value a
 * 9-byte header (format, deadline) and the stored bytes; Redis expires it at its deadline.
 * `set` is `SET … PXAT`, `get` is `GET`, `take` is `GETDEL` (atomic across every process and
 * host), `delete` is `DEL`; `list`, `clear` and `stats` SCAN every master and cost O(entries).
 *
 * A down, unreachable or paused Redis makes operations fail fast (at once while disconnected,
 * within `commandTimeoutMs` otherwise) and never queues them: the cache turns the failures into
 * full handshakes and dropped writes. That includes a Redis that is down when the store is
 * created: `create` resolves within `startupTimeoutMs` with the store `degraded` (see
 * {@link RedisStore.state}) unless `requireStore` is set.
 *
 * @example
 * ```ts
 * const store = await RedisStore.create({ url: 'redis://:secret@10.0.0.5:6379/0' });
 * const cluster = await RedisStore.create({ url: 'redis+cluster://10.0.0.5:7000,10.0.0.6:7000' });
 * const ha = await RedisStore.create({ url: 'redis+sentinel://10.0.0.7:26379,10.0.0.8:26379/sessions' });
 * ```
 */
export class RedisStore implements SessionStore {
  /** `"redis"`. */
  readonly kind = 'redis';
  /** See {@link RedisStoreOptions.maxValueBytes}. */
  readonly maxValueBytes: number;
  /** Whether the store talks to a Redis Cluster. */
  readonly cluster: boolean;
  /** Whether the store finds its master through Redis Sentinel. */
  readonly sentinel: boolean;

  readonly #options: ResolvedRedisOptions;
  readonly #client: Client;
  readonly #keys: RedisKeyCodec;
  readonly #clock: () => number;
  #pending = 0;
  #closing: Promise<void> | undefined;
  /** The last connection-level error, for the message of `unavailable` errors. */
  #lastError: Error | undefined;
  /** The last error of one cluster node or sentinel (ECONNREFUSED, WRONGPASS, …). */
  #lastNodeError: Error | undefined;
  readonly #state: StoreStateTracker;
  /** Told of a reply that says the settings are wrong, while `create` waits (see #start). */
  #onConfigError: ((error: Error) => void) | undefined;
  /** Told when the store is first ready, while `create` waits (see #start). */
  #onStartReady: (() => void) | undefined;
  /** This connection's `SELECT` was refused (see #onReady). */
  #selectRefused = false;
  /** Connects again after a connection was dropped for a refused `SELECT`. */
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #ioredis: IoredisModule;
  readonly #watchers = new RevocationWatchers();
  readonly #channel: Buffer;
  readonly #origin = newOrigin();
  readonly #publisher: RevocationPublisher;
  #subscriber: RevocationSubscriber | undefined;

  private constructor(options: ResolvedRedisOptions, ioredis: IoredisModule) {
    this.#options = options;
    this.maxValueBytes = options.maxValueBytes;
    this.cluster = options.nodes !== undefined;
    this.sentinel = options.sentinels !== undefined;
    this.#state = new StoreStateTracker('redis', this.#where());
    this.#keys = new RedisKeyCodec(options.keyPrefix);
    this.#clock = options.clock;
    this.#ioredis = ioredis;
    this.#channel = revocationChannel(options.keyPrefix, this.cluster ? 0 : options.db);
    this.#publisher = new RevocationPublisher((reports) =>
      this.#run('PUBLISH', () =>
        this.#client.publish(this.#channel, encodeRevocations(this.#origin, reports)),
      ),
    );
    this.#client = this.cluster ? newCluster(options, ioredis) : newRedis(options, ioredis);
    // Without a listener ioredis prints every connection error to the console.
    const onError = (error: Error, node?: unknown): void => {
      const safe = this.#scrub(error);
      // A cluster's own errors are generic ("Failed to refresh slots cache."); the nodes' say why.
      if (node !== undefined) this.#lastNodeError = safe;
      else this.#lastError = safe;
      if (CONFIG_ERROR.test(safe.message)) {
        if (/DB index is out of range/i.test(safe.message)) this.#selectRefused = true;
        this.#onConfigError?.(safe);
      }
      if (this.#options.onError !== undefined) {
        try {
          this.#options.onError(safe);
        } catch {
          // a throwing error hook must not take the client's event loop down
        }
      }
    };
    this.#client.on('error', onError);
    if (this.cluster) this.#client.on('node error', onError);
    if (this.sentinel) {
      this.#client.on(
        'sentinelError',
        (error: Error) => (this.#lastNodeError = this.#scrub(error)),
      );
    }
    // A new connection: its SELECT has not been refused (yet).
    this.#client.on('connect', () => (this.#selectRefused = false));
    this.#client.on('ready', () => this.#onReady());
    this.#client.on('close', () => {
      // Lost after being ready: degraded now. Never connected yet: still starting (#start decides).
      if (this.#state.state === 'ready') this.#state.set('degraded', this.#reason());
    });
    // ioredis sends EVALSHA and falls back to EVAL once per connection (NOSCRIPT): the script text
    // crosses the network only when a server has not cached it yet.
    this.#client.defineCommand(SET_IF_ABSENT_COMMAND, { numberOfKeys: 1, lua: SET_IF_ABSENT_LUA });
  }

  /**
   * Creates a store and waits at most `startupTimeoutMs` until Redis answers. Then, connected or
   * not, it resolves: a store that could not connect is `degraded` (every call fails at once) and
   * keeps connecting in the background — unless `requireStore` is set, when it rejects.
   * @throws TypeError/RangeError naming a bad option (before any connection is tried)
   * @throws {@link SessionCacheError} `ERR_DEPENDENCY_MISSING`, naming the fix, when the optional
   * dependency ioredis is not installed
   * @throws {@link RedisStoreError} `ERR_STORE_CONFIG` (`config`) when Redis answers and refuses the
   * settings: a wrong password or user, a database it does not have (`redis://host/20` against 16
   * databases)
   * @throws {@link RedisStoreError} `ERR_STORE_UNAVAILABLE` (`unavailable`), only with
   * `requireStore`, when Redis refuses the connection (at once) or is not ready within
   * `startupTimeoutMs` (slow or failed attempts are retried until then)
   */
  static async create(options: RedisStoreOptions = {}): Promise<RedisStore> {
    const resolved = resolveRedisOptions(options);
    const store = new RedisStore(resolved, await loadIoredis());
    try {
      await store.#start();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /**
   * Connects, waiting at most `startupTimeoutMs`. ioredis goes on trying after a failed first
   * attempt (retryStrategy), so failing open is only a matter of not waiting any longer. Failing
   * fast (`requireStore`) gives up at the first failure that will not mend (see
   * {@link DEFINITIVE_CONNECT_ERROR}), as its error says best what is wrong; a slow one (a ready
   * check past `commandTimeoutMs` on a busy host) is retried until `startupTimeoutMs`, then its
   * error is the reason.
   */
  async #start(): Promise<void> {
    const { startupTimeoutMs, requireStore } = this.#options;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await new Promise<'ready' | 'timeout' | { error: unknown }>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), startupTimeoutMs);
      // A reply that says the settings are wrong ends the wait in either mode: it is no outage.
      this.#onConfigError = (error) => resolve({ error });
      this.#onStartReady = () => resolve('ready');
      this.#client.connect().catch((error: unknown) => {
        if (!requireStore) return;
        const text = [
          (error as { code?: unknown }).code,
          (error as { message?: unknown }).message,
          this.#lastError?.message,
          this.#lastNodeError?.message,
        ].join(' ');
        if (DEFINITIVE_CONNECT_ERROR.test(text) || CONFIG_ERROR.test(text)) resolve({ error });
      });
    });
    clearTimeout(timer);
    this.#onConfigError = undefined;
    this.#onStartReady = undefined;
    if (outcome === 'ready') return;
    const causes = [
      ...(outcome === 'timeout' ? [`no answer within ${startupTimeoutMs} ms`] : []),
      this.#lastError ?? (outcome === 'timeout' ? undefined : this.#scrub(outcome.error)),
      this.#lastNodeError,
    ]
      .filter((cause) => cause !== undefined)
      .map((cause) => (typeof cause === 'string' ? cause : cause.message.replace(/\.$/, '')));
    const why = [...new Set(causes)].join('; ');
    if (outcome !== 'timeout' && CONFIG_ERROR.test(why)) {
      if (/DB index is out of range/i.test(why)) {
        throw new RedisStoreError(
          'config',
          `RedisStore: ${this.#where()} has no database ${this.#options.db} (${why}); its \`databases\` setting says how many it has, numbered from 0`,
        );
      }
      throw new RedisStoreError('config', `RedisStore: ${this.#where()} refused the login: ${why}`);
    }
    if (requireStore) {
      throw new RedisStoreError(
        'unavailable',
        `RedisStore could not connect to ${this.#where()}: ${why}`,
      );
    }
    this.#state.set('degraded', why);
  }

  /**
   * The client is ready: the store is, unless this connection's `SELECT` was refused — ioredis
   * then carries on with database 0, which the store must never use: it drops the connection
   * (and tries again later: the server may be reconfigured). A cluster first opens its connection
   * to every master (a PING each, failures ignored: those masters' slots fail until reachable), so
   * that the first commands do not each wait for one.
   */
  #onReady(): void {
    if (this.#selectRefused) {
      this.#selectRefused = false;
      this.#client.disconnect();
      this.#state.set('degraded', `${this.#where()} has no database ${this.#options.db}`);
      clearTimeout(this.#retryTimer);
      this.#retryTimer = setTimeout(() => {
        if (this.#closing === undefined) this.#client.connect().catch(() => undefined);
      }, this.#options.maxReconnectDelayMs);
      return;
    }
    const ready = (): void => {
      if (this.#closing !== undefined || this.#client.status !== 'ready') return;
      this.#state.set('ready');
      this.#onStartReady?.();
    };
    if (!this.cluster) return ready();
    const masters = (this.#client as Cluster).nodes('master');
    void Promise.allSettled(masters.map((node) => node.ping())).then(ready);
  }

  /** Why the store is not connected, for messages: the last errors, without the password. */
  #reason(): string | undefined {
    const causes = [this.#lastError, this.#lastNodeError]
      .filter((cause) => cause !== undefined)
      .map((cause) => cause.message.replace(/\.$/, ''));
    return causes.length === 0 ? undefined : [...new Set(causes)].join('; ');
  }

  /**
   * Whether the store can be used now (see {@link SessionStore.state}): `connecting` until the
   * first connection or `startupTimeoutMs`; `ready` while connected (a cluster: to its slot map);
   * `degraded` while not — every call then fails at once with `unavailable`, and the store
   * reconnects in the background; `closed` after {@link close}. Each change is published on the
   * `storeState` diagnostics channel. A paused or blackholed Redis keeps a connection open: the
   * store stays `ready` (calls fail at `commandTimeoutMs`) until the socket is declared dead,
   * 4 × `commandTimeoutMs` (at least 1 s) after the last reply.
   */
  state(): StoreState {
    return this.#state.state;
  }

  /** Whether the store is connected now (operations would be sent rather than fail at once). */
  get connected(): boolean {
    return this.#usable();
  }

  /** Connected and ready, not closing: a command would be sent. */
  #usable(): boolean {
    return (
      this.#closing === undefined &&
      this.#state.state === 'ready' &&
      this.#client.status === 'ready'
    );
  }

  /** Commands sent and not yet answered (bounded by `maxPendingCommands`). */
  get pendingCommands(): number {
    return this.#pending;
  }

  /**
   * Stores `value` until `expiresAtMs` with `SET key header‖value PXAT deadline`. An oversize value
   * or a deadline already past returns `false` without a round trip.
   * @throws TypeError/RangeError for a malformed namespace, id, value or deadline
   * @throws {@link RedisStoreError} when Redis cannot be reached or fails
   */
  async set(
    namespace: string,
    id: Uint8Array,
    value: Uint8Array,
    expiresAtMs: number,
  ): Promise<boolean> {
    checkNamespace(namespace);
    checkId(id);
    checkBytes('value', value);
    checkDeadline(expiresAtMs);
    this.#checkOpen();
    // Refused before any round trip: a refused set leaves what was there.
    const now = this.#clock();
    if (value.byteLength > this.maxValueBytes || expiresAtMs <= now) return false;
    // Whole milliseconds, rounded down: an entry may go a fraction early, never late.
    const deadline = Math.floor(expiresAtMs);
    if (deadline <= now) return false;
    const key = this.#keys.key(namespace, id);
    const raw = encodeValue(value, deadline);
    // Redis deletes a key once its clock is *past* the PXAT time, so `deadline - 1` makes it go at
    // the deadline. With an injected clock, the deadline is moved onto the real clock Redis uses.
    const skew = this.#clock === Date.now ? 0 : Date.now() - now;
    const pxat = Math.max(1, deadline - 1 + skew);
    const reply = await this.#run('SET', () => this.#client.set(key, raw, 'PXAT', pxat));
    return reply === 'OK';
  }

  /**
   * See {@link SessionStore.setIfAbsent}. One Lua script on one key (atomic, cluster-safe): it
   * writes `SET … PXAT` unless the key holds a value of ours whose own deadline is after this
   * store's "now" — the same test `get` makes, so an entry `get` calls expired (an injected clock,
   * Redis rounding) is absent here too. Not plain `SET NX`, which would see such an entry as present.
   * @throws TypeError/RangeError for a malformed namespace, id, value or deadline
   * @throws {@link RedisStoreError} when Redis cannot be reached or fails
   */
  async setIfAbsent(
    namespace: string,
    id: Uint8Array,
    value: Uint8Array,
    expiresAtMs: number,
  ): Promise<boolean> {
    checkNamespace(namespace);
    checkId(id);
    checkBytes('value', value);
    checkDeadline(expiresAtMs);
    this.#checkOpen();
    const now = this.#clock();
    const deadline = Math.floor(expiresAtMs);
    if (value.byteLength > this.maxValueBytes || deadline <= now) return false;
    const key = this.#keys.key(namespace, id);
    const raw = encodeValue(value, deadline);
    const skew = this.#clock === Date.now ? 0 : Date.now() - now;
    const pxat = Math.max(1, deadline - 1 + skew);
    const client = this.#client as unknown as Record<
      typeof SET_IF_ABSENT_COMMAND,
      (key: Buffer, raw: Buffer, pxat: number, now: number) => Promise<number>
    >;
    const reply = await this.#run('EVALSHA', () =>
      client[SET_IF_ABSENT_COMMAND](key, raw, pxat, Math.floor(now)),
    );
    return reply === 1;
  }

  /**
   * The live value (`GET`), or `undefined`. An id that no store could hold (empty, longer than 32
   * bytes) is a miss without a round trip: ids come from the network.
   * @throws TypeError/RangeError for a namespace that is not a string without NUL
   * @throws {@link RedisStoreError} when Redis cannot be reached or fails
   */
  async get(namespace: string, id: Uint8Array): Promise<Uint8Array | undefined> {
    if (!this.#storable(namespace, id)) return undefined;
    const key = this.#keys.key(namespace, id);
    const raw = await this.#run('GET', () => this.#client.getBuffer(key));
    return decodeLiveValue(raw, this.#clock());
  }

  /**
   * Atomically gets and deletes the live value (`GETDEL`): of any number of concurrent `take`s of
   * one id, from any process or host, at most one receives it.
   * @throws {@link RedisStoreError} when Redis cannot be reached or fails
   */
  async take(namespace: string, id: Uint8Array): Promise<Uint8Array | undefined> {
    if (!this.#storable(namespace, id)) return undefined;
    const key = this.#keys.key(namespace, id);
    const raw = await this.#run('GETDEL', () => this.#client.getdelBuffer(key));
    return decodeLiveValue(raw, this.#clock());
  }

  /**
   * Deletes (`DEL`); idempotent. Then reports the removal to every watcher — this instance's at
   * once, every other instance's by `PUBLISH` (see {@link watchRevocations}) — whether or not the
   * key was there: another process may still hold the session in memory. Resolves once published.
   * @returns whether a key was deleted
   * @throws {@link RedisStoreError} when Redis cannot be reached or fails (the DEL, or the
   * publication: then the key may be gone while other processes were not told)
   */
  async delete(namespace: string, id: Uint8Array): Promise<boolean> {
    if (!this.#storable(namespace, id)) return false;
    const key = this.#keys.key(namespace, id);
    const deleted = (await this.#run('DEL', () => this.#client.del(key))) > 0;
    await this.#revoked({ namespace, id });
    return deleted;
  }

  /**
   * See {@link SessionStore.watchRevocations}. Removals made through this instance are reported at
   * once; those of every other instance (any process, any host) arrive by Redis pub/sub on the
   * channel `keyPrefix ‖ NUL ‖ "revocations" ‖ NUL ‖ db`, on a connection of this instance's own
   * opened by the first watcher: within a round trip or two (~1 ms on a LAN). Concurrent
   * removals are merged (at most one publication in flight per instance; ≤ 64 ids per message,
   * then whole namespaces, then everything).
   *
   * Pub/sub keeps nothing for a subscriber that is away: when the subscription's connection drops,
   * watchers are told `{}` (everything) at once and again once it is subscribed again. A silent
   * connection is found by a PING every second (and `socketTimeout`). Needs the `PUBLISH`,
   * `SUBSCRIBE` and `PING` commands and the channel in the ACL (see docs/redis.md).
   */
  watchRevocations(listener: RevocationListener): () => void {
    this.#checkOpen();
    const remove = this.#watchers.add(listener);
    this.#subscriber ??= this.#subscribe();
    return () => {
      remove();
      if (this.#watchers.size === 0) {
        this.#subscriber?.close();
        this.#subscriber = undefined;
      }
    };
  }

  /**
   * See {@link SessionStore.revocationsInForce}: waits at most `startupTimeoutMs` for the
   * subscription that the first watcher opened; `true` at once without a watcher (nothing to wait
   * for). Never rejects.
   */
  revocationsInForce(): Promise<boolean> {
    return (
      this.#subscriber?.whenSubscribed(this.#options.startupTimeoutMs) ?? Promise.resolve(true)
    );
  }

  /** Whether this instance's revocation subscription is in force (there is a watcher and it is connected). */
  get revocationsSubscribed(): boolean {
    return this.#subscriber?.subscribed ?? false;
  }

  #subscribe(): RevocationSubscriber {
    const options = this.#options;
    let next = 0;
    const addresses = (): { host: string; port: number }[] =>
      options.nodes === undefined
        ? [{ host: options.host, port: options.port }]
        : [
            ...(this.#client as Cluster)
              .nodes('master')
              .map((node) => ({ host: node.options.host ?? '', port: node.options.port ?? 0 }))
              .filter((address) => address.host !== '' && address.port > 0),
            ...options.nodes,
          ];
    const first = options.nodes === undefined ? undefined : addresses()[0];
    return new RevocationSubscriber({
      connect: () => newSubscriber(options, this.#ioredis, first),
      // A cluster's subscriber moves on to the next master (any node receives every PUBLISH).
      nextAddress:
        options.nodes === undefined
          ? undefined
          : () => {
              const all = addresses();
              return all[++next % all.length];
            },
      channel: this.#channel,
      origin: this.#origin,
      onReports: (reports) => {
        for (const report of reports) this.#watchers.announce(report);
      },
    });
  }

  /** Reports a removal: this instance's watchers now, every other instance through Redis. */
  async #revoked(revocation: Revocation): Promise<void> {
    if (this.#watchers.size > 0) this.#watchers.announce(revocation);
    await this.#publisher.publish(revocation);
  }

  /**
   * Live entries matching the filters. SCANs every master with a MATCH pattern on the prefix (and
   * namespace), then reads each page's deadlines and sizes (`GETRANGE`+`STRLEN`, or `GET` with
   * values) in one pipeline: O(entries) work spread over pages of 500 keys, never blocking Redis
   * (unlike `KEYS`). Remembers the keys it has yielded (SCAN may return a key twice), so memory is
   * O(entries listed).
   * @throws {@link RedisStoreError} when Redis cannot be reached or fails
   */
  async *list(options: ListOptions = {}): AsyncGenerator<StoredEntry> {
    const filters = checkListOptions(options);
    this.#checkOpen();
    if (filters.limit === 0) return;
    const { withValues } = filters;
    const pattern = this.#keys.pattern(filters);
    let yielded = 0;
    for await (const { node, keys } of this.#scan(pattern)) {
      // Per key: the value, or only its header (deadline) and length.
      const replies = await this.#pipeline(node, keys, (pipe, key) =>
        withValues
          ? pipe.getBuffer(key)
          : pipe.getrangeBuffer(key, 0, VALUE_HEADER_BYTES - 1).strlen(key),
      );
      const now = this.#clock();
      const step = withValues ? 1 : 2;
      for (let i = 0; i < keys.length; i++) {
        const parsed = this.#keys.parse(keys[i]!);
        const [, reply] = replies[i * step] ?? [null, null];
        // Gone since the SCAN (deleted, expired): not listed.
        if (parsed === undefined || reply === null) continue;
        const raw = reply as Buffer;
        const expiresAtMs = decodeDeadline(raw);
        if (expiresAtMs === undefined || expiresAtMs <= now) continue;
        if (!matchesList(filters, parsed.namespace, expiresAtMs)) continue;
        let size: number;
        if (withValues) size = raw.length - VALUE_HEADER_BYTES;
        else {
          const [, length] = replies[i * 2 + 1] ?? [null, 0];
          size = (length as number) - VALUE_HEADER_BYTES;
        }
        yield {
          namespace: parsed.namespace,
          id: parsed.id,
          expiresAtMs,
          size,
          ...(withValues ? { value: valueOf(raw) } : {}),
        };
        if (++yielded >= filters.limit) return;
      }
    }
  }

  /**
   * Deletes every entry (of `namespace` when given): SCAN + `UNLINK` (freed in the background by
   * Redis), page by page on every master. O(entries).
   * @returns how many keys were deleted
   * @throws {@link RedisStoreError} when Redis cannot be reached or fails
   */
  async clear(namespace?: string): Promise<number> {
    if (namespace !== undefined) checkNamespace(namespace);
    this.#checkOpen();
    let deleted = 0;
    let failure: unknown;
    try {
      for await (const { node, keys } of this.#scan(this.#keys.pattern({ namespace }))) {
        // One UNLINK per key: in a cluster, one command may not span slots.
        const replies = await this.#pipeline(node, keys, (pipe, key) => pipe.unlink(key));
        for (const [, count] of replies) deleted += count as number;
      }
    } catch (error) {
      failure = error;
    }
    // One report for the whole namespace (or everything), published after the last UNLINK, and
    // also after a failure part-way: what was unlinked must not resume from anyone's memory.
    try {
      await this.#revoked(namespace === undefined ? EVERYTHING : { namespace });
    } catch (error) {
      failure ??= error;
    }
    if (failure !== undefined) throw failure;
    return deleted;
  }

  /**
   * Entries and value bytes under the key prefix, counted by SCAN + `STRLEN` on every master:
   * O(entries) work in pages of 500 keys — an operator's call, not one for the handshake path.
   * Entries past their deadline that Redis has not expired yet may be counted.
   * @throws {@link RedisStoreError} when Redis cannot be reached or fails
   */
  async stats(): Promise<StoreStats> {
    this.#checkOpen();
    let entries = 0;
    let bytes = 0;
    for await (const { node, keys } of this.#scan(this.#keys.pattern({}))) {
      const replies = await this.#pipeline(node, keys, (pipe, key) => pipe.strlen(key));
      for (const [, length] of replies) {
        if ((length as number) >= VALUE_HEADER_BYTES) {
          entries++;
          bytes += (length as number) - VALUE_HEADER_BYTES;
        }
      }
    }
    return { entries, bytes };
  }

  /**
   * Closes the connection(s) (`QUIT`, then disconnect, which also stops reconnecting) and fails
   * every later operation with `closed`. Idempotent; resolves when everything is released.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state.set('closed');
      clearTimeout(this.#retryTimer);
      this.#subscriber?.close();
      this.#subscriber = undefined;
      this.#watchers.clear();
      let timer: NodeJS.Timeout | undefined;
      try {
        // Not connected: nothing to say goodbye to (and QUIT would wait for a reconnect).
        if (this.#client.status !== 'ready') return;
        // QUIT lets commands in flight finish; bounded, since a paused Redis never answers it.
        await Promise.race([
          this.#client.quit(),
          new Promise((resolve) => (timer = setTimeout(resolve, this.#options.commandTimeoutMs))),
        ]);
      } catch {
        // not connected: nothing to say goodbye to
      } finally {
        clearTimeout(timer);
        this.#client.disconnect();
      }
    })();
    return this.#closing;
  }

  /**
   * Whether (`namespace`, `id`) can name an entry, for lookups: an id of the wrong length is
   * untrusted input (a miss, no round trip); a non-string namespace or non-bytes id is a bug and
   * throws, as does a closed store.
   */
  #storable(namespace: string, id: Uint8Array): boolean {
    checkNamespace(namespace);
    const storable = isStorableId(id);
    this.#checkOpen();
    return storable;
  }

  /** Throws the `closed` error once {@link close} was called. */
  #checkOpen(): void {
    if (this.#closing !== undefined) {
      throw new RedisStoreError('closed', 'RedisStore is closed');
    }
  }

  /**
   * Sends one command (or pipeline) through every safeguard: closed → fail; not connected → fail
   * at once (cheaper than letting ioredis build and reject a command); too many in flight → fail
   * at once; otherwise fail at `commandTimeoutMs` at the latest. The command itself is counted as
   * pending until ioredis settles it, which is what bounds the client's own queues.
   */
  #run<T>(command: string, send: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) {
      return Promise.reject(new RedisStoreError('closed', 'RedisStore is closed'));
    }
    if (!this.#usable()) {
      const last = this.#lastError === undefined ? '' : ` (last error: ${this.#lastError.message})`;
      return Promise.reject(
        new RedisStoreError('unavailable', `Redis at ${this.#where()} is not connected${last}`),
      );
    }
    if (this.#pending >= this.#options.maxPendingCommands) {
      return Promise.reject(
        new RedisStoreError(
          'overloaded',
          `${this.#pending} Redis commands in flight (maxPendingCommands); ${command} not sent`,
        ),
      );
    }
    this.#pending++;
    let sent: Promise<T>;
    try {
      sent = send();
    } catch (error) {
      this.#pending--;
      return Promise.reject(this.#wrap(command, error));
    }
    const ms = this.#options.commandTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      // ioredis has a per-command timeout too, but in a cluster a command can wait in redirection
      // and per-node queues before its timer starts; this deadline holds whatever the client does.
      const timer = setTimeout(
        () => reject(new RedisStoreError('timeout', `Redis ${command} timed out after ${ms} ms`)),
        ms,
      );
      sent.then(
        (value) => {
          this.#pending--;
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          this.#pending--;
          clearTimeout(timer);
          reject(this.#wrap(command, error));
        },
      );
    });
  }

  /** Runs `add(pipeline, key)` for every key in one pipeline on `node`; per-command results. */
  async #pipeline(
    node: Redis,
    keys: readonly Buffer[],
    add: (pipeline: ReturnType<Redis['pipeline']>, key: Buffer) => unknown,
  ): Promise<[Error | null, unknown][]> {
    const pipeline = node.pipeline();
    for (const key of keys) add(pipeline, key);
    const replies = (await this.#run('pipeline', () => pipeline.exec())) ?? [];
    // One failed command fails the call: a listing or count that silently skipped keys (a timeout
    // under load, a slot moving) would look complete and be wrong. The caller may try again.
    const failed = replies.find(([error]) => error !== null);
    if (failed !== undefined) throw this.#wrap('pipeline', failed[0]);
    return replies;
  }

  /**
   * SCANs every master (the one server, or each cluster master) for keys matching `pattern`,
   * yielding pages with the node that holds them. Keys come back once even if SCAN repeats them.
   */
  async *#scan(pattern: Buffer): AsyncGenerator<{ node: Redis; keys: Buffer[] }> {
    const nodes =
      this.#options.nodes === undefined
        ? [this.#client as Redis]
        : (this.#client as Cluster).nodes('master');
    const seen = new Set<string>();
    for (const node of nodes) {
      let cursor = '0';
      do {
        const reply = await this.#run('SCAN', () =>
          node.callBuffer('SCAN', [cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT]),
        );
        const [next, found] = reply as [Buffer, Buffer[]];
        cursor = next.toString();
        const keys: Buffer[] = [];
        for (const key of found) {
          const text = key.toString('latin1');
          if (!seen.has(text)) {
            seen.add(text);
            keys.push(key);
          }
        }
        if (keys.length > 0) yield { node, keys };
      } while (cursor !== '0');
    }
  }

  /** A {@link RedisStoreError} for a failed command, without the password, naming Redis < 6.2. */
  #wrap(command: string, error: unknown): RedisStoreError {
    if (error instanceof RedisStoreError) return error;
    const message = this.#scrub(error).message;
    if (/unknown command|syntax error/i.test(message) && /^(SET|GETDEL)$/.test(command)) {
      return new RedisStoreError(
        'unsupported',
        `Redis ${command} failed (${message}): RedisStore needs Redis ≥ 6.2 (SET … PXAT, GETDEL)`,
      );
    }
    const reason = /timed out/i.test(message)
      ? 'timeout'
      : /writeable|closed|not ready|ECONN|EPIPE|ETIMEDOUT/i.test(message)
        ? 'unavailable'
        : 'command';
    return new RedisStoreError(reason, `Redis ${command} failed: ${message}`);
  }

  /** The error (or a new one) with the passwords removed from its message. */
  #scrub(error: unknown): Error {
    const secrets = [this.#options.password, this.#options.sentinelPassword].filter(
      (secret): secret is string => secret !== undefined && secret !== '',
    );
    const message = error instanceof Error ? error.message : String(error);
    if (!secrets.some((secret) => message.includes(secret))) {
      return error instanceof Error ? error : new Error(message);
    }
    let scrubbed = message;
    for (const secret of secrets) scrubbed = scrubbed.split(secret).join('***');
    return new Error(scrubbed);
  }

  /**
   * Where Redis is, for messages: host:port, the cluster's seed nodes, or the sentinels and the
   * master name; never credentials.
   */
  #where(): string {
    const list = (nodes: readonly { host: string; port: number }[]): string =>
      nodes.map((node) => `${node.host}:${node.port}`).join(',');
    const { nodes, sentinels } = this.#options;
    if (nodes !== undefined) return `cluster ${list(nodes)}`;
    if (sentinels !== undefined) {
      return `master ${this.#options.masterName ?? ''} of sentinels ${list(sentinels)}`;
    }
    return `${this.#options.host}:${this.#options.port}`;
  }
}

/** The retry delay after `times` failed attempts: 50 ms, 100 ms, … up to the maximum. */
function reconnectDelay(max: number): (times: number) => number {
  return (times) => Math.min(50 * times, max);
}

/** Options shared by a single client and every cluster node client. */
function connectionOptions(options: ResolvedRedisOptions): Record<string, unknown> {
  return {
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    connectionName: 'tls-session-cache',
    connectTimeout: options.connectTimeoutMs,
    // How long a closing socket may take to close before it is destroyed (ioredis's default, 2 s,
    // keeps a process alive that long after close() when the connection had already failed).
    disconnectTimeout: options.commandTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    // A socket with commands waiting and nothing received for this long is dead (a paused or
    // blackholed Redis keeps the TCP connection open): destroy it, fail what waits, reconnect.
    socketTimeout: Math.max(1000, 4 * options.commandTimeoutMs),
    // Never resend a command after a reconnect: by then the cache has moved on.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // RESP2: the replies of the commands used are the same in RESP3, and RESP2 works with every
    // Redis-compatible server and proxy.
    protocol: 2,
  };
}

/**
 * Where a single client connects: host and port, or (Sentinel) the sentinels to ask for the
 * master's address on every (re)connection, checking that what it reached is a master (ioredis's
 * ready check reads the role), never a replica. A master demoted while connected (a manual
 * failover, a partition healed) answers writes with `READONLY`: the store then reconnects through
 * the sentinels (`reconnectOnError`). Not ioredis's `failoverDetector`: in our failover tests its
 * `+switch-master` handler, firing while the client was already reconnecting, left the client
 * stuck without a connection for good.
 */
function addressOptions(options: ResolvedRedisOptions): Record<string, unknown> {
  if (options.sentinels === undefined) return { host: options.host, port: options.port };
  return {
    sentinels: options.sentinels.map(({ host, port }) => ({ host, port })),
    name: options.masterName,
    role: 'master',
    ...(options.sentinelUsername === undefined
      ? {}
      : { sentinelUsername: options.sentinelUsername }),
    ...(options.sentinelPassword === undefined
      ? {}
      : { sentinelPassword: options.sentinelPassword }),
    // rediss+sentinel: TLS to the sentinels and to the data nodes (ioredis uses plain TCP to the
    // master found through sentinels unless enableTLSForSentinelMode is set).
    ...(options.tls === undefined
      ? {}
      : { sentinelTLS: options.tls, enableTLSForSentinelMode: true }),
    sentinelCommandTimeout: options.commandTimeoutMs,
    sentinelRetryStrategy: reconnectDelay(options.maxReconnectDelayMs),
    sentinelReconnectStrategy: reconnectDelay(options.maxReconnectDelayMs),
  };
}

function newRedis(options: ResolvedRedisOptions, ioredis: IoredisModule): Redis {
  return new ioredis.Redis({
    ...options.clientOptions,
    ...connectionOptions(options),
    ...addressOptions(options),
    ...(options.sentinels === undefined
      ? {}
      : { reconnectOnError: (error: Error) => /^READONLY/.test(error.message) }),
    db: options.db,
    lazyConnect: true,
    enableOfflineQueue: false,
    retryStrategy: reconnectDelay(options.maxReconnectDelayMs),
  });
}

/**
 * The connection of a revocation subscription: the store's connection options (deadlines, silent
 * socket detection, reconnection), to one server — a cluster node's options for a cluster. ioredis
 * would resubscribe by itself after a reconnection; the subscriber does it instead, so that it
 * knows when the subscription is back in force.
 */
function newSubscriber(
  options: ResolvedRedisOptions,
  ioredis: IoredisModule,
  address: { host: string; port: number } | undefined,
): Redis {
  const extra =
    options.nodes === undefined
      ? options.clientOptions
      : ((options.clientOptions as { redisOptions?: Record<string, unknown> }).redisOptions ?? {});
  return new ioredis.Redis({
    ...extra,
    ...connectionOptions(options),
    connectionName: 'tls-session-cache:revocations',
    // A cluster node's address, else the one server's (or, with Sentinel, the master the
    // sentinels name: a PUBLISH reaches the replicas' subscribers too, so no failover detector).
    ...(address === undefined
      ? addressOptions(options)
      : { host: address.host, port: address.port }),
    ...(options.nodes === undefined ? { db: options.db } : {}),
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResubscribe: false,
    retryStrategy: reconnectDelay(options.maxReconnectDelayMs),
  });
}

function newCluster(options: ResolvedRedisOptions, ioredis: IoredisModule): Cluster {
  const extra = options.clientOptions as { redisOptions?: Record<string, unknown> };
  return new ioredis.Cluster([...(options.nodes ?? [])], {
    ...options.clientOptions,
    lazyConnect: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: reconnectDelay(options.maxReconnectDelayMs),
    // ioredis does not reconnect cluster nodes by default (it waits for a MOVED); a master that
    // restarts in place should be used again without one.
    clusterNodeRetryStrategy: reconnectDelay(options.maxReconnectDelayMs),
    slotsRefreshTimeout: options.connectTimeoutMs,
    redisOptions: { ...extra.redisOptions, ...connectionOptions(options) },
  });
}
