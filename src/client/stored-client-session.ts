// The value the client cache keeps in a store for one session: a small envelope around the DER,
// encrypted at rest by the same codec seam as the server's records (src/session/stored-record.ts).
//
// Why not the server's envelope: it insists that the store id is the session id inside the DER
// (so that a value moved to another key is refused), while the client cache keys its values by
// slot number (see client-session-cache.ts). This envelope binds a value to its key the same way
// — the namespace inside the body, and a codec binds (namespace, slot) as its additional data — and
// starts with another format byte, so neither reader ever mistakes one for the other.
//
// Layout (big-endian):
//   u8  CLIENT_SESSION_FORMAT
//   u8  codec id (0 = plain)
//   body, or the codec's encoding of it:
//     u16 namespace length, the namespace (UTF-8)
//     u32 DER length (1–MAX_SESSION_DER_LENGTH), the DER, nothing after it
import { Buffer } from 'node:buffer';
import {
  PLAIN_CODEC_ID,
  StoredSessionError,
  type StoredSessionCodec,
} from '../session/stored-record.js';
import { MAX_SESSION_DER_LENGTH } from '../session/errors.js';

/** Byte 0 of a stored client session (the server's envelope starts with 1). */
export const CLIENT_SESSION_FORMAT = 0xc1;

/** Encodes a client session for (`namespace`, `slot`), through `codec` when given. */
export function encodeClientSession(
  der: Uint8Array,
  namespace: string,
  slot: Uint8Array,
  codec: StoredSessionCodec | undefined,
): Uint8Array {
  const ns = Buffer.from(namespace, 'utf8');
  const body = Buffer.allocUnsafe(2 + ns.length + 4 + der.byteLength);
  body.writeUInt16BE(ns.length, 0);
  ns.copy(body, 2);
  body.writeUInt32BE(der.byteLength, 2 + ns.length);
  body.set(der, 6 + ns.length);
  const payload = codec === undefined ? body : codec.encode(body, { namespace, id: slot });
  const out = Buffer.allocUnsafe(2 + payload.byteLength);
  out[0] = CLIENT_SESSION_FORMAT;
  out[1] = codec === undefined ? PLAIN_CODEC_ID : codec.id;
  out.set(payload, 2);
  return out;
}

/**
 * Decodes what {@link encodeClientSession} wrote for (`namespace`, `slot`): the DER.
 *
 * @throws {@link StoredSessionError} for any value it refuses (never another exception); messages
 * never contain the value's bytes
 */
export function decodeClientSession(
  value: Uint8Array,
  namespace: string,
  slot: Uint8Array,
  codec: StoredSessionCodec | undefined,
): Buffer {
  if (!(value instanceof Uint8Array)) {
    throw new StoredSessionError('BAD_INPUT', 'stored value must be a Uint8Array');
  }
  if (value.byteLength < 2) throw new StoredSessionError('TRUNCATED', 'stored value too short');
  if (value[0] !== CLIENT_SESSION_FORMAT) {
    throw new StoredSessionError(
      'UNSUPPORTED_VERSION',
      `stored client session format ${value[0]} is not supported`,
    );
  }
  const expected = codec === undefined ? PLAIN_CODEC_ID : codec.id;
  if (value[1] !== expected) {
    throw new StoredSessionError(
      'CODEC_MISMATCH',
      `stored client session written with codec ${value[1]}, expected ${expected}`,
    );
  }
  let body: Uint8Array = value.subarray(2);
  if (codec !== undefined) {
    try {
      body = codec.decode(body, { namespace, id: slot });
    } catch {
      throw new StoredSessionError(
        'CODEC_MISMATCH',
        `codec ${expected} could not decode the value`,
      );
    }
    if (!(body instanceof Uint8Array)) {
      throw new StoredSessionError('CODEC_MISMATCH', `codec ${expected} returned no bytes`);
    }
  }
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (b.length < 2) throw new StoredSessionError('TRUNCATED', 'stored client session too short');
  const nsLength = b.readUInt16BE(0);
  if (b.length < 2 + nsLength + 4) {
    throw new StoredSessionError('TRUNCATED', 'stored client session ends inside its header');
  }
  if (!b.subarray(2, 2 + nsLength).equals(Buffer.from(namespace, 'utf8'))) {
    throw new StoredSessionError('NAMESPACE_MISMATCH', 'stored session belongs to another origin');
  }
  const derLength = b.readUInt32BE(2 + nsLength);
  const start = 6 + nsLength;
  if (derLength === 0 || derLength > MAX_SESSION_DER_LENGTH || b.length - start !== derLength) {
    throw new StoredSessionError('BAD_FORMAT', 'stored client session length does not match');
  }
  // A copy: the store's buffer (or the codec's) may be reused; Node keeps what it is given.
  return Buffer.from(b.subarray(start));
}
