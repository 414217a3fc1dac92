import { SessionCacheError, type SessionDecodeErrorCode } from '../common/errors.js';

export type { SessionDecodeErrorCode } from '../common/errors.js';

/**
 * Cap on the DER size of a serialized session. OpenSSL stores only the peer's leaf certificate
 * (never its chain), so real sessions are a few hundred bytes to ~2 KiB even with a client
 * certificate and a TLS 1.3 ticket; 64 KiB leaves room for very large certificates while bounding
 * the work an attacker-controlled store entry can cause.
 */
export const MAX_SESSION_DER_LENGTH = 64 * 1024;

/**
 * Cap on the PEM text of a session: the base64 of {@link MAX_SESSION_DER_LENGTH} bytes with CRLF
 * line breaks every 64 characters, plus generous room for the armour lines and stray whitespace.
 */
export const MAX_SESSION_PEM_LENGTH =
  Math.ceil((Math.ceil(MAX_SESSION_DER_LENGTH / 3) * 4 * 66) / 64) + 1024;

/**
 * Thrown by {@link decodeSession} for every malformed input, and only for malformed input. The
 * message names offsets, tags and lengths, never the bytes themselves, so it is safe to log even
 * though the input holds a master secret.
 */
export class SessionDecodeError extends SessionCacheError<SessionDecodeErrorCode> {
  /** Byte offset into the DER where the problem was found, when there is one. */
  readonly offset: number | undefined;

  /**
   * @param code - the stable reason
   * @param message - human-readable detail; must never contain input bytes
   * @param offset - DER byte offset of the offending element, if known
   */
  constructor(code: SessionDecodeErrorCode, message: string, offset?: number) {
    super(code, offset === undefined ? message : `${message} (at byte ${offset})`);
    this.name = 'SessionDecodeError';
    this.offset = offset;
  }
}
