// ── Glossary: one name per concept, and OpenSSL's word for it ─────────────────────────────────────
//
// OpenSSL (SSL_CTX_sess_*, SSL_SESSION)     here
// ─────────────────────────────────────     ──────────────────────────────────────────────────────
// session (SSL_SESSION)                     a session; its serialized form (i2d_SSL_SESSION DER,
//                                           what Node's newSession hands over) is its `data`
// session id                                `id` (1–32 bytes); for TLS 1.3 the PSK identity of a
//                                           stateful ticket, which is that id
// session id context (sid_ctx)              `sessionIdContext`; with the tenant it makes the
//                                           `namespace` (namespaceOf): sessions resume only in
//                                           their own namespace
// internal cache (SSL_CTX's session cache)  the cache, `SessionCache` (in this process's memory)
// external cache (new/remove/get callbacks) a store, `SessionStore` (memory, SQLite, Redis), made
//                                           into the callbacks by `storeCallbacks` (the adapter)
// sess_hits / sess_cb_hits / sess_misses    stats `hits` (found anywhere) / `cbHits` (of those,
//                                           found through the get callback: the store) / `misses`
// timeout, time                             `timeout` (s), `time` (s since the epoch); expiry is
//                                           `time + timeout`, kept by the store as `expiresAtMs`
// ticket (TLS 1.2 RFC 5077, TLS 1.3 NST)    stateless tickets are Node's own and bypass the cache;
//                                           `statefulServerOptions()` makes TLS 1.3 tickets carry
//                                           only an id, so every ticket is a cache lookup
// PSK identity (TLS 1.3 pre_shared_key)     read from the ClientHello before Node sees it
//                                           (`attach` reads it: `readClientHello`)
// single use (TLS 1.3 stateful tickets,     a TLS 1.3 resumption `take`s its session: one ticket
//   unless SSL_OP_NO_ANTI_REPLAY)           resumes once, across every process sharing the store
// SSL_get1_session (client side)            `ClientSessionCache`
//
// The types of one session, each a different view (none is an alias of another):
// - `CachedSession`: what the cache engine keeps and the callbacks see: id, data, time, timeout,
//   namespace. The engine never parses `data`.
// - `SessionRecord`: a CachedSession decoded once by the Node wiring, plus what it checks before
//   resuming (protocol version, sid_ctx, SNI host name, extended master secret).
// - `DecodedSession`: every field of the DER (`decodeSession`), for inspection (CLI `decode`,
//   `inspect`); redacts its secrets when printed.
// - stored session: the bytes a store holds for one session, the envelope of
//   `encodeStoredSession` (optionally sealed by a `StoredSessionCodec`); `StoredEntry` is one of
//   them with its key and deadline as `store.list()` yields it.
// - `ClientSession` (client side): a session Node's client was handed, with when it expires and
//   whether it is single use.
// - `SessionSummary` / `ListedSession` (CLI): what `list` shows of a stored session, never a
//   secret; `ListedSession` is its `--json` form.

/**
 * tls-session-cache: OpenSSL's server-side TLS session cache for Node.js servers, resuming TLS 1.2
 * session ids and TLS 1.3 stateful tickets through a cache you control.
 *
 * @example
 * ```ts
 * import https from 'node:https';
 * import { openSessionCache } from 'tls-session-cache';
 *
 * const sessions = await openSessionCache({ store: 'sqlite:/var/lib/api/sessions.db', sessionIdContext: 'api' });
 * const server = https.createServer({ key, cert, ...sessions.serverOptions() }, app);
 * sessions.attach(server);
 * server.listen(443);
 * ```
 *
 * @packageDocumentation
 */

// The front door: store, cache and servers assembled in one call.
export * from './front-door/index.js';

