// The value a store keeps for one session: a small versioned binary envelope around the DER.
//
// Why an envelope rather than the bare DER: a Node server never writes the SNI host name into its
// sessions (OpenSSL records it only when a servername callback acknowledged it), yet the wiring
// must refuse a session offered under another host name; so the host name the wiring read in the
// ClientHello travels next to the DER. The namespace travels too, so that a blob copied or moved
// to another key (another tenant, another session id context) is refused rather than resumed.
//
// Layout (all integers big-endian):
//
//   offset 0   u8   format version (STORED_SESSION_VERSION)
//   offset 1   u8   codec id: 0 = plain; others name a StoredSessionCodec (encryption at rest)
//   offset 2   the body, or the codec's encoding of the body:
//     u8   flags: bit 0 = a host name follows (other bits must be 0)
//     u16  namespace length in bytes (≤ MAX_NAMESPACE_BYTES), then the namespace, UTF-8
//     u8   host name length (1–255, present only with flag bit 0), then the host name, latin1
//     u32  DER length (1–MAX_SESSION_DER_LENGTH), then the DER
//     nothing after it
//
// Everything else the wiring needs (time, timeout, protocol version, session id context, extended
// master secret, the id itself) is decoded from the DER again on the way out: half a microsecond
// per session, and the DER is then checked exactly as one fresh from Node is.
import { Buffer } from 'node:buffer';
import { sameBytes } from '../common/id-key.js';
import { checkInteger } from '../common/validate.js';
import { SessionCacheError, type StoredSessionErrorCode } from '../common/errors.js';
import { sessionRecordFromDer, type SessionRecord } from './session-record.js';
import { MAX_SESSION_DER_LENGTH } from './errors.js';
import {
  MAX_NAMESPACE_BYTES,
  checkBytes,
  checkId,
  checkNamespace,
  describe,
  isValidNamespace,
} from '../common/validate.js';

/** The envelope format this version writes (byte 0). Readers refuse any other. */
export const STORED_SESSION_VERSION = 1;

/** The codec id of an unencoded (plain) body. */
export const PLAIN_CODEC_ID = 0;

/** The longest host name the envelope carries (a DNS name is at most 253 characters). */
export const MAX_HOST_NAME_BYTES = 255;

/** Bytes the envelope adds to the DER at most, without a codec's own overhead. */
export const MAX_ENVELOPE_OVERHEAD = 2 + 1 + 2 + MAX_NAMESPACE_BYTES + 1 + MAX_HOST_NAME_BYTES + 4;

/**
 * The largest plain envelope: a maximal DER plus the envelope's own bytes (`MAX_ENVELOPE_OVERHEAD`). Stores default their
 * `maxValueBytes` to this (rounded up), so that every session the wiring can produce fits.
 */
export const MAX_STORED_SESSION_BYTES = MAX_SESSION_DER_LENGTH + MAX_ENVELOPE_OVERHEAD;

/** The key a stored session lives under; a codec binds its output to it (e.g. as AEAD data). */
export interface StoredSessionContext {
  /** The namespace of the key. */
  readonly namespace: string;
  /** The id of the key. */
  readonly id: Uint8Array;
}

/**
 * A transformation of the envelope's body, applied after the header: the seam for encryption at
 * rest (`AesGcmCodec`). An implementation must bind its output to `context` (e.g. as AEAD
 * additional data), so that a blob moved to another key does not decode.
 */
export interface StoredSessionCodec {
  /** The byte that names this codec in the envelope: 1–255 (0 is plain). */
  readonly id: number;
  /** Encodes (e.g. encrypts) a body. */
  encode(body: Uint8Array, context: StoredSessionContext): Uint8Array;
  /** Decodes what {@link encode} made; throws for anything it cannot (wrong key, tampered). */
  decode(payload: Uint8Array, context: StoredSessionContext): Uint8Array;
}

/** Options of {@link encodeStoredSession} and {@link decodeStoredSession}. */
export interface StoredSessionOptions {
  /**
   * The codec to write with, and the only one accepted when reading: a plain envelope is then
   * refused too, so that whoever can write to the store cannot plant an unencrypted session.
   * @default undefined (plain envelopes only)
   */
  codec?: StoredSessionCodec | undefined;
}

export type { StoredSessionErrorCode } from '../common/errors.js';

/**
 * Thrown by {@link decodeStoredSession} for every value it refuses, and only for those. The message
 * names offsets and lengths, never bytes: the value holds a master secret.
 */
export class StoredSessionError extends SessionCacheError<StoredSessionErrorCode> {
  /** Always `'StoredSessionError'`, so logs and `error.name` checks tell it apart. */
  override readonly name = 'StoredSessionError';

  /**
   * @param code - the stable reason
   * @param message - detail that never contains the value's bytes
   */
  constructor(code: StoredSessionErrorCode, message: string) {
    super(code, message);
  }
}

const FLAG_HOST_NAME = 0x01;

