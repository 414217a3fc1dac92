// What openSessionCache() resolves to: the assembled cache, store and servers, as one object with
// one lifecycle. Only types here; the assembly is in open-session-cache.ts.
import type tls from 'node:tls';
import type { SessionCache } from '../cache/session-cache.js';
import type { SessionCacheStats } from '../cache/stats.js';
import type { Attachment } from '../node/attach.js';
import type { AttachmentStats } from '../node/attachment-stats.js';
import type { StatefulServerOptions } from '../node/stateful-options.js';
import type { StoreAdapter, StoreAdapterStats } from '../stores/cache-adapter.js';
import type { SessionStore } from '../stores/store.js';
import type { ResumptionMode } from './options.js';
import type { StoreState } from '../stores/store-state.js';
import type { TicketKeysStats } from '../node/ticket-keys.js';

/** What {@link SessionService.stats} returns: every counter of the assembly in one object. */
export interface SessionServiceStats {
  /** How sessions resume. */
  mode: ResumptionMode;
  /** The cache engine's counters (OpenSSL's: hits, misses, timeouts, cacheFull, …). */
  cache: SessionCacheStats;
  /** The store adapter's counters (writes, reads, errors, breaker). */
  store: StoreAdapterStats;
  /** The store's `kind`: `memory`, `sqlite`, `redis`, … */
  storeKind: string;
  /**
   * Whether the store answers, as far as this process can tell: the store's own `state()` when it
   * has one (`connecting` at start, `degraded` while its server cannot be reached, `ready`);
   * otherwise `degraded` while the adapter's circuit breaker is open or probing, else `ready`;
   * `closed` after {@link SessionService.close}. While degraded, handshakes are full ones: nothing
   * fails.
   */
  storeState: StoreState;
  /** The attachments' counters, summed over every server ever attached (counters never go down). */
  attachments: AttachmentStats;
  /** Servers attached now. */
  servers: number;
  /**
   * Tickets mode: the shared ticket keys (`state` is `local` while this process encrypts with a
   * key of its own because the store could not be reached); `undefined` in stateful mode.
   */
  tickets: TicketKeysStats | undefined;
}

/**
 * A session cache in front of a store, ready for any number of servers; made by
 * `openSessionCache`. Create each server with {@link serverOptions}, then {@link attach} it.
 */
export interface SessionService {
  /** How sessions resume. */
  readonly mode: ResumptionMode;
  /** The session id context every attached server must have (from {@link serverOptions}). */
  readonly sessionIdContext: string;
  /** The session lifetime in seconds (Node's `sessionTimeout`, the cache's and the store's). */
  readonly timeout: number;
  /** The cache engine (low-level: its setters, `remove`, `flush`, …). */
  readonly cache: SessionCache;
  /** The store adapter (low-level: `drain`, counters). */
  readonly adapter: StoreAdapter;
  /** The store (as wrapped by `wrapStore`, if given). */
  readonly store: SessionStore;
  /**
   * The options to spread into `tls.createServer()`, `https.createServer()` or
   * `http2.createSecureServer()`: `secureOptions` with `SSL_OP_NO_TICKET`, this cache's
   * `sessionIdContext` and `sessionTimeout` (the `timeout` option).
   * @param extra - `secureOptions` bits of your own, kept alongside `SSL_OP_NO_TICKET`
   * @throws TypeError for an unknown key or a wrong type
   */
  serverOptions(extra?: { secureOptions?: number }): StatefulServerOptions;
  /**
   * Wires the cache to `server` (see the low-level `attach`), with the attach options given to
   * `openSessionCache`. Call it before the server accepts connections, once per server.
   * @returns the attachment; its `detach()` undoes this one
   * @throws TypeError if `server` is not a TLS server, issues stateless tickets, or has another
   * `sessionIdContext` or `sessionTimeout` than {@link serverOptions} gives (each message says
   * which); Error after {@link close}
   */
  attach(server: tls.Server): Attachment;
  /** A snapshot of every counter; see {@link SessionServiceStats}. */
  stats(): SessionServiceStats;
  /**
   * Detaches every server, closes the cache (sessions stay in the store), waits for the pending
   * store writes, then closes the store — in that order, so that no session made before is lost.
   * Servers themselves are yours to close. Idempotent: later calls return the same promise.
   */
  close(): Promise<void>;
}