// The low-level pieces it assembles. The cache engine (OpenSSL's internal cache and its callbacks).
export {
  SessionCache,
  AUTO_CLEAR_INTERVAL,
  DEFAULT_CACHE_SIZE,
  DEFAULT_LOOKUP_DEADLINE_MS,
  DEFAULT_SESSION_TIMEOUT,
  type LookupOptions,
  type SessionCacheOptions,
  type SessionCacheStats,
  type CachedSession,
  type GetSessionCallback,
  type GetSessionInfo,
  type LookupResult,
  type NewSessionCallback,
  type RemoveReason,
  type RemoveSessionCallback,
  type SessionCacheMode,
} from './cache/index.js';

// Node wiring.
export {
  attach,
  statefulServerOptions,
  sessionRecordFromDer,
  namespaceOf,
  DEFAULT_SESSION_ID_CONTEXT,
  type AttachOptions,
  type Attachment,
  type AttachmentStats,
  type SessionRecord,
  type StatefulServerOptions,
  type StatefulServerOptionsInput,
  ticketServerOptions,
  openTicketKeys,
  TicketKeys,
  TicketKeySchedule,
  DEFAULT_ROTATE_EVERY_MS,
  DEFAULT_ACCEPT_FOR_MS,
  DEFAULT_TICKET_REFRESH_MS,
  type TicketKeysOptions,
  type TicketKeysStats,
} from './node/index.js';

// Decoding serialized sessions.
export { decodeSession, SESSION_ASN1_VERSION } from './session/decode.js';
export {
  DecodedSession,
  REDACTED,
  SSL_SESS_FLAG_EXTMS,
  type DecodedSessionJSON,
} from './session/decoded-session.js';
export {
  SessionDecodeError,
  MAX_SESSION_DER_LENGTH,
  MAX_SESSION_PEM_LENGTH,
  type SessionDecodeErrorCode,
} from './session/errors.js';
export {
  cipherSuiteById,
  protocolVersionName,
  namedGroupName,
  type CipherSuite,
} from './session/tls-names.js';
export { SESSION_PEM_BEGIN, SESSION_PEM_END } from './session/pem.js';

// Reading ClientHellos (what attach() does before Node sees a connection).
export {
  parseClientHello,
  ClientHelloParseError,
  ExtensionType,
  type ClientHelloInfo,
  type ClientHelloParseErrorCode,
  type OfferedPsks,
  type PskIdentity,
} from './wire/client-hello.js';
export {
  readClientHello,
  DEFAULT_HELLO_MAX_BYTES,
  DEFAULT_HELLO_TIMEOUT_MS,
  type ReadClientHelloOptions,
  type ReadClientHelloResult,
  type HelloReadResult,
  type HelloPassthroughResult,
  type HelloClosedResult,
  type HelloPassthroughReason,
} from './wire/hello-reader.js';
export type { RecordRejectReason } from './wire/tls-record.js';

// Stores: the external cache (memory, SQLite, Redis), the adapter that plugs one into a
// SessionCache, and the stored-record format.
export * from './stores/index.js';

// Events on node:diagnostics_channel, for users' own loggers and tracers.
export {
  channels,
  onEvent,
  CHANNEL_NAMES,
  type BreakerEvent,
  type TicketKeysEvent,
  type ChannelMessages,
  type MissEvent,
  type MissReason,
  type NewSessionEvent,
  type RejectReason,
  type RejectedEvent,
  type RemoveEvent,
  type ResumeEvent,
  type ResumeSource,
  type StoreErrorEvent,
  type StoreStateEvent,
  type TypedChannel,
} from './cache/events.js';

// Operating: events as log lines. (Prometheus metrics have their own entry,
// `tls-session-cache/metrics`, so that prom-client's types reach only the programs that use them.)
export {
  formatEvent,
  idPrefix,
  logEvents,
  LOGGED_ID_BYTES,
  type EventLogOptions,
} from './metrics/event-log.js';

// Client side: a session cache for outgoing connections (tls.connect, https.Agent, undici/fetch).
export * from './client/index.js';
