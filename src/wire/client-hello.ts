/**
 * A strict parser for the TLS ClientHello handshake message (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2).
 *
 * Why it exists: Node's `resumeSession` event only hands out the ClientHello's *legacy* session id.
 * For TLS 1.3 stateful resumption the id that matters is the PSK identity in the `pre_shared_key`
 * extension, so the library reads the ClientHello itself before OpenSSL does.
 *
 * This runs on the hot path of every accepted TLS connection, so it is hand-written: one pass, no
 * regular expressions, no intermediate objects per field, no copies (every `Buffer` in the result is a
 * `subarray` view of the input; keep the input alive and unmodified as long as you use them).
 *
 * Untrusted input: every length prefix is checked against its enclosing structure and must match it
 * exactly. The only exception this module ever throws is {@link ClientHelloParseError}.
 *
 * @module
 */

/** Handshake message type of a ClientHello (RFC 8446 §4). */
export const HANDSHAKE_TYPE_CLIENT_HELLO = 1;

/** TLS extension type numbers this parser decodes (IANA "TLS ExtensionType Values"). */
export const ExtensionType = {
  /** `server_name` (SNI, RFC 6066). */
  serverName: 0,
  /** `application_layer_protocol_negotiation` (ALPN, RFC 7301). */
  applicationLayerProtocolNegotiation: 16,
  /** `extended_master_secret` (RFC 7627). */
  extendedMasterSecret: 23,
  /** `session_ticket` (TLS 1.2 tickets, RFC 5077). */
  sessionTicket: 35,
  /** `pre_shared_key` (TLS 1.3 PSK identities, RFC 8446). */
  preSharedKey: 41,
  /** `early_data` (TLS 1.3 0-RTT, RFC 8446). */
  earlyData: 42,
  /** `supported_versions` (RFC 8446). */
  supportedVersions: 43,
  /** `psk_key_exchange_modes` (RFC 8446). */
  pskKeyExchangeModes: 45,
} as const;

/** Stable, machine-readable reasons for a {@link ClientHelloParseError}. */
export type ClientHelloParseErrorCode =
  /** The input is not a `Uint8Array`. */
  | 'INVALID_INPUT'
  /** The handshake message type is not `client_hello` (1). */
  | 'NOT_CLIENT_HELLO'
  /** The input ends before the length that the handshake header declares (more bytes may follow). */
  | 'TRUNCATED'
  /** The input is longer than the handshake header declares. */
  | 'TRAILING_BYTES'
  /** `legacy_version` is not a TLS/SSL 3.x version. */
  | 'BAD_VERSION'
  /** The body is too short for `legacy_version` and `random`. */
  | 'BAD_RANDOM'
  /** `legacy_session_id` is longer than 32 bytes or overruns the body. */
  | 'BAD_SESSION_ID'
  /** `cipher_suites` is empty, has an odd length, or overruns the body. */
  | 'BAD_CIPHER_SUITES'
  /** `legacy_compression_methods` is empty or overruns the body. */
  | 'BAD_COMPRESSION_METHODS'
  /** The extensions block or one extension's framing does not match the bytes available. */
  | 'BAD_EXTENSIONS'
  /** The same extension type appears twice (RFC 8446 §4.2). */
  | 'DUPLICATE_EXTENSION'
  /** `pre_shared_key` is not the last extension (RFC 8446 §4.2.11). */
  | 'PSK_NOT_LAST'
  /** `server_name` is malformed or its host name is not a valid ASCII DNS name. */
  | 'BAD_SERVER_NAME'
  /** `application_layer_protocol_negotiation` is malformed. */
  | 'BAD_ALPN'
  /** `supported_versions` is malformed. */
  | 'BAD_SUPPORTED_VERSIONS'
  /** `pre_shared_key` is malformed, or its identity and binder counts differ. */
  | 'BAD_PRE_SHARED_KEY'
  /** `psk_key_exchange_modes` is malformed. */
  | 'BAD_PSK_KEY_EXCHANGE_MODES'
  /** `early_data` in a ClientHello must be empty. */
  | 'BAD_EARLY_DATA'
  /** `extended_master_secret` must be empty. */
  | 'BAD_EXTENDED_MASTER_SECRET';

