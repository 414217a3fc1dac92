// Decoder for serialized SSL_SESSIONs: the DER that OpenSSL's i2d_SSL_SESSION writes, which is
// what Node hands to a tls.Server 'newSession' listener and returns from tlsSocket.getSession().
//
// The layout follows OpenSSL's ssl/ssl_asn1.c (SSL_SESSION_ASN1):
//
//   SEQUENCE {
//     version INTEGER (1), ssl_version INTEGER, cipher OCTET STRING (2 bytes),
//     session_id OCTET STRING, master_key OCTET STRING,
//     key_arg [0] IMPLICIT OCTET STRING OPTIONAL,
//     time [1] INTEGER, timeout [2] INTEGER, peer [3] Certificate, session_id_context [4] OCTET
//     STRING, verify_result [5] INTEGER, tlsext_hostname [6] OCTET STRING, psk_identity_hint [7],
//     psk_identity [8], tlsext_tick_lifetime_hint [9] INTEGER, tlsext_tick [10], comp_id [11],
//     srp_username [12], flags [13] INTEGER, tlsext_tick_age_add [14] INTEGER, max_early_data [15]
//     INTEGER, alpn_selected [16], tlsext_max_fragment_len_mode [17] INTEGER, ticket_appdata [18],
//     kex_group [19] INTEGER, peer_rpk [20] OCTET STRING   -- [1]..[20] EXPLICIT and OPTIONAL
//   }
//
// Context tags above 20 are skipped so that sessions written by a future OpenSSL still decode;
// OpenSSL's own decoder would refuse them, but this one only reads them.
//
// Besides DER well-formedness, the checks d2i_SSL_SESSION makes are repeated here (format version,
// protocol major, cipher id length, maximum lengths of the id, secret and context), so that what we
// accept is what OpenSSL would load back. Resolving the cipher and parsing the peer certificate are
// left to accessors: they are not needed to decide whether a session is usable for a cache lookup.
import {
  CLASS_CONTEXT,
  CLASS_UNIVERSAL,
  DerReader,
  TAG_BIT_STRING,
  TAG_INTEGER,
  TAG_OCTET_STRING,
  TAG_SEQUENCE,
} from './der-reader.js';
import { DecodedSession, type SessionFields } from './decoded-session.js';
import { MAX_SESSION_DER_LENGTH, MAX_SESSION_PEM_LENGTH, SessionDecodeError } from './errors.js';
import { decodeSessionPem, looksLikePem } from './pem.js';

/** The only `version` of the encoding OpenSSL has ever written (SSL_SESSION_ASN1_VERSION). */
export const SESSION_ASN1_VERSION = 1;

// Limits from OpenSSL's ssl.h / ssl_local.h that d2i_SSL_SESSION enforces.
const SSL_MAX_SSL_SESSION_ID_LENGTH = 32;
const SSL_MAX_SID_CTX_LENGTH = 32;
// TLS13_MAX_RESUMPTION_PSK_LENGTH in OpenSSL 3.x (256 in 1.1.1); also bounds TLS 1.2 master keys.
const MAX_MASTER_KEY_LENGTH = 512;
const DTLS1_BAD_VER = 0x0100;

const UINT32_MAX = 0xffffffff;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const SAFE_MAX = Number.MAX_SAFE_INTEGER;
const SAFE_MIN = Number.MIN_SAFE_INTEGER;

// The highest context tag this decoder knows ([20] peer_rpk, OpenSSL 3.2).
const LAST_KNOWN_TAG = 20;

/**
 * Decodes a serialized OpenSSL `SSL_SESSION`.
 *
 * @param input - DER bytes (as from Node's `'newSession'` event or `tlsSocket.getSession()`), or
 *   PEM (`-----BEGIN SSL SESSION PARAMETERS-----`, as `openssl sess_id` writes) as a string or
 *   as bytes. The DER form is not copied: the returned session holds views into it.
 * @throws SessionDecodeError for any malformed or oversized input, and nothing else for inputs
 *   of the right type
 * @throws TypeError if `input` is neither a string nor a `Uint8Array`
 */
