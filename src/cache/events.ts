// Events for logging and tracing, on `node:diagnostics_channel`: a publisher with no subscriber costs
// one property read (`hasSubscribers`), so the handshake path pays nothing unless someone listens,
// and users attach their own logger without the library choosing one. No message ever carries
// session bytes, master secrets or keys: ids are public (they travel in clear in every ClientHello).
import diagnosticsChannel from 'node:diagnostics_channel';
import type { RemoveReason } from './types.js';

/** Where a resumed session was found. */
export type ResumeSource = 'internal' | 'external';

/**
 * Why a lookup found nothing to resume:
 * - `not-found`: neither the internal cache nor the store had it;
 * - `expired`: found but past `time + timeout`, or from the future;
 * - `rejected`: found but refused (see {@link RejectReason}; a `tls-session-cache:rejected` event
 *   says which check failed);
 * - `timeout`: the store did not answer within the lookup deadline;
 * - `error`: the get callback or the store failed.
 */
export type MissReason = 'not-found' | 'expired' | 'rejected' | 'timeout' | 'error';

/**
 * Why a session found for a lookup was refused: the checks that keep store data untrusted.
 * - `decode`: the stored value did not decode (corrupt, tampered, wrong key, another key's record,
 *   too large, unknown format); `detail` holds the stored-session error code (`StoredSessionErrorCode`);
 * - `wrong-id`: the session's own id or namespace differs from the one asked for;
 * - `expired` / `future`: by its own `time + timeout`, or created later than now;
 * - `protocol`: its protocol version is not the one the client is resuming with;
 * - `session-id-context`: made under another session id context;
 * - `host-name`: made for another SNI host name;
 * - `extended-master-secret`: a TLS 1.2 session or hello without the extended master secret
 *   (RFC 7627);
 * - `replay`: tickets mode, a TLS 1.3 ticket offered again after its first use (single use);
 *   the event's `id` is the ticket's first 32 bytes (key name and IV, public).
 */
export type RejectReason =
  | 'decode'
  | 'wrong-id'
  | 'expired'
  | 'future'
  | 'protocol'
  | 'session-id-context'
  | 'host-name'
  | 'extended-master-secret'
  | 'replay';

/** Message of {@link channels}.`newSession`: a handshake made a session that the cache took. */
export interface NewSessionEvent {
  /** The cache namespace of the session (`''` when none; see `CachedSession.namespace`). */
  readonly namespace: string;
  /** The session id (for a TLS 1.3 stateful ticket, the PSK identity the client offers); public. */
  readonly id: Uint8Array;
}

/** Message of {@link channels}.`resume`: a lookup found a session to resume. */
export interface ResumeEvent {
  /** The cache namespace of the session (`''` when none; see `CachedSession.namespace`). */
  readonly namespace: string;
  /** The session id (for a TLS 1.3 stateful ticket, the PSK identity the client offers); public. */
  readonly id: Uint8Array;
  /** `internal` from the in-process cache, `external` from the get callback / store. */
  readonly source: ResumeSource;
}

/** Message of {@link channels}.`miss`: a lookup found nothing to resume (a full handshake follows). */
export interface MissEvent {
  /** The cache namespace of the session (`''` when none; see `CachedSession.namespace`). */
  readonly namespace: string;
  /** The session id (for a TLS 1.3 stateful ticket, the PSK identity the client offers); public. */
  readonly id: Uint8Array;
  /** Why nothing was resumed. */
  readonly reason: MissReason;
}

/** Message of {@link channels}.`remove`: a session left the internal cache, or was revoked. */
export interface RemoveEvent {
  /** The cache namespace of the session (`''` when none; see `CachedSession.namespace`). */
  readonly namespace: string;
  /** The session id (for a TLS 1.3 stateful ticket, the PSK identity the client offers); public. */
  readonly id: Uint8Array;
  /** Why it left. */
  readonly reason: RemoveReason;
}

/** Message of {@link channels}.`rejected`: untrusted session data was refused. */
export interface RejectedEvent {
  /** The cache namespace of the session (`''` when none; see `CachedSession.namespace`). */
  readonly namespace: string;
  /** The session id (for a TLS 1.3 stateful ticket, the PSK identity the client offers); public. */
  readonly id: Uint8Array;
  /** Which check refused it. */
  readonly reason: RejectReason;
  /** More detail where there is some, e.g. the stored-session error code; never secret. */
  readonly detail?: string;
}

/** Message of {@link channels}.`storeError`: a store call failed (the cache answered a miss or dropped a write). */
export interface StoreErrorEvent {
  /** The store's `kind`, e.g. `"redis"`. */
  readonly store: string;
  /** Which call failed. */
  readonly operation: string;
  /** The error; store errors never contain session bytes. */
  readonly error: unknown;
}

/** Message of {@link channels}.`breaker`: a store's circuit breaker changed state. */
export interface BreakerEvent {
  /** The store's `kind`. */
  readonly store: string;
  /** The new state. */
  readonly state: 'open' | 'half-open' | 'closed';
}

/**
 * Message of {@link channels}.`storeState`: a store's state changed (see `StoreState` in the stores):
 * `degraded` when it lost its server (one message, however many calls then fail), `ready` when it
 * is back (or first connected), `closed`. Meant for one log line each.
 */
