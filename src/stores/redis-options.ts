// Options of RedisStore: what a user may pass, how a URL is read, and the checks that turn a bad
// option into a TypeError/RangeError naming it. Nothing here loads the Redis client, so bad options
// fail the same way whether or not the optional dependency is installed, and a password never
// reaches an error message (only host names and option names do).
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { DEFAULT_MAX_VALUE_BYTES } from './memory-store.js';
import {
  booleanOption,
  checkInteger,
  checkKnownKeys,
  checkOptions,
  describe,
  functionOption,
  stringOption,
} from '../common/validate.js';

/** Where a Redis Cluster node listens: `{ host, port }` or `"host:port"` (`"[v6]:port"`). */
export type RedisNodeAddress =
  | {
      /** Host name or IP address. */
      readonly host: string;
      /** TCP port. */
      readonly port: number;
    }
  | string;

/**
 * Options of {@link RedisStore.create}. Give `url`, or `host`/`port`, or `nodes` (cluster), or
 * `sentinels` and `masterName` (Redis Sentinel).
 *
 * **Startup.** By default the store *fails open from the first second*: `create` waits at most
 * {@link RedisStoreOptions.startupTimeoutMs} for Redis, then resolves whether or not it answered.
 * A store that could not connect is `degraded` (see `state()`): every call fails at once, the cache
 * does full handshakes, and the store keeps reconnecting in the background and is used again as
 * soon as Redis answers. What is not an outage still fails `create`, even then: a server that
 * answers and refuses the settings (wrong password, a database it does not have). With
 * {@link RedisStoreOptions.requireStore} `create` rejects instead of starting degraded.
 *
 * **Outages.** The store fails fast and holds nothing, so that the cache (`storeCallbacks`, with its
 * circuit breaker and `maxInFlightWrites`) turns a Redis outage into full handshakes and dropped
 * writes rather than waiting or queueing. The settings that do it, which `clientOptions` cannot
 * override:
 * - `enableOfflineQueue: false` (single client and cluster): while not connected — refused, down,
 *   reconnecting, or still waiting for the ready check — a command fails at once (`unavailable`)
 *   instead of waiting in ioredis's queue for a reconnect that may take minutes;
 * - `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false`: a command is never sent
 *   again after a reconnect (the cache stopped waiting for it long before);
 * - `commandTimeout` = {@link RedisStoreOptions.commandTimeoutMs} on every command, the ready
 *   check's `INFO` included, plus the store's own deadline around each call: a paused Redis (or
 *   one that accepts connections and never answers, a blackhole) fails each command within it,
 *   and a connection whose ready check is never answered is dropped and tried again;
 * - `socketTimeout` = 4 × `commandTimeoutMs` (at least 1 s): an open socket with commands waiting
 *   and nothing received is declared dead, destroyed, and every command on it fails;
 * - `connectTimeout` = {@link RedisStoreOptions.connectTimeoutMs}: a TCP connect into a black hole
 *   gives up;
 * - `retryStrategy` (and the cluster's): reconnect attempts 50 ms, 100 ms, … apart, at most
 *   {@link RedisStoreOptions.maxReconnectDelayMs}, forever: the store is usable again about that
 *   soon after Redis is (with the adapter's breaker in front, resumption measured back 0.4–1 s
 *   after Redis; README, "Failure behaviour");
 * - {@link RedisStoreOptions.maxPendingCommands}: the hard cap on commands in flight while they
 *   wait for their deadline (at most ~200 were, with Redis paused under 100 connections).
 */