/**
 * Encodes a session for a store: the versioned envelope around `record.data` with its namespace
 * and the SNI host name the wiring recorded.
 *
 * @param record - a {@link SessionRecord}; of a plain `CachedSession` only `id`, `data` and
 * `namespace` are used (no host name is then recorded)
 * @throws TypeError/RangeError for a record that cannot be stored: a missing or oversized
 * `data`, an invalid `namespace` or `id`, a host name over 255 bytes or not latin1
 */
export function encodeStoredSession(
  record: Pick<SessionRecord, 'id' | 'data' | 'namespace'> & { readonly hostName?: string },
  options: StoredSessionOptions = {},
): Uint8Array {
  if (typeof record !== 'object' || record === null) {
    throw new TypeError(`record must be an object, got ${describe(record)}`);
  }
  const id = checkId(record.id);
  const data = checkBytes('record.data', record.data);
  if (data.byteLength === 0 || data.byteLength > MAX_SESSION_DER_LENGTH) {
    throw new RangeError(
      `record.data must be 1 to ${MAX_SESSION_DER_LENGTH} bytes, got ${data.byteLength}`,
    );
  }
  const namespace = checkNamespace(record.namespace ?? '');
  const hostName = record.hostName;
  let hostBytes: Buffer | undefined;
  if (hostName !== undefined) {
    if (typeof hostName !== 'string') {
      throw new TypeError(`record.hostName must be a string, got ${describe(hostName)}`);
    }
    if (!isLatin1HostName(hostName)) {
      throw new RangeError(
        `record.hostName must be 1 to ${MAX_HOST_NAME_BYTES} latin1 characters without NUL`,
      );
    }
    hostBytes = Buffer.from(hostName, 'latin1');
  }
  const nsBytes = Buffer.from(namespace, 'utf8');
  const codec = checkCodec(options.codec);

  const bodyLength =
    1 +
    2 +
    nsBytes.length +
    (hostBytes === undefined ? 0 : 1 + hostBytes.length) +
    4 +
    data.byteLength;
  // Without a codec the body is written straight after the header: one allocation, one copy.
  const out = Buffer.allocUnsafe((codec === undefined ? 2 : 0) + bodyLength);
  let p = codec === undefined ? 2 : 0;
  out[p++] = hostBytes === undefined ? 0 : FLAG_HOST_NAME;
  out.writeUInt16BE(nsBytes.length, p);
  p += 2;
  p += nsBytes.copy(out, p);
  if (hostBytes !== undefined) {
    out[p++] = hostBytes.length;
    p += hostBytes.copy(out, p);
  }
  out.writeUInt32BE(data.byteLength, p);
  p += 4;
  out.set(data, p);
  if (codec === undefined) {
    out[0] = STORED_SESSION_VERSION;
    out[1] = PLAIN_CODEC_ID;
    return out;
  }
  const payload = codec.encode(out, { namespace, id });
  const sealed = Buffer.allocUnsafe(2 + payload.byteLength);
  sealed[0] = STORED_SESSION_VERSION;
  sealed[1] = codec.id;
  sealed.set(payload, 2);
  return sealed;
}

/**
 * Decodes a value read from a store under (`namespace`, `id`) back into a {@link SessionRecord}.
 * The value must have been written for exactly that key: its namespace must equal `namespace` and
 * the id inside its DER must equal `id`.
 *
 * @throws {@link StoredSessionError} for any value it refuses — never another exception, whatever
 * the bytes (a `TypeError` only for a `namespace`/`id` of the wrong type: that is a bug).
 */
export function decodeStoredSession(
  bytes: Uint8Array,
  namespace: string,
  id: Uint8Array,
  options: StoredSessionOptions = {},
): SessionRecord {
  checkBytes('id', id);
  if (typeof namespace !== 'string') {
    throw new TypeError(`namespace must be a string, got ${describe(namespace)}`);
  }
  if (!isValidNamespace(namespace)) {
    // No value can have been written under it (encode refuses it), so none belongs to it.
    throw new StoredSessionError(
      'NAMESPACE_MISMATCH',
      'no stored session belongs to this namespace',
    );
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new StoredSessionError(
      'BAD_INPUT',
      `stored value must be a Uint8Array, got ${describe(bytes)}`,
    );
  }
  const codec = checkCodec(options.codec);
  if (bytes.byteLength < 2)
    throw new StoredSessionError('TRUNCATED', 'stored value shorter than its header');
  if (bytes[0] !== STORED_SESSION_VERSION) {
    throw new StoredSessionError(
      'UNSUPPORTED_VERSION',
      `stored session format ${bytes[0]} is not supported (this version reads ${STORED_SESSION_VERSION})`,
    );
  }
  const codecId = bytes[1]!;
  const expected = codec === undefined ? PLAIN_CODEC_ID : codec.id;
  if (codecId !== expected) {
    throw new StoredSessionError(
      'CODEC_MISMATCH',
      `stored session written with codec ${codecId}, expected ${expected}`,
    );
  }
  let body: Buffer;
  if (codec === undefined) {
    body = Buffer.from(bytes.buffer, bytes.byteOffset + 2, bytes.byteLength - 2);
  } else {
    let opened: Uint8Array;
    try {
      opened = codec.decode(bytes.subarray(2), { namespace, id });
    } catch (error) {
      // A StoredSessionError is this package's own, with a message known to be free of secrets
      // (the AES-GCM codec's refusals); any other codec error may describe key material, so only
      // the fact is passed on.
      if (error instanceof StoredSessionError) throw error;
      throw new StoredSessionError(
        'CODEC_MISMATCH',
        `codec ${codecId} could not decode the stored session`,
      );
    }
    if (!(opened instanceof Uint8Array)) {
      throw new StoredSessionError('CODEC_MISMATCH', `codec ${codecId} returned no bytes`);
    }
    body = Buffer.from(opened.buffer, opened.byteOffset, opened.byteLength);
  }
  return decodeBody(body, namespace, id);
}

