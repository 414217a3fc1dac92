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