export function decodeSession(input: Uint8Array | string): DecodedSession {
  if (typeof input === 'string') {
    if (input.length > MAX_SESSION_PEM_LENGTH) throw tooLarge(input.length, 'PEM characters');
    return decodeDer(decodeSessionPem(input));
  }
  if (!(input instanceof Uint8Array)) {
    throw new TypeError('decodeSession expects a Uint8Array (DER or PEM) or a PEM string');
  }
  // Size checks come first and look at nothing but the length, so oversized input costs O(1).
  if (input.length > MAX_SESSION_PEM_LENGTH) throw tooLarge(input.length, 'bytes');
  if (input.length > 0 && input[0] !== 0x30 && looksLikePem(input)) {
    const text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
    return decodeDer(decodeSessionPem(text));
  }
  if (input.length > MAX_SESSION_DER_LENGTH) throw tooLarge(input.length, 'bytes');
  const der = Buffer.isBuffer(input)
    ? input
    : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return decodeDer(der);
}

function tooLarge(length: number, unit: string): SessionDecodeError {
  return new SessionDecodeError(
    'TOO_LARGE',
    `input is ${length} ${unit}; a session is at most ${MAX_SESSION_DER_LENGTH} bytes of DER`,
  );
}

function bad(
  code: 'BAD_TAG' | 'BAD_LENGTH' | 'BAD_VALUE',
  message: string,
  offset: number,
): SessionDecodeError {
  return new SessionDecodeError(code, message, offset);
}