/** The one error {@link parseClientHello} throws; `code` is stable, `message` is for humans. */
export class ClientHelloParseError extends Error {
  /** Why the message was rejected. */
  readonly code: ClientHelloParseErrorCode;
  /** Byte offset in the handshake message at which the problem was detected. */
  readonly offset: number;

  /**
   * @param code - the stable reason
   * @param offset - byte offset in the handshake message
   * @param detail - human-readable detail
   */
  constructor(code: ClientHelloParseErrorCode, offset: number, detail: string) {
    super(`invalid ClientHello (${code}) at byte ${offset}: ${detail}`);
    this.name = 'ClientHelloParseError';
    this.code = code;
    this.offset = offset;
  }
}

/** One offered PSK (RFC 8446 §4.2.11): for a stateful ticket, `identity` is the session id. */
export interface PskIdentity {
  /** The opaque identity (1..2^16-1 bytes); a view into the parsed message. */
  identity: Buffer;
  /** `obfuscated_ticket_age`, an unsigned 32-bit integer. */
  obfuscatedTicketAge: number;
}

/** The decoded `pre_shared_key` extension of a ClientHello. */
export interface OfferedPsks {
  /** Identities in offer order (at least one). */
  identities: PskIdentity[];
  /** Length of each binder in the same order (32..255 each; as many as identities). */
  binderLengths: number[];
}

/** Everything {@link parseClientHello} extracts from a ClientHello. */
export interface ClientHelloInfo {
  /** Length of the whole handshake message, header included. */
  length: number;
  /** `legacy_version` (0x0303 for TLS 1.2 and 1.3 clients). */
  legacyVersion: number;
  /** The 32-byte client random (a view). */
  random: Buffer;
  /** `legacy_session_id`, 0..32 bytes (a view). What Node's `resumeSession` event receives. */
  legacySessionId: Buffer;
  /** Cipher suite code points in offer order (GREASE values included). */
  cipherSuites: number[];
  /** `legacy_compression_methods`. */
  compressionMethods: number[];
  /** Extension types in the order they appear (GREASE values included). */
  extensionTypes: number[];
  /**
   * SNI `host_name`, exactly as sent (ASCII; not lower-cased; a trailing dot kept); `undefined`
   * when absent.
   */
  serverName: string | undefined;
  /** ALPN protocol names (bytes mapped 1:1 to `latin1` characters); `undefined` when absent. */
  alpnProtocols: string[] | undefined;
  /** `supported_versions` in offer order; `undefined` when absent (a pre-TLS 1.3 client). */
  supportedVersions: number[] | undefined;
  /** `pre_shared_key`; `undefined` when absent. */
  preSharedKey: OfferedPsks | undefined;
  /** `psk_key_exchange_modes`; `undefined` when absent. */
  pskKeyExchangeModes: number[] | undefined;
  /** Whether `early_data` was offered. */
  earlyData: boolean;
  /** Whether `extended_master_secret` was offered. */
  extendedMasterSecret: boolean;
  /** The `session_ticket` extension's data (possibly empty, a view); `undefined` when absent. */
  sessionTicket: Buffer | undefined;
}

// 65536 bits, one per extension type, to detect duplicates in O(1) per extension without allocating
// a Set on every handshake. Parsing is synchronous and not re-entrant, so one module-level bitmap is
// safe; every bit set during a parse is cleared again in a `finally`.
const seenExtensions = new Uint32Array(2048);

/**
 * Parses a ClientHello handshake message (type byte, 3-byte length, body), already reassembled from
 * its TLS records.
 *
 * The input must be exactly one message: fewer bytes than the header declares give `TRUNCATED`, more
 * give `TRAILING_BYTES`. The returned buffers are views into `message`.
 *
 * @param message - the handshake message bytes
 * @returns the decoded fields
 * @throws {@link ClientHelloParseError} and nothing else, for any input
 */