function decodeBody(body: Buffer, namespace: string, id: Uint8Array): SessionRecord {
  const end = body.length;
  let p = 0;
  const need = (n: number, what: string): void => {
    if (end - p < n) {
      throw new StoredSessionError(
        'TRUNCATED',
        `stored session ends inside its ${what} (body byte ${p})`,
      );
    }
  };
  need(1, 'flags');
  const flags = body[p++]!;
  if ((flags & ~FLAG_HOST_NAME) !== 0) {
    throw new StoredSessionError(
      'BAD_FORMAT',
      `unknown flags 0x${flags.toString(16)} in stored session`,
    );
  }
  need(2, 'namespace length');
  const nsLength = body.readUInt16BE(p);
  p += 2;
  if (nsLength > MAX_NAMESPACE_BYTES) {
    throw new StoredSessionError(
      'BAD_FORMAT',
      `stored namespace length ${nsLength} over ${MAX_NAMESPACE_BYTES}`,
    );
  }
  need(nsLength, 'namespace');
  // Compared as bytes: a decoder would fold invalid UTF-8 into U+FFFD and could make two differ
  // namespaces look alike.
  const nsStored = body.subarray(p, p + nsLength);
  p += nsLength;
  if (!nsStored.equals(Buffer.from(namespace, 'utf8'))) {
    throw new StoredSessionError(
      'NAMESPACE_MISMATCH',
      'stored session belongs to another namespace',
    );
  }
  let hostName: string | undefined;
  if ((flags & FLAG_HOST_NAME) !== 0) {
    need(1, 'host name length');
    const hostLength = body[p++]!;
    if (hostLength === 0) throw new StoredSessionError('BAD_FORMAT', 'stored host name is empty');
    need(hostLength, 'host name');
    hostName = body.toString('latin1', p, p + hostLength);
    p += hostLength;
    if (hostName.includes('\u0000')) {
      throw new StoredSessionError('BAD_FORMAT', 'stored host name contains NUL');
    }
  }
  need(4, 'session length');
  const derLength = body.readUInt32BE(p);
  p += 4;
  if (derLength === 0 || derLength > MAX_SESSION_DER_LENGTH) {
    throw new StoredSessionError(
      'BAD_FORMAT',
      `stored session length ${derLength} outside 1 to ${MAX_SESSION_DER_LENGTH}`,
    );
  }
  need(derLength, 'session');
  if (end - p !== derLength) {
    throw new StoredSessionError(
      'BAD_FORMAT',
      `${end - p - derLength} bytes after the stored session`,
    );
  }
  const der = body.subarray(p, end);
  let record: SessionRecord;
  try {
    record = sessionRecordFromDer(der, namespace, hostName);
  } catch (error) {
    // SessionDecodeError messages name offsets and tags only; anything else is summarised.
    const detail =
      error instanceof Error && error.name === 'SessionDecodeError' ? `: ${error.message}` : '';
    throw new StoredSessionError(
      'BAD_SESSION',
      `stored session is not a valid SSL_SESSION${detail}`,
    );
  }
  if (!sameBytes(record.id, id)) {
    throw new StoredSessionError('ID_MISMATCH', 'stored session belongs to another id');
  }
  return record;
}

/**
 * Whether a host name can be stored: 1–255 latin1 characters without NUL. Latin1, as the session
 * decoder reads host names (and SNI host names are ASCII): anything beyond would not round-trip.
 */
function isLatin1HostName(hostName: string): boolean {
  if (hostName.length === 0 || hostName.length > MAX_HOST_NAME_BYTES) return false;
  for (let i = 0; i < hostName.length; i++) {
    const c = hostName.charCodeAt(i);
    if (c === 0 || c > 0xff) return false;
  }
  return true;
}

function checkCodec(codec: StoredSessionCodec | undefined): StoredSessionCodec | undefined {
  if (codec === undefined) return undefined;
  if (
    typeof codec !== 'object' ||
    codec === null ||
    typeof codec.encode !== 'function' ||
    typeof codec.decode !== 'function'
  ) {
    throw new TypeError('codec must be an object with encode and decode functions');
  }
  checkInteger('codec.id', codec.id, 1, 255);
  return codec;
}