function decodeDer(der: Buffer): DecodedSession {
  if (der.length === 0) throw new SessionDecodeError('TRUNCATED', 'input is empty', 0);
  // Refuse by the first byte alone, so random text is a tag error rather than a length error.
  if (der[0] !== 0x30) throw bad('BAD_TAG', 'input is neither a DER SEQUENCE nor PEM', 0);
  const r = new DerReader(der);
  r.expectUniversal(0, der.length, TAG_SEQUENCE, true, 'SSL_SESSION');
  const end = r.contentEnd;
  if (end !== der.length) {
    throw bad('BAD_LENGTH', `${der.length - end} bytes follow the SSL_SESSION`, end);
  }

  r.expectUniversal(r.contentStart, end, TAG_INTEGER, false, 'version');
  const formatVersion = r.integer(0, UINT32_MAX, 'version');
  if (formatVersion !== SESSION_ASN1_VERSION) {
    throw bad('BAD_VALUE', `unsupported format version ${formatVersion}`, r.headerStart);
  }

  r.expectUniversal(r.contentEnd, end, TAG_INTEGER, false, 'ssl_version');
  const protocolVersion = r.integer(INT32_MIN, INT32_MAX, 'ssl_version');
  const major = protocolVersion >> 8;
  if (major !== 0x03 && major !== 0xfe && protocolVersion !== DTLS1_BAD_VER) {
    throw bad(
      'BAD_VALUE',
      `unsupported protocol version 0x${protocolVersion.toString(16)}`,
      r.headerStart,
    );
  }

  r.expectUniversal(r.contentEnd, end, TAG_OCTET_STRING, false, 'cipher');
  if (r.contentEnd - r.contentStart !== 2) {
    throw bad('BAD_VALUE', 'cipher must be 2 bytes', r.headerStart);
  }
  const cipherId = der[r.contentStart]! * 256 + der[r.contentStart + 1]!;

  r.expectUniversal(r.contentEnd, end, TAG_OCTET_STRING, false, 'session_id');
  const sessionId = octets(r, der, SSL_MAX_SSL_SESSION_ID_LENGTH, 'session_id');

  r.expectUniversal(r.contentEnd, end, TAG_OCTET_STRING, false, 'master_key');
  const masterSecret = octets(r, der, MAX_MASTER_KEY_LENGTH, 'master_key');

  const fields: SessionFields = {
    formatVersion,
    protocolVersion,
    cipherId,
    sessionId,
    masterSecret,
    keyArg: undefined,
    time: 0,
    timeout: 0,
    peerCertificate: undefined,
    sessionIdContext: undefined,
    verifyResult: 0,
    hostName: undefined,
    pskIdentityHint: undefined,
    pskIdentity: undefined,
    ticketLifetimeHint: 0,
    ticket: undefined,
    compressionId: undefined,
    srpUsername: undefined,
    flags: 0,
    ticketAgeAdd: 0,
    maxEarlyData: 0,
    alpnSelected: undefined,
    maxFragmentLengthMode: 0,
    ticketAppData: undefined,
    kexGroup: undefined,
    peerRawPublicKey: undefined,
  };

  let pos = r.contentEnd;
  let lastTag = -1;
  while (pos < end) {
    r.readHeader(pos, end);
    const fieldStart = r.headerStart;
    const fieldEnd = r.contentEnd;
    const tag = r.tagNumber;
    if (r.tagClass !== CLASS_CONTEXT) {
      throw bad('BAD_TAG', 'unexpected element after the required fields', fieldStart);
    }
    // DER orders SEQUENCE components as declared; the template declares them by ascending tag.
    if (tag <= lastTag) {
      throw bad('BAD_TAG', `[${tag}] is repeated or out of order`, fieldStart);
    }
    lastTag = tag;
    pos = fieldEnd;

    if (tag === 0) {
      // key_arg is IMPLICIT: a primitive [0] holding the octets directly.
      if (r.constructed) throw bad('BAD_TAG', '[0] key_arg must be primitive', fieldStart);
      fields.keyArg = der.subarray(r.contentStart, fieldEnd);
      continue;
    }
    if (tag > LAST_KNOWN_TAG) continue;

    // Every other known field is EXPLICIT: a constructed [n] holding exactly one element.
    if (!r.constructed) throw bad('BAD_TAG', `[${tag}] must be constructed`, fieldStart);
    if (r.contentStart === fieldEnd) throw bad('BAD_LENGTH', `[${tag}] is empty`, fieldStart);
    switch (tag) {
      case 1:
        fields.time = inner(r, fieldEnd, TAG_INTEGER, 'time').integer(SAFE_MIN, SAFE_MAX, 'time');
        break;
      case 2:
        fields.timeout = inner(r, fieldEnd, TAG_INTEGER, 'timeout').integer(
          SAFE_MIN,
          SAFE_MAX,
          'timeout',
        );
        break;
      case 3:
        r.readHeader(r.contentStart, fieldEnd);
        if (r.contentEnd !== fieldEnd) throw trailing(tag, fieldStart);
        fields.peerCertificate = der.subarray(r.headerStart, fieldEnd);
        checkCertificateShape(r, fieldStart);
        break;
      case 4:
        inner(r, fieldEnd, TAG_OCTET_STRING, 'session_id_context');
        fields.sessionIdContext = octets(r, der, SSL_MAX_SID_CTX_LENGTH, 'session_id_context');
        break;
      case 5:
        fields.verifyResult = inner(r, fieldEnd, TAG_INTEGER, 'verify_result').integer(
          INT32_MIN,
          INT32_MAX,
          'verify_result',
        );
        break;
      case 6:
        fields.hostName = octetString(r, der, fieldEnd, 'tlsext_hostname');
        break;
      case 7:
        fields.pskIdentityHint = octetString(r, der, fieldEnd, 'psk_identity_hint');
        break;
      case 8:
        fields.pskIdentity = octetString(r, der, fieldEnd, 'psk_identity');
        break;
      case 9:
        fields.ticketLifetimeHint = inner(r, fieldEnd, TAG_INTEGER, 'ticket_lifetime_hint').integer(
          0,
          SAFE_MAX,
          'ticket_lifetime_hint',
        );
        break;
      case 10:
        fields.ticket = octetString(r, der, fieldEnd, 'tlsext_tick');
        break;
      case 11: {
        const comp = octetString(r, der, fieldEnd, 'comp_id');
        if (comp.length !== 1) throw bad('BAD_VALUE', 'comp_id must be 1 byte', fieldStart);
        fields.compressionId = comp[0]!;
        break;
      }
      case 12:
        fields.srpUsername = octetString(r, der, fieldEnd, 'srp_username');
        break;
      case 13:
        fields.flags = inner(r, fieldEnd, TAG_INTEGER, 'flags').integer(0, SAFE_MAX, 'flags');
        break;
      case 14:
        fields.ticketAgeAdd = inner(r, fieldEnd, TAG_INTEGER, 'ticket_age_add').integer(
          0,
          UINT32_MAX,
          'ticket_age_add',
        );
        break;
      case 15:
        fields.maxEarlyData = inner(r, fieldEnd, TAG_INTEGER, 'max_early_data').integer(
          0,
          UINT32_MAX,
          'max_early_data',
        );
        break;
      case 16:
        fields.alpnSelected = octetString(r, der, fieldEnd, 'alpn_selected');
        break;
      case 17:
        fields.maxFragmentLengthMode = inner(
          r,
          fieldEnd,
          TAG_INTEGER,
          'max_fragment_len_mode',
        ).integer(0, UINT32_MAX, 'max_fragment_len_mode');
        break;
      case 18:
        fields.ticketAppData = octetString(r, der, fieldEnd, 'ticket_appdata');
        break;
      case 19:
        fields.kexGroup = inner(r, fieldEnd, TAG_INTEGER, 'kex_group').integer(
          0,
          UINT32_MAX,
          'kex_group',
        );
        break;
      case 20: {
        fields.peerRawPublicKey = octetString(r, der, fieldEnd, 'peer_rpk');
        checkSpkiShape(r, r.contentStart, r.contentEnd, fieldStart);
        break;
      }
    }
  }
  return new DecodedSession(fields);
}

