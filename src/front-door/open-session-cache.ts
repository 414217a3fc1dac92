// openSessionCache(): the one assembly of the pieces below it — store, adapter, cache, servers —
// with the values that must agree given once and derived, and misuse refused at the call. The CLI,
// the scripts and the test helpers all build their servers through it.
import type tls from 'node:tls';
import { SessionCache } from '../cache/session-cache.js';
import { checkKnownKeys, checkOptions, describe } from '../common/validate.js';
import { attach as attachLow, type Attachment } from '../node/attach.js';
import { emptyAttachmentStats, type AttachmentStats } from '../node/attachment-stats.js';
import { checkStatefulServer } from '../node/check-server.js';
import { statefulServerOptions, type StatefulServerOptions } from '../node/stateful-options.js';
import { openTicketKeys, type TicketKeys } from '../node/ticket-keys.js';
import { ticketServerOptions } from '../node/ticket-server-options.js';
import { storeCallbacks, type StoreAdapter } from '../stores/cache-adapter.js';
import { createStore } from '../stores/from-url.js';
import type { SessionStore } from '../stores/store.js';
import { storeState } from '../stores/store-state.js';
import { isSessionStore, resolveOptions, type OpenSessionCacheOptions } from './options.js';
import type { SessionService, SessionServiceStats } from './session-service.js';

/**
 * Opens a session cache in front of a store, for any number of TLS servers: the store (opened from
 * a URL, or given), the adapter between store and cache, and the cache, each configured from one
 * options object. Every option is checked before anything is opened.
 *
 * @example
 * ```ts
 * const sessions = await openSessionCache({
 *   store: 'sqlite:/var/lib/my-api/sessions.db',
 *   encryption: { keyFile: '/etc/my-api/session-keys' },
 *   sessionIdContext: 'my-api',
 * });
 * const server = https.createServer({ key, cert, ...sessions.serverOptions() }, app);
 * sessions.attach(server);
 * server.listen(443);
 * // at shutdown, after server.close():
 * await sessions.close();
 * ```
 * @throws TypeError for an unknown option (naming the nearest known one), a value of the wrong
 * type or a malformed store URL (naming the part that is wrong); RangeError for a value out of
 * range; the store's error when it cannot be opened (a missing optional dependency, a file that
 * cannot be opened, a Redis that does not answer with `requireStore`)
 */
export async function openSessionCache(
  options: OpenSessionCacheOptions = {},
): Promise<SessionService> {
  const resolved = resolveOptions(options);
  const opened = isSessionStore(resolved.store)
    ? resolved.store
    : await createStore(resolved.store, resolved.createStore);
  let tickets: TicketKeys | undefined;
  try {
    // The store itself, not a wrapStore() wrapper: the keys and the single-use records need its
    // setIfAbsent, which a wrapper may not forward (test/front-door: single use holds behind one).
    if (resolved.tickets !== undefined) tickets = await openTicketKeys(opened, resolved.tickets);
    const service = assemble(opened, resolved, tickets);
    // A reachable store's revocation subscription comes into force a round trip after bind(); a
    // lookup in flight at that moment is made a miss (conservative rule), so the first handshakes
    // would not resume. A store that is down is not waited on: it already took its startup time.
    if (storeState(opened) === 'ready') await service.adapter.revocationsInForce();
    return service;
  } catch (error) {
    // Whatever failed after the store was opened, the store is ours: do not leak it.
    tickets?.close();
    await opened.close();
    throw error;
  }
}

