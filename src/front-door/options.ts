// The options of openSessionCache(): one object for the store, the cache, the adapter and every
// server attached. Options that belong to one piece are picked from that piece's own options type,
// so that each is documented once (with its @default) where it is used; the options defined here
// are the ones that span several pieces, each given once and derived for every piece that needs it.
import type { SessionCacheOptions } from '../cache/options.js';
import {
  DEFAULT_CACHE_SIZE,
  DEFAULT_LOOKUP_DEADLINE_MS,
  DEFAULT_SESSION_TIMEOUT,
  MAX_CACHE_SIZE,
} from '../cache/options.js';
import { checkInteger, checkKnownKeys, checkOptions, describe } from '../common/validate.js';
import type { AttachOptions } from '../node/attach.js';
import type { TicketKeysOptions } from '../node/ticket-keys.js';
import { ATTACH_OPTION_KEYS, checkAttachOptionValues } from '../node/check-server.js';
import {
  DEFAULT_SESSION_ID_CONTEXT,
  statefulServerOptions,
  type StatefulServerOptionsInput,
} from '../node/stateful-options.js';
import type { StoreCallbacksOptions } from '../stores/cache-adapter.js';
import { AesGcmCodec } from '../stores/encryption/aes-gcm-codec.js';
import { keyringFromOption } from '../stores/encryption/options.js';
import type { Keyring } from '../stores/encryption/keyring.js';
import type { CreateStoreOptions } from '../stores/from-url.js';
import type { StoredSessionCodec } from '../session/stored-record.js';
import type { SessionStore } from '../stores/store.js';
import { parseStoreUrl, type StoreUrl } from '../stores/store-url.js';

/**
 * How sessions resume (docs/tickets.md compares them):
 * - `'stateful'`: OpenSSL's session ids (TLS 1.2) and stateful tickets (TLS 1.3), each a reference
 *   to a session kept in the store; the server issues no stateless tickets. Revocable, single use.
 * - `'tickets'`: stateless tickets (the client keeps the sealed session) under ticket keys that
 *   every process shares through the store and rotates on a schedule (`openTicketKeys`); TLS 1.2
 *   clients without ticket support still resume session ids through the store. Resumes the
 *   clients that resume TLS 1.2 only through tickets (Go, Firefox). A shared store needs
 *   `encryption`, which seals the keys in it.
 */
export type ResumptionMode = 'stateful' | 'tickets';

/** Every {@link ResumptionMode}. */
export const RESUMPTION_MODES: readonly ResumptionMode[] = ['stateful', 'tickets'];

/**
 * Options of `openSessionCache`. Those picked from another options type are documented there:
 * {@link AttachOptions} (applied to every server attached), {@link StatefulServerOptionsInput},
 * {@link SessionCacheOptions}, {@link StoreCallbacksOptions} and {@link CreateStoreOptions}.
 */
export interface OpenSessionCacheOptions
  extends
    Pick<
      AttachOptions,
      | 'tenant'
      | 'readClientHello'
      | 'helloTimeoutMs'
      | 'helloMaxBytes'
      | 'requireExtendedMasterSecret'
      | 'requireServerNameMatch'
    >,
    Pick<StatefulServerOptionsInput, 'sessionIdContext'>,
    Pick<SessionCacheOptions, 'lookupDeadlineMs' | 'clock'>,
    Pick<
      StoreCallbacksOptions,
      'encryption' | 'writeTimeoutMs' | 'maxInFlightWrites' | 'breaker' | 'onError'
    >,
    Pick<CreateStoreOptions, 'startupTimeoutMs' | 'requireStore'>,
    Pick<
      TicketKeysOptions,
      'rotateEveryMs' | 'acceptForMs' | 'refreshMs' | 'singleUse' | 'allowUnsealedKeys'
    > {
  /**
   * Where sessions live: `'memory'` (this process only), `'sqlite:PATH'` (the processes of one
   * host), `'redis://HOST:PORT[/DB]'`, `'rediss://…'`, `'redis+cluster://HOST:PORT,…'` (a fleet),
   * what `parseStoreUrl` returns for one of those, or a store object (any `SessionStore`, e.g. one
   * opened with its own options). A store string is parsed at the call (a `TypeError` names the part that is wrong) and opened by
   * `openSessionCache`; either way the session cache owns the store and closes it in `close()`.
   *
   * With the memory store, the store *is* the cache: the engine's internal cache is switched off
   * (OpenSSL's "external cache only"), so that each session is kept once. With a shared store the
   * internal cache sits in front of it, and sessions removed from the store anywhere leave it.
   * @default 'memory'
   */
  store?: string | StoreUrl | SessionStore;
  /**
   * How sessions resume; see {@link ResumptionMode}.
   * @default 'stateful'
   */
  mode?: ResumptionMode;
  /**
   * Session lifetime in seconds: the one value behind Node's `sessionTimeout` (through
   * `serverOptions()`), the cache's `timeout` and the store's expiry of each session.
   * @default 300
   */
  timeout?: number;
  /**
   * Most sessions kept in this process's memory: the memory store's `maxEntries`, or with a shared
   * store the size of the internal cache in front of it (`SessionCacheOptions.cacheSize`).
   * @default 20480
   */
  cacheSize?: number;
  /**
   * Whether the engine's internal cache (decoded sessions in this process's memory, OpenSSL's
   * "internal cache") sits in front of the store. With a shared store it answers TLS 1.2 lookups
   * of sessions this process has seen without a store round trip; `false` makes every lookup ask
   * the store (OpenSSL's `SSL_SESS_CACHE_NO_INTERNAL`), as a fleet whose reconnects land on other
   * processes sees it. With the memory store, `true` keeps the sessions in the internal cache alone
   * and never uses the store: the two would be two copies in the same memory (the engine's own
   * cache skips decoding a session again on each lookup, about 0.5 µs).
   * @default false with the memory store (the store is the cache), true with a shared store
   */
  internalCache?: boolean | undefined;
  /**
   * Replaces the opened store with what it returns before the cache uses it: a seam for
   * instrumentation, e.g. `wrapStore: (store) => latency.wrap(store)` with a
   * `StoreLatencyRecorder`. The result must behave as the store it wraps.
   *
   * In tickets mode the ticket keys and the TLS 1.3 first-use records go to the store as opened,
   * not through the wrapper: both need the store's atomic `setIfAbsent`, which a wrapper may not
   * forward, and single use must not depend on it. The wrapper sees the session traffic (TLS 1.2
   * session ids) only.
   * @default undefined (the store as opened)
   */
  wrapStore?: ((store: SessionStore) => SessionStore) | undefined;
}