export function parseClientHello(message: Uint8Array): ClientHelloInfo {
  if (!(message instanceof Uint8Array)) {
    throw new ClientHelloParseError('INVALID_INPUT', 0, 'expected a Uint8Array');
  }
  // Buffers are needed for `subarray` to return Buffers; wrapping shares memory, it does not copy.
  const b = Buffer.isBuffer(message)
    ? message
    : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const n = b.length;
  if (n < 4) throw new ClientHelloParseError('TRUNCATED', n, 'no complete handshake header');
  if (b[0] !== HANDSHAKE_TYPE_CLIENT_HELLO) {
    throw new ClientHelloParseError('NOT_CLIENT_HELLO', 0, `handshake type ${b[0]}`);
  }
  const end = 4 + ((b[1]! << 16) | (b[2]! << 8) | b[3]!);
  if (n < end) throw new ClientHelloParseError('TRUNCATED', n, `header declares ${end} bytes`);
  if (n > end) {
    throw new ClientHelloParseError('TRAILING_BYTES', end, `${n - end} bytes after the message`);
  }

  let p = 4;
  if (end - p < 34) throw new ClientHelloParseError('BAD_RANDOM', p, 'body too short');
  const legacyVersion = (b[p]! << 8) | b[p + 1]!;
  if (b[p] !== 3) {
    throw new ClientHelloParseError('BAD_VERSION', p, `legacy_version 0x${hex16(legacyVersion)}`);
  }
  p += 2;
  const random = b.subarray(p, p + 32);
  p += 32;

  // The length byte itself may be missing (a body that ends right after the random).
  if (p >= end) throw new ClientHelloParseError('BAD_SESSION_ID', p, 'missing');
  const sidLen = b[p]!;
  p += 1;
  if (sidLen > 32 || sidLen > end - p) {
    throw new ClientHelloParseError('BAD_SESSION_ID', p - 1, `length ${sidLen}`);
  }
  const legacySessionId = b.subarray(p, p + sidLen);
  p += sidLen;

  if (end - p < 2) throw new ClientHelloParseError('BAD_CIPHER_SUITES', p, 'missing');
  const csLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if (csLen === 0 || (csLen & 1) !== 0 || csLen > end - p) {
    throw new ClientHelloParseError('BAD_CIPHER_SUITES', p - 2, `length ${csLen}`);
  }
  const cipherSuites = new Array<number>(csLen >> 1);
  for (let i = 0; i < cipherSuites.length; i++, p += 2) cipherSuites[i] = (b[p]! << 8) | b[p + 1]!;

  if (end - p < 1) throw new ClientHelloParseError('BAD_COMPRESSION_METHODS', p, 'missing');
  const cmLen = b[p]!;
  p += 1;
  if (cmLen === 0 || cmLen > end - p) {
    throw new ClientHelloParseError('BAD_COMPRESSION_METHODS', p - 1, `length ${cmLen}`);
  }
  const compressionMethods = new Array<number>(cmLen);
  for (let i = 0; i < cmLen; i++) compressionMethods[i] = b[p + i]!;
  p += cmLen;

  const info: ClientHelloInfo = {
    length: end,
    legacyVersion,
    random,
    legacySessionId,
    cipherSuites,
    compressionMethods,
    extensionTypes: [],
    serverName: undefined,
    alpnProtocols: undefined,
    supportedVersions: undefined,
    preSharedKey: undefined,
    pskKeyExchangeModes: undefined,
    earlyData: false,
    extendedMasterSecret: false,
    sessionTicket: undefined,
  };

  // RFC 5246 §7.4.1.2: a TLS 1.2-and-older hello may end right after the compression methods.
  if (p === end) return info;
  if (end - p < 2) throw new ClientHelloParseError('BAD_EXTENSIONS', p, 'truncated length');
  const extLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if (extLen !== end - p) {
    throw new ClientHelloParseError('BAD_EXTENSIONS', p - 2, `length ${extLen}, ${end - p} left`);
  }

  const types = info.extensionTypes;
  try {
    while (p < end) {
      if (end - p < 4) throw new ClientHelloParseError('BAD_EXTENSIONS', p, 'truncated header');
      const type = (b[p]! << 8) | b[p + 1]!;
      const len = (b[p + 2]! << 8) | b[p + 3]!;
      const start = p + 4;
      if (len > end - start) {
        throw new ClientHelloParseError('BAD_EXTENSIONS', p, `extension ${type} overruns`);
      }
      const word = type >>> 5;
      const bit = 1 << (type & 31);
      if ((seenExtensions[word]! & bit) !== 0) {
        throw new ClientHelloParseError('DUPLICATE_EXTENSION', p, `extension ${type}`);
      }
      seenExtensions[word] = seenExtensions[word]! | bit;
      types.push(type);
      const stop = start + len;
      if (type === ExtensionType.preSharedKey && stop !== end) {
        throw new ClientHelloParseError('PSK_NOT_LAST', p, 'pre_shared_key must be last');
      }
      switch (type) {
        case ExtensionType.serverName:
          info.serverName = parseServerName(b, start, stop);
          break;
        case ExtensionType.applicationLayerProtocolNegotiation:
          info.alpnProtocols = parseAlpn(b, start, stop);
          break;
        case ExtensionType.supportedVersions:
          info.supportedVersions = parseSupportedVersions(b, start, stop);
          break;
        case ExtensionType.preSharedKey:
          info.preSharedKey = parsePreSharedKey(b, start, stop);
          break;
        case ExtensionType.pskKeyExchangeModes:
          info.pskKeyExchangeModes = parsePskModes(b, start, stop);
          break;
        case ExtensionType.earlyData:
          if (len !== 0) throw new ClientHelloParseError('BAD_EARLY_DATA', start, 'not empty');
          info.earlyData = true;
          break;
        case ExtensionType.extendedMasterSecret:
          if (len !== 0) {
            throw new ClientHelloParseError('BAD_EXTENDED_MASTER_SECRET', start, 'not empty');
          }
          info.extendedMasterSecret = true;
          break;
        case ExtensionType.sessionTicket:
          info.sessionTicket = b.subarray(start, stop);
          break;
        default:
          break;
      }
      p = stop;
    }
  } finally {
    for (let i = 0; i < types.length; i++) seenExtensions[types[i]! >>> 5] = 0;
  }
  return info;
}

