// `--store` URL → an open SessionStore. One case per store kind; the parsing is in
// src/stores/store-url.ts (parseStoreUrl), so that a bad URL fails before anything is opened.
import type { StoreUrl } from './store-url.js';
import { DEFAULT_CACHE_SIZE } from '../cache/options.js';
import { MemoryStore } from './memory-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { SessionStore } from './store.js';

/**
 * Opens the store a parsed `--store` value names. The caller owns it and must `close()` it.
 *
 * - `memory`: a {@link MemoryStore} bounded like OpenSSL's internal cache (20 480 sessions);
 * - `sqlite:PATH`: {@link SqliteStore.open} on PATH (created when missing);
 * - `redis…`: the Redis store.
 *
 * @throws Error naming what failed (a missing optional dependency, a file that cannot be opened, a
 * server that does not answer); never with a password in the message.
 */
export async function createStore(url: StoreUrl): Promise<SessionStore> {
  switch (url.kind) {
    case 'memory':
      return new MemoryStore({ maxEntries: DEFAULT_CACHE_SIZE });
    case 'sqlite':
      return SqliteStore.open({ path: url.path });
    // Loaded only when asked for: RedisStore in turn loads the optional ioredis, and says how to
    // install it when it is missing. create() waits until Redis answers (or says why it did not).
    case 'redis':
    case 'redis-cluster':
      return (await import('./redis-store.js')).RedisStore.create({ url: url.url });
  }
}