// Reads the single element inside an EXPLICIT [n] whose content ends at `fieldEnd`.
function inner(r: DerReader, fieldEnd: number, tagNumber: number, field: string): DerReader {
  const wrapperStart = r.headerStart;
  r.expectUniversal(r.contentStart, fieldEnd, tagNumber, false, field);
  if (r.contentEnd !== fieldEnd)
    throw bad('BAD_LENGTH', `trailing bytes in ${field}`, wrapperStart);
  return r;
}

function trailing(tag: number, offset: number): SessionDecodeError {
  return bad('BAD_LENGTH', `trailing bytes in [${tag}]`, offset);
}

// The current element's content as a view, refused if longer than OpenSSL's buffer for it.
function octets(r: DerReader, der: Buffer, maxLength: number, field: string): Buffer {
  if (r.contentEnd - r.contentStart > maxLength) {
    throw bad('BAD_VALUE', `${field} is longer than ${maxLength} bytes`, r.headerStart);
  }
  return der.subarray(r.contentStart, r.contentEnd);
}

function octetString(r: DerReader, der: Buffer, fieldEnd: number, field: string): Buffer {
  inner(r, fieldEnd, TAG_OCTET_STRING, field);
  return der.subarray(r.contentStart, r.contentEnd);
}

// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE, signature BIT
// STRING }. Checking these three headers is cheap and catches garbage; the full parse waits for
// someone to ask for the certificate.
function checkCertificateShape(r: DerReader, fieldStart: number): void {
  if (r.tagClass !== CLASS_UNIVERSAL || r.tagNumber !== TAG_SEQUENCE || !r.constructed) {
    throw bad('BAD_TAG', '[3] peer certificate must be a SEQUENCE', fieldStart);
  }
  const end = r.contentEnd;
  r.expectUniversal(r.contentStart, end, TAG_SEQUENCE, true, 'peer tbsCertificate');
  r.expectUniversal(r.contentEnd, end, TAG_SEQUENCE, true, 'peer signatureAlgorithm');
  r.expectUniversal(r.contentEnd, end, TAG_BIT_STRING, false, 'peer signature');
  if (r.contentEnd !== end) throw trailing(3, fieldStart);
}

// SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE, subjectPublicKey BIT STRING }.
function checkSpkiShape(r: DerReader, start: number, end: number, fieldStart: number): void {
  r.expectUniversal(start, end, TAG_SEQUENCE, true, 'peer_rpk SubjectPublicKeyInfo');
  if (r.contentEnd !== end) throw trailing(20, fieldStart);
  const spkiEnd = r.contentEnd;
  r.expectUniversal(r.contentStart, spkiEnd, TAG_SEQUENCE, true, 'peer_rpk algorithm');
  r.expectUniversal(r.contentEnd, spkiEnd, TAG_BIT_STRING, false, 'peer_rpk subjectPublicKey');
  if (r.contentEnd !== spkiEnd) throw trailing(20, fieldStart);
}
