// How RedisStore lays sessions out in Redis: one string per session.
//
// Key:   keyPrefix ‖ 0x00 ‖ UTF-8(namespace) ‖ 0x00 ‖ id   (bytes, never a JS string: ids are binary)
// Value: 0x01 ‖ expiresAtMs (8 bytes, big-endian) ‖ the stored value
//
// Neither the prefix nor the namespace contains NUL, so the first NUL ends the prefix and the second
// the namespace: a key splits back into namespace and id (for `list`), and a store with prefix
// "app" never lists, counts or clears the keys of a store with prefix "app-a:". The value carries its own deadline so that a reader never returns
// a value at or after it by its own clock, whatever the Redis server's clock says and however Redis
// rounds expiry; Redis's own expiry (PXAT) only frees the memory.

/** Version byte of the value header; anything else is not ours and is read as absent. */
const FORMAT_1 = 0x01;
/** Bytes in front of the stored value. */
export const VALUE_HEADER_BYTES = 9;

/** Builds keys for one key prefix, caching each namespace's key head. */
export class RedisKeyCodec {
  readonly #prefix: Buffer;
  /** namespace → prefix ‖ NUL ‖ namespace ‖ NUL. Namespaces are few (one per tenant and context). */
  readonly #heads = new Map<string, Buffer>();

  /** @param prefix - the key prefix, without NUL */
  constructor(prefix: Buffer) {
    this.#prefix = Buffer.concat([prefix, NUL]);
  }

  /** The key of (`namespace`, `id`). */
  key(namespace: string, id: Uint8Array): Buffer {
    const head = this.#head(namespace);
    const key = Buffer.allocUnsafe(head.length + id.length);
    head.copy(key, 0);
    key.set(id, head.length);
    return key;
  }

  #head(namespace: string): Buffer {
    let head = this.#heads.get(namespace);
    if (head === undefined) {
      head = Buffer.concat([this.#prefix, Buffer.from(namespace, 'utf8'), NUL]);
      // Bounded: a caller inventing namespaces must not grow this map without limit.
      if (this.#heads.size >= 1024) this.#heads.clear();
      this.#heads.set(namespace, head);
    }
    return head;
  }

  /**
   * The namespace and id of a key, or `undefined` for a key that is not one of ours (another
   * prefix, no NUL, empty id).
   */
  parse(key: Buffer): { namespace: string; id: Uint8Array } | undefined {
    if (
      key.length <= this.#prefix.length ||
      !key.subarray(0, this.#prefix.length).equals(this.#prefix)
    ) {
      return undefined;
    }
    const nul = key.indexOf(0, this.#prefix.length);
    if (nul < 0 || nul === key.length - 1) return undefined;
    return {
      namespace: key.toString('utf8', this.#prefix.length, nul),
      // A plain Uint8Array copy, as the other stores return: the caller may keep it.
      id: new Uint8Array(key.subarray(nul + 1)),
    };
  }

  /**
   * A SCAN MATCH pattern for the keys of `namespace` (exactly), of namespaces starting with
   * `namespacePrefix`, or of every namespace. Glob characters in the prefix and namespace are
   * escaped, so a namespace such as `a*` matches only itself.
   */
  pattern(filter: {
    namespace?: string | undefined;
    namespacePrefix?: string | undefined;
  }): Buffer {
    if (filter.namespace !== undefined) {
      return Buffer.concat([escapeGlob(this.#head(filter.namespace)), STAR]);
    }
    const start = Buffer.concat([this.#prefix, Buffer.from(filter.namespacePrefix ?? '', 'utf8')]);
    return Buffer.concat([escapeGlob(start), STAR]);
  }
}

const NUL = Buffer.from([0]);
const STAR = Buffer.from('*');
/** Bytes that are special in Redis glob patterns (`stringmatchlen`): * ? [ ] \ */
const GLOB_SPECIAL = new Set([0x2a, 0x3f, 0x5b, 0x5d, 0x5c]);

/** Escapes glob-special bytes with a backslash; binary-safe. */
export function escapeGlob(bytes: Buffer): Buffer {
  let specials = 0;
  for (const byte of bytes) if (GLOB_SPECIAL.has(byte)) specials++;
  if (specials === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + specials);
  let j = 0;
  for (const byte of bytes) {
    if (GLOB_SPECIAL.has(byte)) out[j++] = 0x5c;
    out[j++] = byte;
  }
  return out;
}

/** Header ‖ value, ready for SET. */
export function encodeValue(value: Uint8Array, expiresAtMs: number): Buffer {
  const out = Buffer.allocUnsafe(VALUE_HEADER_BYTES + value.length);
  out[0] = FORMAT_1;
  writeDeadline(out, expiresAtMs);
  out.set(value, VALUE_HEADER_BYTES);
  return out;
}

function writeDeadline(out: Buffer, expiresAtMs: number): void {
  // Two 32-bit halves: exact for any integer up to 2^53, without BigInt.
  out.writeUInt32BE(Math.floor(expiresAtMs / 0x1_0000_0000), 1);
  out.writeUInt32BE((expiresAtMs % 0x1_0000_0000) >>> 0, 5);
}

/**
 * The deadline written in a header, or `undefined` when `bytes` (at least the header's length)
 * does not start with one of ours.
 */
export function decodeDeadline(bytes: Buffer): number | undefined {
  if (bytes.length < VALUE_HEADER_BYTES || bytes[0] !== FORMAT_1) return undefined;
  return bytes.readUInt32BE(1) * 0x1_0000_0000 + bytes.readUInt32BE(5);
}

/**
 * The stored value of a raw Redis value if it is ours and live at `now`, else `undefined`: a value
 * is never returned at or after its deadline, and anything unrecognised (untrusted data in a
 * shared Redis) is a miss, never an error.
 */
export function decodeLiveValue(raw: Buffer | null, now: number): Uint8Array | undefined {
  if (raw === null) return undefined;
  const deadline = decodeDeadline(raw);
  if (deadline === undefined || now >= deadline) return undefined;
  return valueOf(raw);
}

/** The stored value of a raw Redis value: a plain Uint8Array view (no copy) after the header. */
export function valueOf(raw: Buffer): Uint8Array {
  return new Uint8Array(
    raw.buffer,
    raw.byteOffset + VALUE_HEADER_BYTES,
    raw.length - VALUE_HEADER_BYTES,
  );
}