export interface RedisStoreOptions {
  /**
   * Where Redis is, as a URL: `redis://[user:pass@]host[:port][/db]`, `rediss://…` (TLS); for a
   * Redis Cluster `redis+cluster://[user:pass@]host:port,host:port,…` (`rediss+cluster://` with
   * TLS), listing one or more nodes to discover the cluster from; for Redis Sentinel
   * `redis+sentinel://[user:pass@]host:port,host:port,…/MASTER_NAME[/db]` (`rediss+sentinel://`
   * with TLS to the sentinels and the data nodes), listing sentinels (user and password are the
   * data nodes'; see `sentinelPassword`). User and password are percent-decoded. Options given
   * separately (`username`, `password`, `tls`, …) override the URL's. Mutually exclusive with
   * `host`, `port`, `db`, `nodes`, `sentinels` and `masterName`.
   */
  url?: string;
  /**
   * Host name or address of a single Redis server.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Port of a single Redis server.
   * @default 6379
   */
  port?: number;
  /**
   * Database index (`SELECT`); must be 0 with a cluster, which has only database 0.
   * @default 0
   */
  db?: number;
  /**
   * Redis Cluster: the nodes to discover the cluster from (any subset of its masters and
   * replicas). Given, the store talks to a cluster; mutually exclusive with `host`/`port`.
   */
  nodes?: readonly RedisNodeAddress[];
  /**
   * Redis Sentinel: the sentinels to ask where the master is (any number; they are tried in
   * turn). Given, the store follows the master across failovers; needs `masterName`, and is
   * mutually exclusive with `host`/`port` and `nodes`.
   */
  sentinels?: readonly RedisNodeAddress[];
  /**
   * Redis Sentinel: the name the sentinels monitor the master under (`sentinel monitor NAME …`).
   */
  masterName?: string;
  /**
   * Redis Sentinel: ACL user name on the sentinels (`username` is the data nodes').
   * @default undefined
   */
  sentinelUsername?: string;
  /**
   * Redis Sentinel: the sentinels' password (`password` is the data nodes'). Never written to
   * errors or logs.
   * @default undefined
   */
  sentinelPassword?: string;
  /**
   * ACL user name (`AUTH username password`, Redis ≥ 6); without it, the `default` user.
   * @default undefined
   */
  username?: string;
  /**
   * Password (`AUTH`). Never written to errors or logs.
   * @default undefined
   */
  password?: string;
  /**
   * TLS to Redis: `true` for Node's defaults (certificate checked against the system CAs and the
   * host name), or options passed to `tls.connect` (`ca`, `cert`, `key`, `servername`,
   * `rejectUnauthorized`, …). A `rediss://` URL implies `true`.
   * @default false
   */
  tls?: boolean | TlsConnectionOptions;
  /**
   * Prepended to every key, so that several applications (or several deployments) can share one
   * Redis. Keys are `keyPrefix ‖ NUL ‖ namespace ‖ NUL ‖ id`, sent as bytes; thanks to the NUL a
   * prefix never sees the keys of a longer one (`app` and `app-a:`). With a cluster, a prefix
   * containing a `{hash tag}` would put every session in one slot: do not use braces.
   * @default 'tls-session-cache:'
   */
  keyPrefix?: string;
  /**
   * How long one command may take before it fails (rejects with a timeout), in milliseconds. The
   * session cache already gives up on a lookup after its own `lookupDeadlineMs` (default 50 ms);
   * this bound is for everything else — writes, deletes, and lookups the cache stopped waiting
   * for — so that a slow or paused Redis never accumulates pending work. Keep it above the
   * Redis's worst normal latency.
   * @default 250
   */
  commandTimeoutMs?: number;
  /**
   * How long to wait for a connection (TCP, TLS and `AUTH`) before trying again, in
   * milliseconds.
   * @default 1000
   */
  connectTimeoutMs?: number;
  /**
   * Longest pause between reconnection attempts, in milliseconds: after Redis comes back, the
   * store is usable again within about this time. Attempts start 50 ms apart and slow down to it.
   * @default 500
   */
  maxReconnectDelayMs?: number;
  /**
   * Most commands in flight at once; beyond it a command fails at once instead of queueing. With
   * a paused Redis, commands pile up for `commandTimeoutMs` (or, in a cluster, while the client
   * redirects); this is the hard bound on that pile.
   * @default 10000
   */
  maxPendingCommands?: number;
  /**
   * The largest value `set` accepts, in bytes; a larger one is not stored (`set` answers
   * `false`) and costs no round trip. The default fits every session the Node wiring can make.
   * @default 68608 (67 KiB, as the other stores)
   */
  maxValueBytes?: number;
  /**
   * The longest {@link RedisStore.create} waits for Redis, in milliseconds. Connected sooner, it
   * resolves then (`state()` is `ready`). Not connected by then — refused, blackholed, paused,
   * failing over — it resolves anyway with the store `degraded`: every call fails at once (lookups
   * are misses, writes are dropped) while it keeps reconnecting in the background, at most
   * `maxReconnectDelayMs` apart, and it is used again as soon as Redis answers. `0` returns at
   * once. With {@link requireStore} it bounds how long `create` waits before rejecting. A cluster
   * counts as connected once it has read the slot map and reached every master.
   * @default 2000
   */
  startupTimeoutMs?: number;
  /**
   * Fail fast at start instead of open: {@link RedisStore.create} rejects (with the reason:
   * refused, timeout, …) when Redis is not connected within `startupTimeoutMs`, rather than
   * resolving with a `degraded` store. For services that would rather not start than start
   * without their shared cache.
   * @default false
   */
  requireStore?: boolean;
  /**
   * The clock, in ms since the epoch, against which `expiresAtMs` is read: a value is never
   * returned at or after its deadline by this clock, and the deadline Redis gets is shifted by the
   * difference to `Date.now()`. Inject one in tests.
   * @default Date.now
   */
  clock?: () => number;
  /**
   * Called with connection-level errors (refused, reset, authentication failed, timeouts), which
   * the store otherwise swallows: operations still fail, and the cache counts those failures. The
   * error never contains the password.
   * @default undefined
   */
  onError?: (error: Error) => void;
  /**
   * More ioredis options (`RedisOptions`, or `ClusterOptions` with `nodes`), merged under the
   * store's own. The store's fail-fast settings (`enableOfflineQueue: false`,
   * `maxRetriesPerRequest`, timeouts, reconnect strategy, `lazyConnect`) always win.
   * @default {}
   */
  clientOptions?: Readonly<Record<string, unknown>>;
}