export interface StoreStateEvent {
  /** The store's `kind`, e.g. `"redis"`. */
  readonly store: string;
  /** Where its server is (`host:port`, the cluster's or sentinels' addresses), never credentials. */
  readonly where: string;
  /** The new state. */
  readonly state: 'connecting' | 'ready' | 'degraded' | 'closed';
  /** The state before. */
  readonly previous: 'connecting' | 'ready' | 'degraded' | 'closed';
  /** How long the store was in the previous state, ms. */
  readonly previousMs: number;
  /** Why, when known (e.g. the last connection error); one line, never a secret. */
  readonly reason?: string;
}

/**
 * Message of {@link channels}.`ticketKeys`: the shared ticket keys of tickets mode changed hands.
 * - `minted`: this process created the key of `period` and stored it (it was the first to need it);
 * - `adopted`: this process read the key of `period` that another one stored;
 * - `local`: the store could not be reached (or held a key this process cannot open), so this
 *   process encrypts with a key of its own that no other process knows: its tickets resume only
 *   here until the store answers again;
 * - `erased`: the key of `period` left memory (its accept window ended).
 *
 * Never carries key bytes.
 */
export interface TicketKeysEvent {
  /** What happened to the key (see above). */
  readonly event: 'minted' | 'adopted' | 'local' | 'erased';
  /** The key's period: `floor(time / rotateEveryMs)`. */
  readonly period: number;
  /** The store's `kind`. */
  readonly store: string;
  /** For `local`: why (an error message without secrets). */
  readonly reason?: string;
}

/** The names of the channels, for `diagnostics_channel.subscribe(name, fn)`. */
export const CHANNEL_NAMES = Object.freeze({
  /** Carries {@link NewSessionEvent}. */
  newSession: 'tls-session-cache:new',
  /** Carries {@link ResumeEvent}. */
  resume: 'tls-session-cache:resume',
  /** Carries {@link MissEvent}. */
  miss: 'tls-session-cache:miss',
  /** Carries {@link RemoveEvent}. */
  remove: 'tls-session-cache:remove',
  /** Carries {@link RejectedEvent}. */
  rejected: 'tls-session-cache:rejected',
  /** Carries {@link StoreErrorEvent}. */
  storeError: 'tls-session-cache:store-error',
  /** Carries {@link BreakerEvent}. */
  breaker: 'tls-session-cache:breaker',
  /** Carries {@link StoreStateEvent}. */
  storeState: 'tls-session-cache:store-state',
  /** Carries {@link TicketKeysEvent}. */
  ticketKeys: 'tls-session-cache:ticket-keys',
} as const);

/** Message type of each channel. */
export interface ChannelMessages {
  /** A handshake made a session that the cache took. */
  newSession: NewSessionEvent;
  /** A lookup found a session to resume. */
  resume: ResumeEvent;
  /** A lookup found nothing to resume. */
  miss: MissEvent;
  /** A session left the internal cache, or was revoked. */
  remove: RemoveEvent;
  /** Untrusted session data was refused. */
  rejected: RejectedEvent;
  /** A store call failed. */
  storeError: StoreErrorEvent;
  /** A store's circuit breaker changed state. */
  breaker: BreakerEvent;
  /** A store's connection state changed. */
  storeState: StoreStateEvent;
  /** The shared ticket keys of tickets mode changed hands. */
  ticketKeys: TicketKeysEvent;
}

/** A channel whose messages have type `T`. */
export interface TypedChannel<T> {
  /** The channel's name, one of {@link CHANNEL_NAMES}. */
  readonly name: string;
  /** Whether anyone listens; publishers check it before building a message. */
  readonly hasSubscribers: boolean;
  /** Sends `message` to every subscriber (synchronously; a subscriber's exception is reported by Node, not thrown here). */
  publish(message: T): void;
}

/**
 * The library's `diagnostics_channel` channels. Every cache, adapter and attachment in the process
 * publishes to the same channels.
 *
 * @example
 * ```ts
 * import diagnosticsChannel from 'node:diagnostics_channel';
 * import { CHANNEL_NAMES } from 'tls-session-cache';
 * diagnosticsChannel.subscribe(CHANNEL_NAMES.storeError, (m) => logger.warn(m, 'session store failed'));
 * ```
 */
export const channels: { readonly [K in keyof ChannelMessages]: TypedChannel<ChannelMessages[K]> } =
  Object.freeze({
    newSession: diagnosticsChannel.channel(CHANNEL_NAMES.newSession),
    resume: diagnosticsChannel.channel(CHANNEL_NAMES.resume),
    miss: diagnosticsChannel.channel(CHANNEL_NAMES.miss),
    remove: diagnosticsChannel.channel(CHANNEL_NAMES.remove),
    rejected: diagnosticsChannel.channel(CHANNEL_NAMES.rejected),
    storeError: diagnosticsChannel.channel(CHANNEL_NAMES.storeError),
    breaker: diagnosticsChannel.channel(CHANNEL_NAMES.breaker),
    storeState: diagnosticsChannel.channel(CHANNEL_NAMES.storeState),
    ticketKeys: diagnosticsChannel.channel(CHANNEL_NAMES.ticketKeys),
  }) as never;

/**
 * Subscribes `listener` to one channel by its key in {@link channels}.
 * @returns a function that unsubscribes it
 */
export function onEvent<K extends keyof ChannelMessages>(
  channel: K,
  listener: (message: ChannelMessages[K]) => void,
): () => void {
  const name = CHANNEL_NAMES[channel];
  const handler = (message: unknown): void => listener(message as ChannelMessages[K]);
  diagnosticsChannel.subscribe(name, handler);
  return () => {
    diagnosticsChannel.unsubscribe(name, handler);
  };
}
