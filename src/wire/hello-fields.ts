/**
 * The allocation-free reading of a ClientHello that `attach()` does on every connection: only the
 * fields session resumption needs, as offsets into the bytes, written into a {@link HelloFields}
 * that the caller owns. `parseClientHello` (client-hello.ts) is the complete, object-building
 * reading for everyone else; the fuzzer checks that the two agree on every hello the parser accepts.
 *
 * Why a second reader: it runs once per TLS connection, before Node sees a byte. The full parser
 * builds arrays for cipher suites, compression methods, extension types, ALPN names and PSK
 * identities (a dozen allocations) that resumption never reads. Here nothing is allocated; a field
 * the caller needs as a `Buffer` or string is made on demand (`pskIdentity()`, `serverName()`),
 * usually never (a TLS 1.2 resumption needs none of them).
 *
 * Framing is checked exactly as strictly as in `parseClientHello` (every length against its
 * enclosing structure; duplicate extensions; `pre_shared_key` last), so an offset in the result
 * never points outside the message. Contents of extensions that resumption does not read (ALPN,
 * PSK modes, cipher suites...) are skipped, not validated: OpenSSL judges those.
 *
 * @module
 */
import { ExtensionType, HANDSHAKE_TYPE_CLIENT_HELLO } from './client-hello.js';

/** `key_share` (RFC 8446 §4.2.8): what decides whether the server must send a HelloRetryRequest. */
export const EXTENSION_KEY_SHARE = 51;
const TLS1_3 = 0x0304;
const EMPTY = Buffer.alloc(0);

/**
 * The resumption-relevant fields of one ClientHello, as positions in {@link bytes}. Reused: a
 * {@link scanClientHello} overwrites every field. Lengths are `-1` when the extension is absent.
 */
export class HelloFields {
  /** The bytes the offsets point into (the caller's buffer, not a copy). */
  bytes: Buffer = EMPTY;
  /** Length of the handshake message, header included. */
  length = 0;
  /** `legacy_session_id` (0..32 bytes). */
  sessionIdOffset = 0;
  sessionIdLength = 0;
  /**
   * The SNI `host_name` WITHOUT a trailing dot (`localhost.` is read as `localhost`: the same DNS
   * name; RFC 6066 forbids the dot, clients send it anyway and OpenSSL accepts it); -1 when absent.
   */
  serverNameOffset = 0;
  serverNameLength = -1;
  /** Whether the host name was sent with a trailing dot. */
  serverNameTrailingDot = false;
  /** The first PSK identity (the only one Node can resume, see SPEC.md); -1 when no PSK. */
  pskIdentityOffset = 0;
  pskIdentityLength = -1;
  /** How many PSK identities were offered. */
  pskIdentities = 0;
  /** `supported_versions` lists TLS 1.3. */
  offersTls13 = false;
  /** `supported_versions` was present at all. */
  hasSupportedVersions = false;
  /** `extended_master_secret` was offered (RFC 7627). */
  extendedMasterSecret = false;
  /** `session_ticket` data (a TLS 1.2 ticket); length -1 when the extension is absent. */
  sessionTicketOffset = 0;
  sessionTicketLength = -1;
  /** `key_share`'s `client_shares` list (entries: group, key); -1 when absent or malformed. */
  keyShareOffset = 0;
  keyShareLength = -1;
  /** `early_data` was offered. */
  earlyData = false;

  /** The first PSK identity as a view, or `undefined`. */
  pskIdentity(): Buffer | undefined {
    if (this.pskIdentityLength < 0) return undefined;
    return this.bytes.subarray(
      this.pskIdentityOffset,
      this.pskIdentityOffset + this.pskIdentityLength,
    );
  }

  /** The TLS 1.2 `session_ticket` as a view, or `undefined` when the extension is absent. */
  sessionTicket(): Buffer | undefined {
    if (this.sessionTicketLength < 0) return undefined;
    return this.bytes.subarray(
      this.sessionTicketOffset,
      this.sessionTicketOffset + this.sessionTicketLength,
    );
  }

  /** The legacy session id as a view. */
  legacySessionId(): Buffer {
    return this.bytes.subarray(this.sessionIdOffset, this.sessionIdOffset + this.sessionIdLength);
  }

  /** The SNI host name, lower-cased, without a trailing dot; `undefined` when absent. */
  serverName(): string | undefined {
    if (this.serverNameLength < 0) return undefined;
    const start = this.serverNameOffset;
    return this.bytes.toString('latin1', start, start + this.serverNameLength).toLowerCase();
  }