/** Every key of {@link OpenSessionCacheOptions}; the `Record` type keeps the list complete. */
export const OPEN_SESSION_CACHE_OPTION_KEYS: Readonly<Record<keyof OpenSessionCacheOptions, true>> =
  {
    store: true,
    mode: true,
    timeout: true,
    cacheSize: true,
    internalCache: true,
    wrapStore: true,
    tenant: true,
    readClientHello: true,
    helloTimeoutMs: true,
    helloMaxBytes: true,
    requireExtendedMasterSecret: true,
    requireServerNameMatch: true,
    sessionIdContext: true,
    lookupDeadlineMs: true,
    clock: true,
    encryption: true,
    writeTimeoutMs: true,
    maxInFlightWrites: true,
    breaker: true,
    onError: true,
    startupTimeoutMs: true,
    requireStore: true,
    rotateEveryMs: true,
    acceptForMs: true,
    refreshMs: true,
    singleUse: true,
    allowUnsealedKeys: true,
  };

/** The options that only tickets mode uses: given in stateful mode, they are a mistake. */
const TICKETS_ONLY: readonly (keyof OpenSessionCacheOptions)[] = [
  'rotateEveryMs',
  'acceptForMs',
  'refreshMs',
  'singleUse',
  'allowUnsealedKeys',
];

// Compile-time only: attach()'s unknown-key list must name every AttachOptions key, and no other.
ATTACH_OPTION_KEYS satisfies Record<keyof AttachOptions, true>;
({}) as Record<keyof AttachOptions, true> satisfies Record<keyof typeof ATTACH_OPTION_KEYS, true>;

/** {@link OpenSessionCacheOptions} checked, defaulted and derived; nothing opened yet. */
export interface ResolvedOptions {
  /** A store to open, or one given open. */
  readonly store: StoreUrl | SessionStore;
  readonly mode: ResumptionMode;
  readonly timeout: number;
  readonly cacheSize: number;
  /** As given; `undefined`: decided by the store's kind once it is open. */
  readonly internalCache: boolean | undefined;
  readonly sessionIdContext: string;
  readonly lookupDeadlineMs: number;
  /** The encryption option turned into its codec (the key file read), or none. */
  readonly codec: StoredSessionCodec | undefined;
  /** Tickets mode: the options of `openTicketKeys` (keyring, tenant and clock included). */
  readonly tickets: TicketKeysOptions | undefined;
  readonly attach: AttachOptions;
  readonly createStore: CreateStoreOptions;
  readonly callbacks: Omit<StoreCallbacksOptions, 'encryption' | 'codec'>;
  readonly clock: (() => number) | undefined;
  readonly wrapStore: ((store: SessionStore) => SessionStore) | undefined;
}