// RFC 6066 §3. OpenSSL accepts exactly one entry, of type host_name; entries of other types cannot
// even be skipped (their length encoding is undefined), so they are rejected like OpenSSL does.
function parseServerName(b: Buffer, p: number, end: number): string {
  if (end - p < 2) throw new ClientHelloParseError('BAD_SERVER_NAME', p, 'truncated list');
  const listLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if (listLen !== end - p || listLen < 3) {
    throw new ClientHelloParseError('BAD_SERVER_NAME', p - 2, `list length ${listLen}`);
  }
  if (b[p] !== 0) throw new ClientHelloParseError('BAD_SERVER_NAME', p, `name type ${b[p]}`);
  const nameLen = (b[p + 1]! << 8) | b[p + 2]!;
  p += 3;
  if (nameLen !== end - p) {
    throw new ClientHelloParseError('BAD_SERVER_NAME', p - 2, `one host_name expected`);
  }
  checkHostName(b, p, end);
  return b.toString('latin1', p, end);
}

// A DNS host name in ASCII (IDNs arrive as A-labels): labels of 1..63 letters, digits, '-' or '_'
// (underscores occur in real names), at most 253 characters, no empty label — except one trailing
// dot: RFC 6066 forbids it, but clients send `localhost.` and OpenSSL accepts it, and one odd byte
// must not blind the reader to the rest of the hello. Anything else is an attack or a broken client.
function checkHostName(b: Buffer, start: number, end: number): void {
  if (end - start > 1 && b[end - 1] === 0x2e) end--;
  const len = end - start;
  if (len === 0 || len > 253) {
    throw new ClientHelloParseError('BAD_SERVER_NAME', start, `host name length ${len}`);
  }
  let labelStart = start;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 0x2e : b[i]!;
    if (c === 0x2e) {
      const labelLen = i - labelStart;
      if (labelLen === 0 || labelLen > 63) {
        throw new ClientHelloParseError('BAD_SERVER_NAME', i, `label length ${labelLen}`);
      }
      labelStart = i + 1;
    } else if (!(
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2d ||
      c === 0x5f
    )) {
      throw new ClientHelloParseError('BAD_SERVER_NAME', i, `byte 0x${c.toString(16)}`);
    }
  }
}

