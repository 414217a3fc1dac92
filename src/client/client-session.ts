// What the client cache needs to know about one session Node handed to a client, decoded from the
// serialized SSL_SESSION with our own decoder.
import { decodeSession } from '../session/decode.js';
import { TLS1_3_VERSION } from '../session/session-record.js';

/** RFC 8446 §4.6.1: a client must not keep a TLS 1.3 ticket longer than 7 days. */
export const MAX_TICKET_LIFETIME_SECONDS = 7 * 24 * 3600;

/** A resumable client session. */
export interface ClientSession {
  /** The serialized session, as Node's `session` event gave it and `tls.connect({ session })` takes. */
  readonly der: Buffer;
  /** `0x0303` TLS 1.2, `0x0304` TLS 1.3, … */
  readonly protocolVersion: number;
  /** TLS 1.3 tickets are offered once (RFC 8446 §8, appendix C.4); older sessions any number of times. */
  readonly singleUse: boolean;
  /** When it stops being offered, ms since the epoch. */
  readonly expiresAtMs: number;
}

/** Why a session is not kept; see {@link clientSessionOf}. */
export type NotResumableReason = 'malformed' | 'notResumable' | 'expired';

/**
 * Decodes a client session and decides whether it can ever be offered.
 *
 * Resumable, as OpenSSL's `SSL_SESSION_is_resumable`: a TLS 1.3 session needs a ticket; an older one
 * a ticket or a session id. Its lifetime is the shortest of the session's own `time + timeout`,
 * the server's ticket lifetime hint (TLS 1.3, where OpenSSL already applies it) and 7 days.
 *
 * @param nowMs - the cache's clock
 * @returns the session, or why it is not kept
 */
export function clientSessionOf(der: Buffer, nowMs: number): ClientSession | NotResumableReason {
  let decoded;
  try {
    decoded = decodeSession(der);
  } catch {
    return 'malformed';
  }
  const tls13 = decoded.protocolVersion === TLS1_3_VERSION;
  const hasTicket = (decoded.ticketLength ?? 0) > 0;
  if (tls13 ? !hasTicket : !hasTicket && decoded.sessionId.length === 0) return 'notResumable';
  let lifetime = Math.min(decoded.timeout, MAX_TICKET_LIFETIME_SECONDS);
  if (tls13 && decoded.ticketLifetimeHint > 0)
    lifetime = Math.min(lifetime, decoded.ticketLifetimeHint);
  const expiresAtMs = (decoded.time + lifetime) * 1000;
  if (lifetime <= 0 || nowMs >= expiresAtMs) return 'expired';
  return { der, protocolVersion: decoded.protocolVersion, singleUse: tls13, expiresAtMs };
}
