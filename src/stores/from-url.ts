// A store URL (`memory`, `sqlite:PATH`, `redis://…`, …) → an open SessionStore. One case per store
// kind; the parsing is in src/stores/store-url.ts (parseStoreUrl), so that a bad URL fails before
// anything is opened.
import { parseStoreUrl, StoreUrlError, type StoreUrl } from './store-url.js';
import type { RedisStoreOptions } from './redis-options.js';
import { DEFAULT_CACHE_SIZE } from '../cache/options.js';
import { checkKnownKeys, checkOptions, describe, integerOption } from '../common/validate.js';
import { MemoryStore } from './memory-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { SessionStore } from './store.js';

/** Options of {@link createStore}: what the URL cannot say. */
export interface CreateStoreOptions {
  /**
   * Most sessions the `memory` store keeps (its `maxEntries`); the other stores ignore it.
   * @default 20480
   */
  maxEntries?: number;
  /** See `RedisStoreOptions.startupTimeoutMs`; the in-process stores open at once and ignore it. */
  startupTimeoutMs?: RedisStoreOptions['startupTimeoutMs'];
  /** See `RedisStoreOptions.requireStore`; the in-process stores are always ready and ignore it. */
  requireStore?: RedisStoreOptions['requireStore'];
}

const CREATE_STORE_OPTION_KEYS: Readonly<Record<keyof CreateStoreOptions, true>> = {
  maxEntries: true,
  startupTimeoutMs: true,
  requireStore: true,
};

/**
 * Opens the store a store URL names — a string (`'sqlite:/var/lib/api/sessions.db'`, parsed with
 * `parseStoreUrl`) or a value `parseStoreUrl` returned. The caller owns it and must `close()` it.
 *
 * - `memory`: a {@link MemoryStore} bounded like OpenSSL's internal cache (20 480 sessions);
 * - `sqlite:PATH`: {@link SqliteStore.open} on PATH (created when missing);
 * - `redis…`: the Redis store (one server, a cluster, or through Sentinel). It fails open: a Redis
 *   that does not answer within `startupTimeoutMs` gives a `degraded` store that connects in the
 *   background (`store.state()`), unless `requireStore` is set.
 *
 * @throws TypeError naming the part of a store string that is wrong (a {@link StoreUrlError} is
 * one), or for invalid options; Error naming what failed (a missing optional dependency, a file
 * that cannot be opened, a server that does not answer); never with a password in the message.
 * @example
 * ```ts
 * const store = await createStore('sqlite:/var/lib/my-api/sessions.db');
 * ```
 */
export async function createStore(
  url: string | StoreUrl,
  options: CreateStoreOptions = {},
): Promise<SessionStore> {
  const parsed = typeof url === 'string' ? parseStoreUrl(url) : checkStoreUrl(url);
  const opts = checkOptions(options);
  checkKnownKeys('createStore', opts, CREATE_STORE_OPTION_KEYS);
  const maxEntries = integerOption('maxEntries', opts.maxEntries, DEFAULT_CACHE_SIZE, 1);
  const startupTimeoutMs =
    opts.startupTimeoutMs === undefined
      ? undefined
      : integerOption('startupTimeoutMs', opts.startupTimeoutMs, 0, 0, 600_000);
  if (opts.requireStore !== undefined && typeof opts.requireStore !== 'boolean') {
    throw new TypeError(`requireStore must be a boolean, got ${describe(opts.requireStore)}`);
  }
  switch (parsed.kind) {
    case 'memory':
      return new MemoryStore({ maxEntries });
    case 'sqlite':
      return SqliteStore.open({ path: parsed.path });
    // Loaded only when asked for: RedisStore in turn loads the optional ioredis, and says how to
    // install it when it is missing.
    case 'redis':
    case 'redis-cluster':
    case 'redis-sentinel':
      return (await import('./redis-store.js')).RedisStore.create({
        url: parsed.url,
        ...(startupTimeoutMs === undefined ? {} : { startupTimeoutMs }),
        ...(opts.requireStore === undefined ? {} : { requireStore: opts.requireStore }),
      });
  }
}

/** A {@link StoreUrl} given as an object: one of the kinds, with its field. */
function checkStoreUrl(url: unknown): StoreUrl {
  const kind = (url as { kind?: unknown } | null)?.kind;
  const ok =
    typeof url === 'object' &&
    url !== null &&
    (kind === 'memory' ||
      (kind === 'sqlite' && typeof (url as { path?: unknown }).path === 'string') ||
      ((kind === 'redis' || kind === 'redis-cluster' || kind === 'redis-sentinel') &&
        typeof (url as { url?: unknown }).url === 'string'));
  if (!ok) {
    throw new StoreUrlError(
      `store must be a store URL string or what parseStoreUrl returns, got ${describe(url)}`,
    );
  }
  return url as StoreUrl;
}