function assemble(
  opened: SessionStore,
  resolved: ReturnType<typeof resolveOptions>,
  tickets: TicketKeys | undefined,
): SessionService {
  const store = resolved.wrapStore === undefined ? opened : resolved.wrapStore(opened);
  if (!isSessionStore(store)) {
    throw new TypeError(`wrapStore must return a SessionStore, got ${describe(store)}`);
  }
  const adapter: StoreAdapter = storeCallbacks(store, {
    ...resolved.callbacks,
    codec: resolved.codec,
  });
  // The memory store *is* the cache: the engine's internal cache would hold a second copy of every
  // session in the same process with the same lifetime, so it is switched off (OpenSSL's "external
  // cache only"): one copy, bounded by count and bytes, swept by a timer, and the memory store runs
  // the very path the shared stores run (a lookup decodes the session again: about 0.5 µs). With a
  // shared store, OpenSSL's model: the internal cache in front of the external one; a TLS 1.2
  // session this process has seen resumes from memory, TLS 1.3 lookups always go to the store (its
  // atomic take keeps a ticket single use across processes), and bind() drops from memory what is
  // removed from the store anywhere (README, "Revocation across processes").
  // `internalCache` overrides either way: off in front of a shared store, every lookup asks it;
  // on with the memory store, the engine's own cache is the only one and the store stays unused.
  const memory = store.kind === 'memory';
  const internal = resolved.internalCache ?? !memory;
  const internalOnly = memory && internal;
  const cache = new SessionCache({
    timeout: resolved.timeout,
    cacheSize: resolved.cacheSize,
    lookupDeadlineMs: resolved.lookupDeadlineMs,
    ...(resolved.clock === undefined ? {} : { clock: resolved.clock }),
    ...(internalOnly ? {} : adapter.callbacks),
    ...(internal ? {} : { noInternalStore: true, noInternalLookup: true }),
  });
  adapter.bind(cache);

  const { mode, timeout, sessionIdContext } = resolved;
  const live = new Set<Attachment>();
  const all: Attachment[] = [];
  let closing: Promise<void> | undefined;

  const serverOptions = (extra?: { secureOptions?: number }): StatefulServerOptions => {
    const given = checkOptions(extra);
    checkKnownKeys('serverOptions', given, ['secureOptions']);
    return (tickets === undefined ? statefulServerOptions : ticketServerOptions)({
      sessionIdContext,
      sessionTimeout: timeout,
      ...(given.secureOptions === undefined ? {} : { secureOptions: given.secureOptions }),
    });
  };

  const attach = (server: tls.Server, ...rest: unknown[]): Attachment => {
    if (rest.length > 0) {
      throw new TypeError(
        'sessions.attach(server) takes no options: give them to openSessionCache(), once for every server',
      );
    }
    if (closing !== undefined) throw new Error('sessions.attach: this session cache is closed');
    checkStatefulServer(server, {
      fix: 'sessions.serverOptions()',
      sessionIdContext,
      sessionTimeout: timeout,
      issuesTickets: tickets !== undefined,
    });
    const low = attachLow(
      server,
      cache,
      tickets === undefined ? resolved.attach : { ...resolved.attach, tickets },
    );
    const attachment: Attachment = {
      server: low.server,
      cache: low.cache,
      helloHook: low.helloHook,
      get namespace() {
        return low.namespace;
      },
      stats: () => low.stats(),
      detach() {
        low.detach();
        live.delete(attachment);
      },
    };
    live.add(attachment);
    all.push(attachment);
    return attachment;
  };

  const storeState = (): SessionServiceStats['storeState'] => {
    if (closing !== undefined) return 'closed';
    // A store that knows its state (networked ones: `SessionStore.state()`) says it; for the others
    // the breaker tells whether calls are failing.
    if (typeof store.state === 'function') return store.state();
    const breaker = adapter.stats().breakerState;
    return breaker === 'open' || breaker === 'half-open' ? 'degraded' : 'ready';
  };

  const stats = (): SessionServiceStats => ({
    mode,
    cache: cache.stats(),
    store: adapter.stats(),
    storeKind: store.kind,
    storeState: storeState(),
    attachments: sumAttachmentStats(all.map((a) => a.stats())),
    servers: live.size,
    tickets: tickets?.stats(),
  });

  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const attachment of [...live]) attachment.detach();
      // Ticket keys leave memory (they are never written anywhere but sealed in the store).
      tickets?.close();
      // Sessions leave memory with reason "closed", which never deletes from the store.
      cache.close();
      // Pending writes land, then the store closes.
      await adapter.close();
    })();
    return closing;
  };

  return Object.freeze({
    mode,
    sessionIdContext,
    timeout,
    cache,
    adapter,
    store,
    serverOptions,
    attach,
    stats,
    close,
  });
}

/** Field-wise sum of attachment counters. */
function sumAttachmentStats(list: readonly AttachmentStats[]): AttachmentStats {
  const sum = emptyAttachmentStats();
  for (const stats of list) {
    for (const key of Object.keys(sum) as (keyof AttachmentStats)[]) sum[key] += stats[key];
  }
  return sum;
}
