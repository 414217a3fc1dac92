/**
 * Small byte helpers shared by the fuzz targets: TLS record framing and an independent walk of a
 * ClientHello's length fields. Written separately from `src/session/*` on purpose, so that the
 * fuzzer never checks the parser against itself.
 *
 * @module
 */

/** Big-endian 16-bit prefix. */
export function u16(n: number): Buffer {
  return Buffer.from([(n >> 8) & 0xff, n & 0xff]);
}

/** Big-endian 24-bit prefix. */
export function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

/** Hex of at most `max` bytes, with the total length when cut. */
export function hexOf(bytes: Uint8Array, max = 1 << 20): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length <= max) return b.toString('hex');
  return `${b.subarray(0, max).toString('hex')}… (${b.length} bytes)`;
}

/** Frames `payload` as handshake records with the given fragment sizes (cycled) and versions. */
export function frame(payload: Buffer, sizes: readonly number[], versions: readonly number[]) {
  const out: Buffer[] = [];
  let count = 0;
  for (let p = 0, i = 0; p < payload.length; i++) {
    const want = sizes.length === 0 ? 16384 : sizes[i % sizes.length]!;
    const size = Math.max(1, Math.min(16384, want, payload.length - p));
    const version = versions.length === 0 ? 0x0301 : versions[i % versions.length]!;
    out.push(Buffer.from([22, version >> 8, version & 0xff, size >> 8, size & 0xff]));
    out.push(payload.subarray(p, p + size));
    p += size;
    count++;
  }
  return { wire: Buffer.concat(out), records: count };
}

/** Splits `bytes` into chunks of the given sizes (cycled; at least 1 byte each). */
export function chunk(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0, i = 0; p < bytes.length; i++) {
    const want = sizes.length === 0 ? bytes.length : sizes[i % sizes.length]!;
    const size = Math.max(1, Math.min(want, bytes.length - p));
    out.push(bytes.subarray(p, p + size));
    p += size;
  }
  return out;
}

/** Where a length prefix sits in a message: offset and width in bytes. */
export interface LengthField {
  at: number;
  width: 1 | 2 | 3;
  /** What it frames, for reports. */
  what: string;
}

/** The layout of a structurally valid ClientHello, found by {@link walkClientHello}. */
export interface HelloLayout {
  sessionIdAt: number;
  sessionIdLength: number;
  /** Offset of the 2-byte extensions block length, or -1 when there are no extensions. */
  extensionsAt: number;
  extensions: { type: number; at: number; length: number }[];
  lengthFields: LengthField[];
}

/**
 * An independent, lenient walk of a ClientHello that records where every length field is, so that
 * mutations can corrupt them on purpose. Returns `undefined` if the outer framing is broken.
 */
export function walkClientHello(m: Buffer): HelloLayout | undefined {
  const fields: LengthField[] = [{ at: 1, width: 3, what: 'handshake' }];
  const n = m.length;
  if (n < 4 + 35 || m[0] !== 1 || m.readUIntBE(1, 3) !== n - 4) return undefined;
  let p = 4 + 34;
  const sessionIdAt = p;
  const sessionIdLength = m[p]!;
  fields.push({ at: p, width: 1, what: 'session_id' });
  p += 1 + sessionIdLength;
  if (p + 2 > n) return undefined;
  fields.push({ at: p, width: 2, what: 'cipher_suites' });
  p += 2 + m.readUInt16BE(p);
  if (p + 1 > n) return undefined;
  fields.push({ at: p, width: 1, what: 'compression_methods' });
  p += 1 + m[p]!;
  const layout: HelloLayout = {
    sessionIdAt,
    sessionIdLength,
    extensionsAt: -1,
    extensions: [],
    lengthFields: fields,
  };
  if (p === n) return layout;
  if (p + 2 > n) return undefined;
  layout.extensionsAt = p;
  fields.push({ at: p, width: 2, what: 'extensions' });
  p += 2;
  while (p + 4 <= n) {
    const type = m.readUInt16BE(p);
    const len = m.readUInt16BE(p + 2);
    if (p + 4 + len > n) return undefined;
    fields.push({ at: p + 2, width: 2, what: `extension ${type}` });
    layout.extensions.push({ type, at: p, length: len });
    innerFields(m, type, p + 4, p + 4 + len, fields);
    p += 4 + len;
  }
  return p === n ? layout : undefined;
}