/**
 * Checks every option before anything is opened, so that a mistake costs no file, connection or
 * key read: a `TypeError` for an unknown key (with the nearest known one) or a value of the wrong
 * type, a `RangeError` for one out of range, each naming the option.
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  const opts = checkOptions(options as OpenSessionCacheOptions | undefined);
  checkKnownKeys('openSessionCache', opts, OPEN_SESSION_CACHE_OPTION_KEYS);
  const store = resolveStore(opts.store);
  const mode = opts.mode ?? 'stateful';
  if (!RESUMPTION_MODES.includes(mode)) {
    throw new TypeError(
      `mode must be one of ${RESUMPTION_MODES.map((m) => `'${m}'`).join(', ')}, got ${describe(mode)}`,
    );
  }
  const timeout = checkInteger('timeout', opts.timeout ?? DEFAULT_SESSION_TIMEOUT, 1, 2 ** 31 - 1);
  const cacheSize = checkInteger(
    'cacheSize',
    opts.cacheSize ?? DEFAULT_CACHE_SIZE,
    1,
    MAX_CACHE_SIZE,
  );
  const lookupDeadlineMs = checkInteger(
    'lookupDeadlineMs',
    opts.lookupDeadlineMs ?? DEFAULT_LOOKUP_DEADLINE_MS,
    1,
    60_000,
  );
  // Checks sessionIdContext (1–32 bytes) exactly as the servers will get it.
  const { sessionIdContext } = statefulServerOptions({
    sessionIdContext: opts.sessionIdContext ?? DEFAULT_SESSION_ID_CONTEXT,
    sessionTimeout: timeout,
  });
  const attach: AttachOptions = pickDefined(opts, [
    'tenant',
    'readClientHello',
    'helloTimeoutMs',
    'helloMaxBytes',
    'requireExtendedMasterSecret',
    'requireServerNameMatch',
  ]);
  checkAttachOptionValues(attach);
  if (opts.clock !== undefined && typeof opts.clock !== 'function') {
    throw new TypeError(`clock must be a function, got ${describe(opts.clock)}`);
  }
  if (opts.wrapStore !== undefined && typeof opts.wrapStore !== 'function') {
    throw new TypeError(`wrapStore must be a function, got ${describe(opts.wrapStore)}`);
  }
  if (opts.internalCache !== undefined && typeof opts.internalCache !== 'boolean') {
    throw new TypeError(`internalCache must be a boolean, got ${describe(opts.internalCache)}`);
  }
  if (opts.requireStore !== undefined && typeof opts.requireStore !== 'boolean') {
    throw new TypeError(`requireStore must be a boolean, got ${describe(opts.requireStore)}`);
  }
  if (opts.startupTimeoutMs !== undefined) {
    checkInteger('startupTimeoutMs', opts.startupTimeoutMs, 1, 600_000);
  }
  // Reads the key file now: a missing key is an error before the store is opened.
  const keyring: Keyring | undefined =
    opts.encryption === undefined ? undefined : keyringFromOption(opts.encryption);
  const codec = keyring === undefined ? undefined : new AesGcmCodec(keyring);
  if (mode !== 'tickets') {
    const given = TICKETS_ONLY.find((key) => opts[key] !== undefined);
    if (given !== undefined) {
      throw new TypeError(`${given} is an option of mode: 'tickets', but mode is '${mode}'`);
    }
  }
  // openTicketKeys checks its own values (and the keyring a shared store needs) when it opens.
  const tickets: TicketKeysOptions | undefined =
    mode !== 'tickets'
      ? undefined
      : {
          ...pickDefined(opts, [
            'rotateEveryMs',
            'acceptForMs',
            'refreshMs',
            'singleUse',
            'allowUnsealedKeys',
            'tenant',
            'clock',
          ]),
          ...(keyring === undefined ? {} : { keyring }),
        };
  return {
    store,
    mode,
    timeout,
    cacheSize,
    internalCache: opts.internalCache,
    sessionIdContext,
    lookupDeadlineMs,
    codec,
    tickets,
    attach,
    createStore: {
      maxEntries: cacheSize,
      ...pickDefined(opts, ['startupTimeoutMs', 'requireStore']),
    },
    // The adapter's read timeout is the cache's lookup deadline: the breaker counts a read as hung
    // exactly when the cache stopped waiting for it.
    callbacks: {
      timeout,
      readTimeoutMs: lookupDeadlineMs,
      ...pickDefined(opts, ['writeTimeoutMs', 'maxInFlightWrites', 'breaker', 'onError', 'clock']),
    },
    clock: opts.clock,
    wrapStore: opts.wrapStore,
  };
}

/** A store string parsed (its errors are TypeErrors naming the wrong part), or a store object. */
function resolveStore(store: unknown): StoreUrl | SessionStore {
  if (store === undefined) return { kind: 'memory' };
  if (typeof store === 'string') return parseStoreUrl(store);
  if (isSessionStore(store)) return store;
  if (typeof store === 'object' && store !== null && 'kind' in store && !('get' in store)) {
    // A parsed URL: createStore checks its fields.
    return store as StoreUrl;
  }
  throw new TypeError(
    `store must be a store URL ('memory', 'sqlite:PATH', 'redis://HOST:PORT', …) or a SessionStore ` +
      `(with kind, set, get, take, delete and close), got ${describe(store)}`,
  );
}

/** Whether `value` has what the cache and `close()` use of a `SessionStore`. */
export function isSessionStore(value: unknown): value is SessionStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return (
    typeof store.kind === 'string' &&
    ['set', 'get', 'take', 'delete', 'close'].every((m) => typeof store[m] === 'function')
  );
}

/** The entries of `keys` whose value is not `undefined` (for `exactOptionalPropertyTypes`-style spreads). */
function pickDefined<T extends object, K extends keyof T>(
  source: T,
  keys: readonly K[],
): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys) {
    if (source[key] !== undefined) out[key] = source[key];
  }
  return out;
}