  /**
   * Whether the SNI names `host` (a lower-case name; a trailing dot on either side is ignored), or
   * both are absent. Compares in place: no string is made.
   */
  serverNameIs(host: string | undefined): boolean {
    if (host === undefined) return this.serverNameLength < 0;
    if (this.serverNameLength < 0) return false;
    let hostLength = host.length;
    if (hostLength > 0 && host.charCodeAt(hostLength - 1) === 0x2e) hostLength--;
    if (hostLength !== this.serverNameLength) return false;
    const b = this.bytes;
    const at = this.serverNameOffset;
    for (let i = 0; i < hostLength; i++) {
      let c = b[at + i]!;
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c !== host.charCodeAt(i)) return false;
    }
    return true;
  }

  /** Whether `key_share` offers a share for one of `groups` (a set of IANA group numbers). */
  keyShareOffers(groups: ReadonlySet<number>): boolean {
    const b = this.bytes;
    const end = this.keyShareOffset + this.keyShareLength;
    for (let p = this.keyShareOffset; p < end;) {
      if (groups.has((b[p]! << 8) | b[p + 1]!)) return true;
      p += 4 + ((b[p + 2]! << 8) | b[p + 3]!);
    }
    return false;
  }
}

// One bit per extension type, as in client-hello.ts (parsing is synchronous, never re-entrant).
const seen = new Uint32Array(2048);
// The types set during the current scan, to clear their bits again; more than 64 extensions in
// one hello is refused (real ones carry under 25; GREASE adds two).
const MAX_EXTENSIONS = 64;
const seenTypes = new Uint16Array(MAX_EXTENSIONS);

/**
 * Reads the ClientHello handshake message at `bytes[start, start + 4 + body length)` into `out`.
 * The message must end by `limit`. Returns false (and leaves `out` unusable) for anything that is
 * not a well-framed ClientHello; never throws for any input.
 *
 * @param bytes - the buffer holding the message (kept by reference in `out.bytes`)
 * @param start - offset of the handshake header (type byte)
 * @param limit - the message may not extend past this offset
 * @param out - the fields to overwrite
 */
export function scanClientHello(
  bytes: Buffer,
  start: number,
  limit: number,
  out: HelloFields,
): boolean {
  if (limit > bytes.length || limit - start < 4) return false;
  const b = bytes;
  if (b[start] !== HANDSHAKE_TYPE_CLIENT_HELLO) return false;
  const end = start + 4 + ((b[start + 1]! << 16) | (b[start + 2]! << 8) | b[start + 3]!);
  if (end > limit) return false;
  out.bytes = b;
  out.length = end - start;
  out.serverNameLength = -1;
  out.serverNameTrailingDot = false;
  out.pskIdentityLength = -1;
  out.pskIdentities = 0;
  out.offersTls13 = false;
  out.hasSupportedVersions = false;
  out.extendedMasterSecret = false;
  out.sessionTicketLength = -1;
  out.keyShareLength = -1;
  out.earlyData = false;

  let p = start + 4;
  if (end - p < 35 || b[p] !== 3) return false;
  p += 34;
  const sidLen = b[p]!;
  p += 1;
  if (sidLen > 32 || sidLen > end - p) return false;
  out.sessionIdOffset = p;
  out.sessionIdLength = sidLen;
  p += sidLen;
  if (end - p < 2) return false;
  const csLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if (csLen === 0 || (csLen & 1) !== 0 || csLen > end - p) return false;
  p += csLen;
  if (end - p < 1) return false;
  const cmLen = b[p]!;
  p += 1;
  if (cmLen === 0 || cmLen > end - p) return false;
  p += cmLen;
  if (p === end) return true;
  if (end - p < 2) return false;
  if (((b[p]! << 8) | b[p + 1]!) !== end - p - 2) return false;
  p += 2;

  let count = 0;
  let ok = true;
  while (p < end) {
    if (end - p < 4 || count === MAX_EXTENSIONS) {
      ok = false;
      break;
    }
    const type = (b[p]! << 8) | b[p + 1]!;
    const s = p + 4;
    const stop = s + ((b[p + 2]! << 8) | b[p + 3]!);
    if (stop > end) {
      ok = false;
      break;
    }
    const word = type >>> 5;
    const bit = 1 << (type & 31);
    if ((seen[word]! & bit) !== 0) {
      ok = false;
      break;
    }
    seen[word] = seen[word]! | bit;
    seenTypes[count++] = type;
    switch (type) {
      case ExtensionType.serverName:
        ok = scanServerName(b, s, stop, out);
        break;
      case ExtensionType.supportedVersions:
        ok = scanSupportedVersions(b, s, stop, out);
        break;
      case ExtensionType.preSharedKey:
        ok = stop === end && scanPreSharedKey(b, s, stop, out);
        break;
      case ExtensionType.extendedMasterSecret:
        ok = stop === s;
        out.extendedMasterSecret = true;
        break;
      case ExtensionType.earlyData:
        ok = stop === s;
        out.earlyData = true;
        break;
      case ExtensionType.sessionTicket:
        out.sessionTicketOffset = s;
        out.sessionTicketLength = stop - s;
        break;
      case EXTENSION_KEY_SHARE:
        ok = scanKeyShare(b, s, stop, out);
        break;
      default:
        break;
    }
    if (!ok) break;
    p = stop;
  }
  for (let i = 0; i < count; i++) seen[seenTypes[i]! >>> 5] = 0;
  return ok;
}

