import { decodeSession } from '../session/decode.js';
import type { CachedSession } from '../cache/types.js';

/**
 * A cached session plus what the Node wiring checks before handing it to OpenSSL, decoded once
 * from the DER when the session enters the cache (from Node's `newSession`, or from a store).
 */
export interface SessionRecord extends CachedSession {
  readonly time: number;
  readonly timeout: number;
  /** Protocol version of the session (`0x0303` TLS 1.2, `0x0304` TLS 1.3). */
  readonly protocolVersion: number;
  /** The session id context the session was created under (empty when none). */
  readonly sessionIdContext: Uint8Array;
  /** SNI host name of the handshake that created it, lower-cased; `undefined` without SNI. */
  readonly hostName: string | undefined;
  /** Whether it used the extended master secret (RFC 7627); always true for TLS 1.3. */
  readonly extendedMasterSecret: boolean;
}

/** TLS 1.3's protocol version number. */
export const TLS1_3_VERSION = 0x0304;

/**
 * Decodes a serialized `SSL_SESSION` into a {@link SessionRecord} in `namespace`.
 *
 * OpenSSL records the SNI in a server-side session only when a servername callback acknowledged
 * it, which a Node server without `SNICallback` never does; so the wiring passes the SNI it read in
 * the ClientHello as `serverName`, used when the session itself has none.
 * @throws {@link SessionDecodeError} for malformed data
 */
export function sessionRecordFromDer(
  data: Uint8Array,
  namespace: string,
  serverName?: string,
): SessionRecord {
  const decoded = decodeSession(data);
  const tls13 = decoded.protocolVersion === TLS1_3_VERSION;
  return {
    id: decoded.sessionId,
    data,
    time: decoded.time,
    timeout: decoded.timeout,
    namespace,
    protocolVersion: decoded.protocolVersion,
    sessionIdContext: decoded.sessionIdContext ?? EMPTY,
    hostName: (decoded.hostName ?? serverName)?.toLowerCase(),
    extendedMasterSecret: tls13 || decoded.extendedMasterSecret,
  };
}

const EMPTY = new Uint8Array(0);

/** Whether a cached session carries the decoded fields of a {@link SessionRecord}. */
export function isSessionRecord(session: CachedSession): session is SessionRecord {
  return typeof (session as Partial<SessionRecord>).protocolVersion === 'number';
}