// RFC 7301 §3.1: ProtocolName protocol_name_list<2..2^16-1>, ProtocolName<1..2^8-1>.
function parseAlpn(b: Buffer, p: number, end: number): string[] {
  if (end - p < 2) throw new ClientHelloParseError('BAD_ALPN', p, 'truncated list');
  const listLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if (listLen !== end - p || listLen < 2) {
    throw new ClientHelloParseError('BAD_ALPN', p - 2, `list length ${listLen}`);
  }
  const protocols: string[] = [];
  while (p < end) {
    const len = b[p]!;
    p += 1;
    if (len === 0 || len > end - p) {
      throw new ClientHelloParseError('BAD_ALPN', p - 1, `protocol length ${len}`);
    }
    protocols.push(b.toString('latin1', p, p + len));
    p += len;
  }
  return protocols;
}

// RFC 8446 §4.2.1: ProtocolVersion versions<2..254> in a ClientHello.
function parseSupportedVersions(b: Buffer, p: number, end: number): number[] {
  if (end - p < 1) throw new ClientHelloParseError('BAD_SUPPORTED_VERSIONS', p, 'empty');
  const len = b[p]!;
  p += 1;
  if (len !== end - p || len < 2 || (len & 1) !== 0) {
    throw new ClientHelloParseError('BAD_SUPPORTED_VERSIONS', p - 1, `length ${len}`);
  }
  const versions = new Array<number>(len >> 1);
  for (let i = 0; i < versions.length; i++, p += 2) versions[i] = (b[p]! << 8) | b[p + 1]!;
  return versions;
}

// RFC 8446 §4.2.9: PskKeyExchangeMode ke_modes<1..255>.
function parsePskModes(b: Buffer, p: number, end: number): number[] {
  if (end - p < 1) throw new ClientHelloParseError('BAD_PSK_KEY_EXCHANGE_MODES', p, 'empty');
  const len = b[p]!;
  p += 1;
  if (len !== end - p || len < 1) {
    throw new ClientHelloParseError('BAD_PSK_KEY_EXCHANGE_MODES', p - 1, `length ${len}`);
  }
  const modes = new Array<number>(len);
  for (let i = 0; i < len; i++) modes[i] = b[p + i]!;
  return modes;
}

// RFC 8446 §4.2.11: PskIdentity identities<7..2^16-1>; PskBinderEntry binders<33..2^16-1>;
// identity<1..2^16-1>; binder<32..255>. The counts must agree (the server aborts otherwise).
function parsePreSharedKey(b: Buffer, p: number, end: number): OfferedPsks {
  if (end - p < 2) pskFail(p, 'truncated identities');
  const idsLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if (idsLen < 7 || idsLen > end - p) pskFail(p - 2, `identities length ${idsLen}`);
  const idsEnd = p + idsLen;
  const identities: PskIdentity[] = [];
  while (p < idsEnd) {
    if (idsEnd - p < 2) pskFail(p, 'truncated identity');
    const len = (b[p]! << 8) | b[p + 1]!;
    p += 2;
    if (len === 0 || idsEnd - p < len + 4) pskFail(p - 2, `identity length ${len}`);
    const identity = b.subarray(p, p + len);
    p += len;
    // `>>> 0` keeps the age unsigned: the top bit is as random as the others.
    const obfuscatedTicketAge =
      ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    p += 4;
    identities.push({ identity, obfuscatedTicketAge });
  }
  if (end - p < 2) pskFail(p, 'truncated binders');
  const bindersLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if (bindersLen < 33 || bindersLen !== end - p) pskFail(p - 2, `binders length ${bindersLen}`);
  const binderLengths: number[] = [];
  while (p < end) {
    const len = b[p]!;
    p += 1;
    if (len < 32 || len > end - p) pskFail(p - 1, `binder length ${len}`);
    binderLengths.push(len);
    p += len;
  }
  if (binderLengths.length !== identities.length) {
    pskFail(end, `${identities.length} identities but ${binderLengths.length} binders`);
  }
  return { identities, binderLengths };
}

function pskFail(at: number, detail: string): never {
  throw new ClientHelloParseError('BAD_PRE_SHARED_KEY', at, detail);
}

function hex16(v: number): string {
  return v.toString(16).padStart(4, '0');
}