/** Defaults of {@link RedisStoreOptions} (the numbers are the `@default`s documented there). */
export const REDIS_STORE_DEFAULTS = {
  host: '127.0.0.1',
  port: 6379,
  keyPrefix: 'tls-session-cache:',
  commandTimeoutMs: 250,
  connectTimeoutMs: 1000,
  maxReconnectDelayMs: 500,
  startupTimeoutMs: 2000,
  maxPendingCommands: 10_000,
  maxValueBytes: DEFAULT_MAX_VALUE_BYTES,
} as const;

/**
 * {@link RedisStoreOptions} checked, with the URL read and the defaults filled in: what the store
 * uses. Each field means what the option of the same name means.
 * @internal
 */
export interface ResolvedRedisOptions {
  /** The one server's host (ignored with `nodes`). */
  readonly host: string;
  /** The one server's port (ignored with `nodes`). */
  readonly port: number;
  /** The database index; 0 with a cluster. */
  readonly db: number;
  /** The cluster's seed nodes, or `undefined` for one server. */
  readonly nodes: readonly { host: string; port: number }[] | undefined;
  /** The sentinels, or `undefined` without Sentinel. */
  readonly sentinels: readonly { host: string; port: number }[] | undefined;
  /** The master's name with Sentinel. */
  readonly masterName: string | undefined;
  /** ACL user name on the sentinels. */
  readonly sentinelUsername: string | undefined;
  /** The sentinels' password. A secret. */
  readonly sentinelPassword: string | undefined;
  /** ACL user name. */
  readonly username: string | undefined;
  /** Password. A secret. */
  readonly password: string | undefined;
  /** `tls.connect` options, or `undefined` for plain TCP. */
  readonly tls: TlsConnectionOptions | undefined;
  /** The key prefix as bytes (no NUL). */
  readonly keyPrefix: Buffer;
  /** See {@link RedisStoreOptions.commandTimeoutMs}. */
  readonly commandTimeoutMs: number;
  /** See {@link RedisStoreOptions.connectTimeoutMs}. */
  readonly connectTimeoutMs: number;
  /** See {@link RedisStoreOptions.maxReconnectDelayMs}. */
  readonly maxReconnectDelayMs: number;
  /** See {@link RedisStoreOptions.maxPendingCommands}. */
  readonly maxPendingCommands: number;
  /** See {@link RedisStoreOptions.maxValueBytes}. */
  readonly maxValueBytes: number;
  /** See {@link RedisStoreOptions.startupTimeoutMs}. */
  readonly startupTimeoutMs: number;
  /** See {@link RedisStoreOptions.requireStore}. */
  readonly requireStore: boolean;
  /** See {@link RedisStoreOptions.clock}. */
  readonly clock: () => number;
  /** See {@link RedisStoreOptions.onError}. */
  readonly onError: ((error: Error) => void) | undefined;
  /** See {@link RedisStoreOptions.clientOptions}. */
  readonly clientOptions: Readonly<Record<string, unknown>>;
}

