// The keys stored sessions are sealed with, for rotation: the first key seals every new record,
// every listed key opens the records sealed under it, and a record under a key no longer listed
// (retired) is refused.
//
// Key bytes are turned into KeyObjects once, here, and the caller's copies are never kept: the
// cipher then skips parsing raw key bytes on every record, and the only objects holding key
// material are KeyObjects, whose inspect/JSON forms show no bytes. The Keyring itself prints as its
// key ids only.
import { Buffer } from 'node:buffer';
import { KeyObject, createSecretKey } from 'node:crypto';
import { inspect } from 'node:util';
import { describe } from '../../common/validate.js';

/** Bytes of an AES-256 key. */
export const KEY_BYTES = 32;

/** The longest key id, in characters (each one byte in the record). */
export const MAX_KEY_ID_LENGTH = 32;

/** Characters a key id may use: letters, digits, `.`, `_`, `-` (no `:`, which ends it in a key line). */
const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/;
const HEX_KEY = /^[0-9A-Fa-f]{64}$/;
// 32 bytes are 43 base64 characters and one `=` of padding; standard or URL-safe alphabet.
const BASE64_KEY = /^(?:[A-Za-z0-9+/]{43}|[A-Za-z0-9_-]{43})=?$/;

/**
 * One key of a {@link Keyring}, as a caller gives it: an id and 32 bytes of key material — raw
 * bytes, a secret `KeyObject`, or a string of 64 hex digits or of base64 (standard or URL-safe,
 * padding optional).
 */
export interface KeyringEntryLike {
  /** 1–32 characters from `A–Z a–z 0–9 . _ -`; written into every record sealed with the key. */
  readonly id: string;
  /** The 32-byte AES-256 key. Never printed, never in an error message. */
  readonly key: Uint8Array | string | KeyObject;
}

/** What a key id and its KeyObject are inside the library; never exposed. */
export interface KeyringEntry {
  readonly id: string;
  /** The id as the record stores it (ASCII). */
  readonly idBytes: Buffer;
  readonly key: KeyObject;
}

const entriesOfKeyring = new WeakMap<Keyring, readonly KeyringEntry[]>();

/**
 * An ordered set of AES-256 keys for encryption at rest. The **first** key seals new records; every
 * key opens records sealed under it. Rotation: add the new key second everywhere, then move it
 * first, then remove the old one once the sessions it sealed have expired (README, "Encryption at
 * rest").
 *
 * Holds KeyObjects only; `util.inspect`, `JSON.stringify` and `String()` show the key ids, never
 * key bytes.
 *
 * @example
 * ```ts
 * const keyring = new Keyring([{ id: '2026-02', key: process.env.NEW_KEY! }, { id: '2026-01', key: oldKeyBytes }]);
 * const adapter = storeCallbacks(store, { encryption: keyring });
 * ```
 */
export class Keyring {
  /**
   * @param entries - the keys, newest (the one that seals new records) first
   * @param name - how errors name the option the entries came from
   * @throws TypeError for entries of the wrong type; RangeError (naming `name` and the entry's
   * index, never a key byte) for an empty list, a bad id, a duplicate id or a key that is not 32
   * bytes
   */
  constructor(entries: readonly KeyringEntryLike[], name = 'keys') {
    if (!Array.isArray(entries)) {
      throw new TypeError(`${name} must be an array of keys, got ${describe(entries)}`);
    }
    if (entries.length === 0) throw new RangeError(`${name} must hold at least one key`);
    const seen = new Set<string>();
    const parsed: KeyringEntry[] = [];
    for (let i = 0; i < entries.length; i++) {
      const entry: unknown = entries[i];
      const where = `${name}[${i}]`;
      if (typeof entry !== 'object' || entry === null) {
        throw new TypeError(`${where} must be an object { id, key }, got ${describe(entry)}`);
      }
      const { id, key } = entry as KeyringEntryLike;
      const keyId = checkKeyId(where, id);
      if (seen.has(keyId)) throw new RangeError(`${where}: duplicate key id ${JSON.stringify(id)}`);
      seen.add(keyId);
      parsed.push({
        id: keyId,
        idBytes: Buffer.from(keyId, 'latin1'),
        key: toKeyObject(`${where} (key id ${JSON.stringify(keyId)})`, key),
      });
    }
    entriesOfKeyring.set(this, Object.freeze(parsed));
    Object.freeze(this);
  }

