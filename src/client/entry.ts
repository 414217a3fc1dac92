/**
 * `tls-session-cache/client`: the client side alone, with the stores a client process needs most,
 * for short-lived processes that should not load the server side (it halves the import time).
 *
 * @packageDocumentation
 */
export * from './index.js';
export { MemoryStore, type MemoryStoreOptions } from '../stores/memory-store.js';
export { SqliteStore, type SqliteStoreOptions } from '../stores/sqlite-store.js';
export type { SessionStore } from '../stores/store.js';
export type { StoredSessionCodec, StoredSessionContext } from '../session/stored-record.js';
export {
  SessionCacheError,
  hasErrorCode,
  type SessionCacheErrorCode,
  type StoreErrorCode,
} from '../common/errors.js';