/** What a Redis URL says; see {@link parseRedisUrl}. */
export interface ParsedRedisUrl {
  /** `rediss://`, `rediss+cluster://` or `rediss+sentinel://`. */
  readonly tls: boolean;
  /**
   * One address for `redis://`/`rediss://`; one or more for the cluster forms (seed nodes) and the
   * sentinel forms (sentinels).
   */
  readonly nodes: readonly { host: string; port: number }[];
  /** `redis+cluster://` or `rediss+cluster://`. */
  readonly cluster: boolean;
  /** The master name of `redis+sentinel://…/NAME`, or `undefined` for the other forms. */
  readonly masterName: string | undefined;
  /** The user name, percent-decoded; `undefined` when none (the `default` user). */
  readonly username: string | undefined;
  /** The password, percent-decoded. A secret. */
  readonly password: string | undefined;
  /** The database of the path (`/3`), or `undefined` when none. */
  readonly db: number | undefined;
}

const SCHEMES: Readonly<Record<string, { tls: boolean; cluster: boolean; sentinel: boolean }>> = {
  redis: { tls: false, cluster: false, sentinel: false },
  rediss: { tls: true, cluster: false, sentinel: false },
  'redis+cluster': { tls: false, cluster: true, sentinel: false },
  'rediss+cluster': { tls: true, cluster: true, sentinel: false },
  'redis+sentinel': { tls: false, cluster: false, sentinel: true },
  'rediss+sentinel': { tls: true, cluster: false, sentinel: true },
};