  /** The key ids, in order: the first one seals new records. */
  get ids(): readonly string[] {
    return entriesOf(this).map((entry) => entry.id);
  }

  /** The id of the key new records are sealed with (the first). */
  get writeKeyId(): string {
    return entriesOf(this)[0]!.id;
  }

  /** Whether records sealed under `id` can be opened. */
  has(id: string): boolean {
    return entriesOf(this).some((entry) => entry.id === id);
  }

  /** `{ writeKeyId, ids }`: no key material. */
  toJSON(): {
    /** {@link Keyring.writeKeyId}. */
    writeKeyId: string;
    /** {@link Keyring.ids}. */
    ids: readonly string[];
  } {
    return { writeKeyId: this.writeKeyId, ids: this.ids };
  }

  /** `Keyring(ids: …)`: no key material. */
  toString(): string {
    return `Keyring(${this.ids.join(', ')})`;
  }

  /** `util.inspect` shows the ids only. */
  [inspect.custom](): string {
    return `Keyring { writeKeyId: ${JSON.stringify(this.writeKeyId)}, ids: ${JSON.stringify(this.ids)} }`;
  }
}

/** The keyring's keys, for the codec; not part of the public API. */
export function entriesOf(keyring: Keyring): readonly KeyringEntry[] {
  const entries = entriesOfKeyring.get(keyring);
  if (entries === undefined) throw new TypeError('not a Keyring made by new Keyring()');
  return entries;
}

/** Whether `value` is a {@link Keyring} (made by this copy of the library). */
export function isKeyring(value: unknown): value is Keyring {
  return typeof value === 'object' && value !== null && entriesOfKeyring.has(value as Keyring);
}

/** Throws a TypeError/RangeError naming `where` unless `id` is a valid key id. */
export function checkKeyId(where: string, id: unknown): string {
  if (typeof id !== 'string') {
    throw new TypeError(`${where}: key id must be a string, got ${describe(id)}`);
  }
  if (!KEY_ID.test(id)) {
    throw new RangeError(
      `${where}: key id must be 1 to ${MAX_KEY_ID_LENGTH} characters from A-Z a-z 0-9 . _ - (got ${describe(id)})`,
    );
  }
  return id;
}

/**
 * A secret KeyObject from raw bytes, a KeyObject, or a hex/base64 string. Errors say what is wrong
 * with the length or the encoding, never what the bytes are.
 */
export function toKeyObject(where: string, key: unknown): KeyObject {
  if (key instanceof KeyObject) {
    if (key.type !== 'secret' || key.symmetricKeySize !== KEY_BYTES) {
      throw new RangeError(
        `${where}: key must be a secret KeyObject of ${KEY_BYTES} bytes (AES-256), got a ${key.type} key` +
          (key.type === 'secret' ? ` of ${key.symmetricKeySize ?? 0} bytes` : ''),
      );
    }
    return key;
  }
  let bytes: Buffer;
  let wipe = false;
  if (typeof key === 'string') {
    const text = key.trim();
    if (HEX_KEY.test(text)) bytes = Buffer.from(text, 'hex');
    else if (BASE64_KEY.test(text)) bytes = Buffer.from(text, 'base64');
    else {
      throw new RangeError(
        `${where}: key must be ${KEY_BYTES} bytes as 64 hex digits or 43-44 base64 characters, got a string of length ${text.length}`,
      );
    }
    wipe = true;
  } else if (key instanceof Uint8Array) {
    bytes = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  } else {
    throw new TypeError(
      `${where}: key must be a Uint8Array, a string or a KeyObject, got ${describe(key)}`,
    );
  }
  try {
    if (bytes.length !== KEY_BYTES) {
      throw new RangeError(
        `${where}: key must be ${KEY_BYTES} bytes (AES-256), got ${bytes.length}`,
      );
    }
    // createSecretKey copies the bytes into OpenSSL-owned memory.
    return createSecretKey(bytes);
  } finally {
    // Our own decoded copy is wiped; the caller's bytes are the caller's.
    if (wipe) bytes.fill(0);
  }
}
