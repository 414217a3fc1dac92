// Encryption at rest: the stored envelope's body sealed with AES-256-GCM (node:crypto), so that
// whoever reads the store learns no master secret, and whoever writes it can neither plant a
// session nor move one to another key.
//
// Payload (after the envelope's two header bytes: format version, codec id 1):
//
//   u8     key id length (1–32), then the key id (ASCII)
//   12     nonce: random per record
//   N      ciphertext of the body (as long as the body)
//   16     GCM tag
//
// Associated data, authenticated but not stored: a label naming this scheme, the format version,
// the codec id, the key id, the namespace (tenant + session id context hash) and the session id.
// A record copied to another id or namespace, relabelled with another version, codec or key id,
// or cut anywhere fails the tag check before any byte of it is parsed.
//
// Random 96-bit nonces are safe for 2^32 records per key (NIST SP 800-38D §8.3; the chance of a
// repeated nonce stays under 2^-32): across a whole fleet, so keys must be rotated before that many
// sessions were stored under one (README, "Encryption at rest").
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { inspect } from 'node:util';
import {
  MAX_STORED_SESSION_BYTES,
  STORED_SESSION_VERSION,
  StoredSessionError,
  type StoredSessionCodec,
  type StoredSessionContext,
} from '../../session/stored-record.js';
import { entriesOf, isKeyring, type Keyring, type KeyringEntry } from './keyring.js';
import { describe } from '../../common/validate.js';

/** The codec id of AES-256-GCM in the envelope (byte 1). */
export const AES_256_GCM_CODEC_ID = 1;

/** Bytes of the random nonce of each record. */
export const AES_GCM_NONCE_BYTES = 12;

/** Bytes of the GCM authentication tag. */
export const AES_GCM_TAG_BYTES = 16;

/** Bytes the codec adds to a body at most: key id length and id, nonce, tag. */
export const AES_GCM_MAX_OVERHEAD = 1 + 32 + AES_GCM_NONCE_BYTES + AES_GCM_TAG_BYTES;

/**
 * The largest sealed value: {@link MAX_STORED_SESSION_BYTES} plus {@link AES_GCM_MAX_OVERHEAD}. It
 * fits the stores' default `maxValueBytes`; anything larger read from a store is refused before it
 * is decrypted.
 */
export const MAX_SEALED_SESSION_BYTES = MAX_STORED_SESSION_BYTES + AES_GCM_MAX_OVERHEAD;

const CIPHER = 'aes-256-gcm';
const LABEL = Buffer.from('tls-session-cache/aes-256-gcm\0', 'latin1');
// The smallest body record.ts writes: flags, an empty namespace's length, a DER length, 1 DER byte.
const MIN_BODY_BYTES = 1 + 2 + 4 + 1;
const MAX_BODY_BYTES = MAX_STORED_SESSION_BYTES - 2;

/**
 * The AES-256-GCM {@link StoredSessionCodec}: seals with the keyring's first key, opens with the
 * key whose id the record names. Pass it as `codec`, or let `storeCallbacks(store, { encryption })`
 * make it.
 *
 * Refusals are {@link StoredSessionError}s: `KEY_RETIRED` (the record's key is not in the keyring),
 * `AUTHENTICATION_FAILED` (tampered, moved to another key, or sealed under another key with the
 * same id), `TOO_LARGE`, `TRUNCATED`, `BAD_FORMAT`. Messages never contain key or record bytes.
 *
 * @example
 * ```ts
 * const codec = new AesGcmCodec(new Keyring([{ id: 'k1', key: thirtyTwoBytes }]));
 * const value = encodeStoredSession(record, { codec });
 * ```
 */
export class AesGcmCodec implements StoredSessionCodec {
  /** The codec id written in the envelope: {@link AES_256_GCM_CODEC_ID}. */
  readonly id = AES_256_GCM_CODEC_ID;
  readonly #keyring: Keyring;
  readonly #writeKey: KeyringEntry;
  readonly #keys: readonly KeyringEntry[];

  /**
   * @param keyring - the keys; the first seals
   * @throws TypeError if `keyring` is not a {@link Keyring}
   */
  constructor(keyring: Keyring) {
    if (!isKeyring(keyring)) {
      throw new TypeError(`keyring must be a Keyring, got ${describe(keyring)}`);
    }
    this.#keyring = keyring;
    this.#keys = entriesOf(keyring);
    this.#writeKey = this.#keys[0]!;
  }

  /** The keyring it seals and opens with. */
  get keyring(): Keyring {
    return this.#keyring;
  }

  /** Seals `body` for the key (`context`) it is stored under, with a fresh random nonce. */
  encode(body: Uint8Array, context: StoredSessionContext): Uint8Array {
    const key = this.#writeKey;
    const idLength = key.idBytes.length;
    const nonceAt = 1 + idLength;
    const dataAt = nonceAt + AES_GCM_NONCE_BYTES;
    const out = Buffer.allocUnsafe(dataAt + body.byteLength + AES_GCM_TAG_BYTES);
    out[0] = idLength;
    key.idBytes.copy(out, 1);
    const nonce = out.subarray(nonceAt, dataAt);
    takeNonce(nonce);
    const cipher = createCipheriv(CIPHER, key.key, nonce, { authTagLength: AES_GCM_TAG_BYTES });
    cipher.setAAD(associatedData(key.idBytes, context));
    const sealed = cipher.update(body);
    cipher.final();
    sealed.copy(out, dataAt);
    cipher.getAuthTag().copy(out, dataAt + sealed.length);
    return out;
  }