/** A Sentinel master name: what `sentinel monitor` accepts in practice (no spaces, `/`, `@`). */
const MASTER_NAME = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Parses `redis://[user:pass@]host[:port][/db]`, `rediss://…`,
 * `redis+cluster://[user:pass@]host:port,host:port,…` (`rediss+cluster://…`) and
 * `redis+sentinel://[user:pass@]host:port,host:port,…/MASTER_NAME[/db]` (`rediss+sentinel://…`).
 * Errors name the part that is wrong and never repeat the user info.
 * @throws TypeError for a URL that is not one of those forms
 * @throws RangeError for a port out of range, or a database other than 0 for a cluster
 */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(url);
  const scheme = match?.[1]?.toLowerCase();
  const form = scheme === undefined ? undefined : SCHEMES[scheme];
  if (match === null || form === undefined) {
    throw new TypeError(
      'url must start with redis://, rediss://, redis+cluster://, rediss+cluster://, redis+sentinel:// or rediss+sentinel://',
    );
  }
  let rest = match[2] ?? '';
  // User info ends at the last "@" (a password may contain "@" only percent-encoded, but be kind).
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const info = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = info.indexOf(':');
    const user = decode(colon >= 0 ? info.slice(0, colon) : info, 'user name');
    username = user === '' ? undefined : user;
    // `redis://:pass@host` and `redis://pass@host`? Only the first is a password (RFC 3986): a
    // lone name is a user name, as Redis URLs elsewhere read it.
    password = colon >= 0 ? decode(info.slice(colon + 1), 'password') : undefined;
  }
  if (/[?#]/.test(rest)) throw new TypeError('url: query and fragment are not supported');
  let db: number | undefined;
  let masterName: string | undefined;
  const slash = rest.indexOf('/');
  let path = slash >= 0 ? rest.slice(slash + 1) : undefined;
  if (slash >= 0) rest = rest.slice(0, slash);
  if (form.sentinel) {
    // /MASTER_NAME[/db]: the name is required (it is what the sentinels are asked about).
    const name = path?.split('/')[0] ?? '';
    if (name === '') {
      throw new TypeError('url: redis+sentinel:// needs the master name: …/MASTER_NAME');
    }
    if (!MASTER_NAME.test(name)) {
      throw new TypeError(
        `url: the master name ${quoteHost(name)} must be letters, digits, ".", "_", ":" or "-" (at most 128)`,
      );
    }
    masterName = name;
    path = path!.includes('/') ? path!.slice(name.length + 1) : undefined;
  }
  if (path !== undefined && path !== '') {
    if (!/^\d{1,5}$/.test(path)) throw new TypeError('url: the database must be a number');
    db = Number(path);
  }
  const hosts = rest.split(',');
  if (!form.cluster && !form.sentinel && hosts.length !== 1) {
    throw new TypeError('url: several hosts need redis+cluster:// or redis+sentinel://');
  }
  if (form.cluster && db !== undefined && db !== 0) {
    throw new RangeError('url: a Redis Cluster has only database 0');
  }
  return {
    tls: form.tls,
    cluster: form.cluster,
    masterName,
    // A sentinel's default port is 26379 (as `redis-sentinel` listens by default).
    nodes: hosts.map((host) =>
      parseAddress(
        host,
        form.sentinel ? 'url: sentinel' : 'url',
        form.sentinel ? 26379 : undefined,
      ),
    ),
    username,
    password,
    db,
  };
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new TypeError(`url: the ${what} is not valid percent-encoding`);
  }
}

/** `host`, `host:port`, `[v6]`, `[v6]:port` → `{ host, port }` (port 6379 by default). */
function parseAddress(
  text: string,
  option: string,
  defaultPort: number = REDIS_STORE_DEFAULTS.port,
): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]/\s@,]+))(?::(\d{1,5}))?$/.exec(text);
  if (match === null) throw new TypeError(`${option}: ${quoteHost(text)} is not host:port`);
  const host = match[1] ?? match[2] ?? '';
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port < 1 || port > 65535) {
    throw new RangeError(`${option}: port must be an integer from 1 to 65535, got ${port}`);
  }
  return { host, port };
}