// Length fields inside the extensions whose framing the parser checks (and a few it skips).
function innerFields(m: Buffer, type: number, p: number, end: number, out: LengthField[]): void {
  const vec16 = (what: string): void => {
    if (end - p >= 2) out.push({ at: p, width: 2, what });
  };
  switch (type) {
    case 0: // server_name: list<2>, type, name<2>
      vec16('server_name list');
      if (end - p >= 5) out.push({ at: p + 3, width: 2, what: 'host_name' });
      break;
    case 16: {
      // ALPN: list<2>, then protocol<1> each
      vec16('alpn list');
      for (let q = p + 2; q < end; q += 1 + m[q]!)
        out.push({ at: q, width: 1, what: 'alpn protocol' });
      break;
    }
    case 43: // supported_versions<1>
    case 45: // psk_key_exchange_modes<1>
      if (end - p >= 1) out.push({ at: p, width: 1, what: `extension ${type} list` });
      break;
    case 10: // supported_groups
    case 13: // signature_algorithms
      vec16(`extension ${type} list`);
      break;
    case 51: {
      // key_share: client_shares<2>, then group(2) key_exchange<2>
      vec16('key_share list');
      for (let q = p + 2; q + 4 <= end; q += 4 + m.readUInt16BE(q + 2)) {
        out.push({ at: q + 2, width: 2, what: 'key_exchange' });
      }
      break;
    }
    case 41: {
      // pre_shared_key: identities<2> { identity<2>, age(4) }, binders<2> { binder<1> }
      if (end - p < 2) return;
      out.push({ at: p, width: 2, what: 'psk identities' });
      const idsEnd = p + 2 + m.readUInt16BE(p);
      let q = p + 2;
      while (q + 2 <= idsEnd && q + 2 <= end) {
        out.push({ at: q, width: 2, what: 'psk identity' });
        q += 2 + m.readUInt16BE(q) + 4;
      }
      if (idsEnd + 2 > end) return;
      out.push({ at: idsEnd, width: 2, what: 'psk binders' });
      for (q = idsEnd + 2; q < end; q += 1 + m[q]!)
        out.push({ at: q, width: 1, what: 'psk binder' });
      break;
    }
    default:
      break;
  }
}

/** Writes `value` (masked to the width) into a length field. */
export function writeLength(m: Buffer, field: LengthField, value: number): void {
  if (field.at + field.width > m.length) return;
  if (field.width === 1) m[field.at] = value & 0xff;
  else if (field.width === 2) m.writeUInt16BE(value & 0xffff, field.at);
  else m.writeUIntBE(value & 0xffffff, field.at, 3);
}

/** Rewrites the handshake length (and, when it still fits, the extensions length) to match. */
export function fixHelloLengths(m: Buffer, fixExtensions: boolean): void {
  if (m.length < 4) return;
  m.writeUIntBE((m.length - 4) & 0xffffff, 1, 3);
  if (!fixExtensions || m.length < 4 + 35) return;
  let p = 4 + 34;
  p += 1 + m[p]!;
  if (p + 2 > m.length) return;
  p += 2 + m.readUInt16BE(p);
  if (p + 1 > m.length) return;
  p += 1 + m[p]!;
  if (p + 2 > m.length) return;
  m.writeUInt16BE((m.length - p - 2) & 0xffff, p);
}

/** The DER length fields of a (valid) DER value, walked recursively; test-only, not hardened. */
export function derLengthFields(der: Buffer, start = 0, end = der.length, out: LengthField[] = []) {
  let p = start;
  while (p < end) {
    const id = der[p]!;
    let q = p + 1;
    if ((id & 0x1f) === 0x1f) while (q < end && (der[q++]! & 0x80) !== 0);
    if (q >= end) break;
    const first = der[q]!;
    const octets = first < 0x80 ? 1 : 1 + (first & 0x7f);
    let length = first;
    if (first >= 0x80) {
      length = 0;
      for (let k = 1; k < octets; k++) length = length * 256 + (der[q + k] ?? 0);
    }
    const width = Math.min(3, octets) as 1 | 2 | 3;
    out.push({ at: q, width, what: `der@${p}` });
    const contentStart = q + octets;
    if (contentStart + length > end) break;
    if ((id & 0x20) !== 0) derLengthFields(der, contentStart, contentStart + length, out);
    p = contentStart + length;
  }
  return out;
}

// Record framing and DER writing are the test helpers' (one implementation for tests and fuzzing).
export { firstHandshakeMessage } from '../test/helpers/tls-records.js';
export { derLength, derSequence } from '../test/helpers/session-der.js';

/** PEM armour for DER session bytes, as `openssl sess_id` writes it. */
export function toSessionPem(der: Buffer, eol = '\n'): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN SSL SESSION PARAMETERS-----${eol}${lines.join(eol)}${eol}-----END SSL SESSION PARAMETERS-----${eol}`;
}