// RFC 6066 §3, one host_name, as client-hello.ts reads it, except that one trailing dot is allowed
// (and left out of the name).
function scanServerName(b: Buffer, p: number, end: number, out: HelloFields): boolean {
  if (end - p < 5 || ((b[p]! << 8) | b[p + 1]!) !== end - p - 2 || b[p + 2] !== 0) return false;
  if (((b[p + 3]! << 8) | b[p + 4]!) !== end - p - 5) return false;
  p += 5;
  let nameEnd = end;
  if (end - p > 1 && b[end - 1] === 0x2e) {
    nameEnd--;
    out.serverNameTrailingDot = true;
  }
  const len = nameEnd - p;
  if (len === 0 || len > 253) return false;
  let labelStart = p;
  for (let i = p; i <= nameEnd; i++) {
    const c = i === nameEnd ? 0x2e : b[i]!;
    if (c === 0x2e) {
      const labelLen = i - labelStart;
      if (labelLen === 0 || labelLen > 63) return false;
      labelStart = i + 1;
    } else if (!(
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2d ||
      c === 0x5f
    )) {
      return false;
    }
  }
  out.serverNameOffset = p;
  out.serverNameLength = len;
  return true;
}

function scanSupportedVersions(b: Buffer, p: number, end: number, out: HelloFields): boolean {
  if (end - p < 1) return false;
  const len = b[p]!;
  p += 1;
  if (len !== end - p || len < 2 || (len & 1) !== 0) return false;
  out.hasSupportedVersions = true;
  for (; p < end; p += 2) if (((b[p]! << 8) | b[p + 1]!) === TLS1_3) out.offersTls13 = true;
  return true;
}

// RFC 8446 §4.2.11, checked as client-hello.ts checks it; only identity 0 is kept.
function scanPreSharedKey(b: Buffer, p: number, end: number, out: HelloFields): boolean {
  if (end - p < 2) return false;
  const idsLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if (idsLen < 7 || idsLen > end - p) return false;
  const idsEnd = p + idsLen;
  let identities = 0;
  while (p < idsEnd) {
    if (idsEnd - p < 2) return false;
    const len = (b[p]! << 8) | b[p + 1]!;
    p += 2;
    if (len === 0 || idsEnd - p < len + 4) return false;
    if (identities === 0) {
      out.pskIdentityOffset = p;
      out.pskIdentityLength = len;
    }
    identities++;
    p += len + 4;
  }
  if (end - p < 2) return false;
  const bindersLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if (bindersLen < 33 || bindersLen !== end - p) return false;
  let binders = 0;
  while (p < end) {
    const len = b[p]!;
    p += 1;
    if (len < 32 || len > end - p) return false;
    binders++;
    p += len;
  }
  if (binders !== identities) return false;
  out.pskIdentities = identities;
  return true;
}

// RFC 8446 §4.2.8: KeyShareEntry client_shares<0..2^16-1>; key_exchange<1..2^16-1>. A malformed
// list is OpenSSL's to refuse; here it only means "unknown" (-1), so that the hello is still read.
function scanKeyShare(b: Buffer, p: number, end: number, out: HelloFields): boolean {
  out.keyShareLength = -1;
  if (end - p < 2 || ((b[p]! << 8) | b[p + 1]!) !== end - p - 2) return true;
  const start = p + 2;
  for (p = start; p < end;) {
    if (end - p < 4) return true;
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    if (len === 0 || len > end - p - 4) return true;
    p += 4 + len;
  }
  out.keyShareOffset = start;
  out.keyShareLength = end - start;
  return true;
}