/** A host part for an error message: bounded and JSON-quoted (it never holds user info). */
function quoteHost(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/** Every key of {@link RedisStoreOptions}, for the unknown-key check. */
const REDIS_STORE_OPTION_KEYS: Readonly<Record<keyof RedisStoreOptions, true>> = {
  url: true,
  host: true,
  port: true,
  db: true,
  nodes: true,
  sentinels: true,
  masterName: true,
  sentinelUsername: true,
  sentinelPassword: true,
  username: true,
  password: true,
  tls: true,
  keyPrefix: true,
  commandTimeoutMs: true,
  connectTimeoutMs: true,
  maxReconnectDelayMs: true,
  maxPendingCommands: true,
  maxValueBytes: true,
  startupTimeoutMs: true,
  requireStore: true,
  clock: true,
  onError: true,
  clientOptions: true,
};

/** Checks and defaults {@link RedisStoreOptions}; throws TypeError/RangeError naming the option. */
export function resolveRedisOptions(options: RedisStoreOptions): ResolvedRedisOptions {
  checkOptions(options);
  if ('waitForConnection' in options) {
    throw new TypeError(
      'waitForConnection was replaced: the store now waits at most startupTimeoutMs (0: not at all) and starts degraded; requireStore: true rejects instead',
    );
  }
  checkKnownKeys('RedisStore.create', options, REDIS_STORE_OPTION_KEYS);
  let host: string = REDIS_STORE_DEFAULTS.host;
  let port: number = REDIS_STORE_DEFAULTS.port;
  let db = 0;
  let nodes: { host: string; port: number }[] | undefined;
  let sentinels: { host: string; port: number }[] | undefined;
  let masterName: string | undefined;
  let username: string | undefined;
  let password: string | undefined;
  let tls: TlsConnectionOptions | undefined;

  if (options.url !== undefined) {
    stringOption('url', options.url);
    for (const name of ['host', 'port', 'db', 'nodes', 'sentinels', 'masterName'] as const) {
      if (options[name] !== undefined) throw new TypeError(`give url or ${name}, not both`);
    }
    const parsed = parseRedisUrl(options.url);
    if (parsed.cluster) nodes = [...parsed.nodes];
    else if (parsed.masterName !== undefined) {
      sentinels = [...parsed.nodes];
      masterName = parsed.masterName;
    } else {
      const only = parsed.nodes[0];
      if (only !== undefined) ({ host, port } = only);
    }
    db = parsed.db ?? 0;
    username = parsed.username;
    password = parsed.password;
    if (parsed.tls) tls = {};
  }
  if (options.nodes !== undefined) {
    if (options.host !== undefined || options.port !== undefined) {
      throw new TypeError('give nodes (a cluster) or host/port (one server), not both');
    }
    if (options.sentinels !== undefined) {
      throw new TypeError('give nodes (a cluster) or sentinels, not both');
    }
    nodes = checkAddresses('nodes', options.nodes, REDIS_STORE_DEFAULTS.port);
  }
  if (options.sentinels !== undefined) {
    if (options.host !== undefined || options.port !== undefined) {
      throw new TypeError('give sentinels or host/port (one server), not both');
    }
    sentinels = checkAddresses('sentinels', options.sentinels, 26379);
  }
  if (options.masterName !== undefined) {
    if (typeof options.masterName !== 'string') throw new TypeError('masterName must be a string');
    if (!MASTER_NAME.test(options.masterName)) {
      throw new RangeError(
        'masterName must be letters, digits, ".", "_", ":" or "-" (at most 128) (the name of `sentinel monitor`)',
      );
    }
    masterName = options.masterName;
  }
  if (sentinels !== undefined && masterName === undefined) {
    throw new TypeError('sentinels need masterName (the name the sentinels monitor the master as)');
  }
  if (masterName !== undefined && sentinels === undefined) {
    throw new TypeError('masterName needs sentinels');
  }
  const sentinelUsername =
    options.sentinelUsername === undefined
      ? undefined
      : stringOption('sentinelUsername', options.sentinelUsername);
  if (options.sentinelPassword !== undefined && typeof options.sentinelPassword !== 'string') {
    // Never describe the value: it is a secret.
    throw new TypeError('sentinelPassword must be a string');
  }
  const sentinelPassword = options.sentinelPassword;
  if (options.host !== undefined) host = checkHost('host', options.host);
  if (options.port !== undefined) port = checkPort('port', options.port);
  if (options.db !== undefined) db = checkInteger('db', options.db, 0, 65_535);
  if (nodes !== undefined && db !== 0) throw new RangeError('db must be 0 with a Redis Cluster');
  if (options.username !== undefined) username = stringOption('username', options.username);
  if (options.password !== undefined) {
    // Never describe the value: it is a secret.
    if (typeof options.password !== 'string') throw new TypeError('password must be a string');
    password = options.password;
  }
  if (options.tls !== undefined) {
    if (options.tls === false) tls = undefined;
    else if (options.tls === true) tls = {};
    else if (options.tls !== null && typeof options.tls === 'object') tls = { ...options.tls };
    else
      throw new TypeError(
        `tls must be a boolean or tls.connect options, got ${describe(options.tls)}`,
      );
  }
  const keyPrefix = stringOption('keyPrefix', options.keyPrefix ?? REDIS_STORE_DEFAULTS.keyPrefix);
  const prefixBytes = Buffer.from(keyPrefix, 'utf8');
  if (prefixBytes.length > 1024) throw new RangeError('keyPrefix must be at most 1024 bytes');
  if (prefixBytes.includes(0)) throw new RangeError('keyPrefix must not contain NUL');

  const clock = functionOption('clock', options.clock) ?? Date.now;
  const onError = functionOption('onError', options.onError);
  const requireStore = booleanOption('requireStore', options.requireStore);
  const clientOptions = options.clientOptions ?? {};
  if (clientOptions === null || typeof clientOptions !== 'object' || Array.isArray(clientOptions)) {
    throw new TypeError(`clientOptions must be an object, got ${describe(clientOptions)}`);
  }
  // ioredis's own key prefix would apply to commands but not to SCAN patterns: `list`, `clear` and
  // `stats` would then see nothing. The store has its own.
  const nested = (clientOptions as { redisOptions?: { keyPrefix?: unknown } }).redisOptions;
  if ('keyPrefix' in clientOptions || (nested !== undefined && 'keyPrefix' in nested)) {
    throw new TypeError('use the keyPrefix option, not clientOptions.keyPrefix');
  }
  return {
    host,
    port,
    db,
    nodes,
    sentinels,
    masterName,
    sentinelUsername,
    sentinelPassword,
    username,
    password,
    tls,
    keyPrefix: prefixBytes,
    commandTimeoutMs: checkInteger(
      'commandTimeoutMs',
      options.commandTimeoutMs ?? REDIS_STORE_DEFAULTS.commandTimeoutMs,
      1,
      600_000,
    ),
    connectTimeoutMs: checkInteger(
      'connectTimeoutMs',
      options.connectTimeoutMs ?? REDIS_STORE_DEFAULTS.connectTimeoutMs,
      1,
      600_000,
    ),
    maxReconnectDelayMs: checkInteger(
      'maxReconnectDelayMs',
      options.maxReconnectDelayMs ?? REDIS_STORE_DEFAULTS.maxReconnectDelayMs,
      1,
      600_000,
    ),
    maxPendingCommands: checkInteger(
      'maxPendingCommands',
      options.maxPendingCommands ?? REDIS_STORE_DEFAULTS.maxPendingCommands,
      1,
      10_000_000,
    ),
    maxValueBytes: checkInteger(
      'maxValueBytes',
      options.maxValueBytes ?? REDIS_STORE_DEFAULTS.maxValueBytes,
      1,
      // Redis's own limit is 512 MiB per string; sessions are a few KiB.
      64 * 1024 * 1024,
    ),
    startupTimeoutMs: checkInteger(
      'startupTimeoutMs',
      options.startupTimeoutMs ?? REDIS_STORE_DEFAULTS.startupTimeoutMs,
      0,
      600_000,
    ),
    requireStore,
    clock,
    onError,
    clientOptions,
  };
}

/** A non-empty array of `"host:port"` or `{ host, port }`. */
function checkAddresses(
  name: string,
  value: unknown,
  defaultPort: number,
): { host: string; port: number }[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(
      `${name} must be a non-empty array of "host:port" or { host, port }, got ${describe(value)}`,
    );
  }
  return value.map((node: unknown, i) => {
    if (typeof node === 'string') return parseAddress(node, `${name}[${i}]`, defaultPort);
    if (node !== null && typeof node === 'object') {
      const { host: h, port: p } = node as { host?: unknown; port?: unknown };
      return { host: checkHost(`${name}[${i}].host`, h), port: checkPort(`${name}[${i}].port`, p) };
    }
    throw new TypeError(`${name}[${i}] must be "host:port" or { host, port }`);
  });
}

function checkPort(name: string, value: unknown): number {
  return checkInteger(name, value, 1, 65_535);
}

function checkHost(name: string, value: unknown): string {
  const host = stringOption(name, value);
  if (host === '' || /[\s/@,]/.test(host)) {
    throw new RangeError(`${name} must be a host name or address, got ${quoteHost(host)}`);
  }
  return host;
}
