// The client side's public surface, for src/index.ts to re-export.
export {
  ClientSessionCache,
  DEFAULT_CLIENT_MAX_BYTES,
  DEFAULT_CLIENT_MAX_ENTRIES,
  DEFAULT_CLIENT_MAX_ORIGINS,
  DEFAULT_TICKETS_PER_ORIGIN,
  type ClientSessionCacheOptions,
  type ClientSessionCacheStats,
  type KeepPolicy,
  isTlsFailure,
} from './client-session-cache.js';
export {
  originKeyOf,
  CLIENT_NAMESPACE_PREFIX,
  type OriginKey,
  type OriginOptions,
} from './origin-key.js';
export { MAX_TICKET_LIFETIME_SECONDS } from './client-session.js';
export { CLIENT_SESSION_FORMAT } from './stored-client-session.js';
export { SessionCachingAgent, type SessionCachingAgentOptions } from './https-agent.js';
export {
  undiciConnector,
  type UndiciConnectCallback,
  type UndiciConnectOptions,
  type UndiciConnector,
  type UndiciConnectorOptions,
} from './undici-connector.js';