  /** Opens what {@link encode} sealed for exactly this `context`; throws for anything else. */
  decode(payload: Uint8Array, context: StoredSessionContext): Uint8Array {
    const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    // Bounded before anything else: a planted huge value costs a length check, not a decryption.
    if (bytes.length > MAX_SEALED_SESSION_BYTES - 2) {
      throw new StoredSessionError(
        'TOO_LARGE',
        `sealed session of ${bytes.length + 2} bytes, over ${MAX_SEALED_SESSION_BYTES}`,
      );
    }
    if (bytes.length < 1) throw new StoredSessionError('TRUNCATED', 'sealed session is empty');
    const idLength = bytes[0]!;
    if (idLength === 0 || idLength > 32) {
      throw new StoredSessionError('BAD_FORMAT', `sealed session key id length ${idLength}`);
    }
    const dataAt = 1 + idLength + AES_GCM_NONCE_BYTES;
    const dataLength = bytes.length - dataAt - AES_GCM_TAG_BYTES;
    if (dataLength < MIN_BODY_BYTES) {
      throw new StoredSessionError('TRUNCATED', `sealed session of ${bytes.length + 2} bytes`);
    }
    if (dataLength > MAX_BODY_BYTES) {
      throw new StoredSessionError('TOO_LARGE', `sealed body of ${dataLength} bytes`);
    }
    const idBytes = bytes.subarray(1, 1 + idLength);
    const key = this.#keyFor(idBytes);
    if (key === undefined) {
      // The id is not named: it comes from the store, i.e. from whoever could write to it.
      throw new StoredSessionError(
        'KEY_RETIRED',
        'stored session sealed under a key that is not in the keyring (retired or unknown)',
      );
    }
    const decipher = createDecipheriv(CIPHER, key.key, bytes.subarray(1 + idLength, dataAt), {
      authTagLength: AES_GCM_TAG_BYTES,
    });
    decipher.setAAD(associatedData(key.idBytes, context));
    decipher.setAuthTag(bytes.subarray(dataAt + dataLength));
    const body = decipher.update(bytes.subarray(dataAt, dataAt + dataLength));
    try {
      decipher.final();
    } catch {
      // Unauthenticated plaintext never leaves: wiped, then refused.
      body.fill(0);
      throw new StoredSessionError(
        'AUTHENTICATION_FAILED',
        'stored session failed authentication: tampered, moved from another key, or sealed with another key',
      );
    }
    return body;
  }

  /** `AesGcmCodec { keyring: … }`: key ids only. */
  [inspect.custom](): string {
    return `AesGcmCodec { id: ${this.id}, keyring: ${this.#keyring.toString()} }`;
  }

  /** `{ id, keyring }`: key ids only. */
  toJSON(): {
    /** {@link AesGcmCodec.id}. */
    id: number;
    /** The keyring's key ids, as {@link Keyring.toJSON} gives them. */
    keyring: {
      /** {@link Keyring.writeKeyId}. */
      writeKeyId: string;
      /** {@link Keyring.ids}. */
      ids: readonly string[];
    };
  } {
    return { id: this.id, keyring: this.#keyring.toJSON() };
  }

  #keyFor(idBytes: Buffer): KeyringEntry | undefined {
    // A keyring holds a handful of keys: a byte comparison each beats building a string per read.
    for (const entry of this.#keys) if (entry.idBytes.equals(idBytes)) return entry;
    return undefined;
  }
}

// Nonces come from a pool filled by the CSPRNG 4 KiB at a time: one randomFillSync call costs
// several µs whatever its size (about 6 µs for 12 bytes, bench:encryption), so a call per record
// would be a third of the codec's cost. Each pool byte is handed out once and the pool is refilled
// before reuse, so nonces stay as random and as unique as direct calls would make them.
const NONCE_POOL = Buffer.alloc(4096 - (4096 % AES_GCM_NONCE_BYTES));
let noncePoolAt = NONCE_POOL.length;

function takeNonce(into: Buffer): void {
  if (noncePoolAt === NONCE_POOL.length) {
    randomFillSync(NONCE_POOL);
    noncePoolAt = 0;
  }
  NONCE_POOL.copy(into, 0, noncePoolAt, noncePoolAt + AES_GCM_NONCE_BYTES);
  // Wiped once used, so a nonce never lingers in the pool (nonces are public, but a copy kept
  // here would be one more thing to reason about).
  NONCE_POOL.fill(0, noncePoolAt, noncePoolAt + AES_GCM_NONCE_BYTES);
  noncePoolAt += AES_GCM_NONCE_BYTES;
}

/**
 * label ‖ version ‖ codec id ‖ u8 key id length ‖ key id ‖ u16 namespace length ‖ namespace
 * (UTF-8) ‖ u16 id length ‖ id. Every variable field is length-prefixed, so no two contexts give the
 * same bytes.
 */
function associatedData(keyId: Buffer, context: StoredSessionContext): Buffer {
  const namespace = context.namespace;
  const nsLength = Buffer.byteLength(namespace, 'utf8');
  const id = context.id;
  const out = Buffer.allocUnsafe(
    LABEL.length + 2 + 1 + keyId.length + 2 + nsLength + 2 + id.byteLength,
  );
  let p = LABEL.copy(out, 0);
  out[p++] = STORED_SESSION_VERSION;
  out[p++] = AES_256_GCM_CODEC_ID;
  out[p++] = keyId.length;
  p += keyId.copy(out, p);
  out.writeUInt16BE(nsLength, p);
  p += 2;
  p += out.write(namespace, p, 'utf8');
  // u16: record.ts bounds ids to 32 bytes only after this codec ran, and a PSK identity may be
  // up to 65 535 bytes; an id of that length can never have been written, so it fails either way.
  out.writeUInt16BE(id.byteLength & 0xffff, p);
  p += 2;
  out.set(id, p);
  return out;
}
