// PEM armour for serialized sessions, as `openssl sess_id` and `openssl s_client -sess_out` write
// it. Decoded by hand (no regex, no lenient Buffer base64) so that garbage is refused instead of
// being silently skipped, and so the work is one pass over a length-capped string.
import { MAX_SESSION_DER_LENGTH, SessionDecodeError } from './errors.js';

/** First line of a PEM-encoded session. */
export const SESSION_PEM_BEGIN = '-----BEGIN SSL SESSION PARAMETERS-----';
/** Last line of a PEM-encoded session. */
export const SESSION_PEM_END = '-----END SSL SESSION PARAMETERS-----';

// base64 alphabet → sextet; -1 for anything else. Whitespace is handled before the lookup.
const SEXTET = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  SEXTET['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Whether `bytes`, after leading whitespace, starts like a PEM block (with a dash). */
export function looksLikePem(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (!isSpace(c)) return c === 0x2d;
  }
  return false;
}

/**
 * Decodes one `SSL SESSION PARAMETERS` PEM block to its DER bytes. Only whitespace may surround
 * the block; the caller has already bounded the text's length.
 *
 * @throws SessionDecodeError `BAD_PEM` for anything but a single well-formed block
 */
export function decodeSessionPem(text: string): Buffer {
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  if (!text.startsWith(SESSION_PEM_BEGIN, i)) {
    throw new SessionDecodeError('BAD_PEM', `text does not start with "${SESSION_PEM_BEGIN}"`);
  }
  const bodyStart = i + SESSION_PEM_BEGIN.length;
  const bodyEnd = text.indexOf(SESSION_PEM_END, bodyStart);
  if (bodyEnd < 0) throw new SessionDecodeError('BAD_PEM', `missing "${SESSION_PEM_END}"`);
  for (let j = bodyEnd + SESSION_PEM_END.length; j < text.length; j++) {
    if (!isSpace(text.charCodeAt(j))) {
      throw new SessionDecodeError('BAD_PEM', 'unexpected text after the PEM block');
    }
  }

  // Zeroed and unpooled: the output holds the master secret and must not share a pool slab.
  const out = Buffer.alloc(Math.floor(((bodyEnd - bodyStart) * 3) / 4));
  let written = 0;
  let acc = 0;
  let sextets = 0;
  let padding = 0;
  for (let j = bodyStart; j < bodyEnd; j++) {
    const c = text.charCodeAt(j);
    if (isSpace(c)) continue;
    if (c === 0x3d /* = */) {
      padding++;
      continue;
    }
    const v = c < 128 ? SEXTET[c]! : -1;
    if (v < 0 || padding > 0) {
      throw new SessionDecodeError('BAD_PEM', 'invalid base64 in the PEM body');
    }
    acc = (acc << 6) | v;
    if (++sextets % 4 === 0) {
      out[written++] = (acc >> 16) & 0xff;
      out[written++] = (acc >> 8) & 0xff;
      out[written++] = acc & 0xff;
      acc = 0;
    }
  }
  const rest = sextets % 4;
  if (padding > 2 || rest === 1 || (padding > 0 && rest + padding !== 4)) {
    throw new SessionDecodeError('BAD_PEM', 'invalid base64 padding in the PEM body');
  }
  if (rest === 2) {
    if ((acc & 0x0f) !== 0) throw new SessionDecodeError('BAD_PEM', 'non-canonical base64');
    out[written++] = (acc >> 4) & 0xff;
  } else if (rest === 3) {
    if ((acc & 0x03) !== 0) throw new SessionDecodeError('BAD_PEM', 'non-canonical base64');
    out[written++] = (acc >> 10) & 0xff;
    out[written++] = (acc >> 2) & 0xff;
  }
  if (written === 0) throw new SessionDecodeError('BAD_PEM', 'empty PEM body');
  if (written > MAX_SESSION_DER_LENGTH) {
    throw new SessionDecodeError(
      'TOO_LARGE',
      `session is ${written} bytes; the limit is ${MAX_SESSION_DER_LENGTH}`,
    );
  }
  return out.subarray(0, written);
}
