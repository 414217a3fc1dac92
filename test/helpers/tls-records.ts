// Minimal TLS record framing for tests, written independently of src/wire/tls-record.ts so that
// the tests do not check the reassembler against itself.

/** A parsed TLS record: content type, version and fragment. */
export interface TestRecord {
  type: number;
  version: number;
  fragment: Buffer;
}

/**
 * Splits `bytes` into complete records; returns them and the number of bytes they used.
 * Stops at the first incomplete record.
 */
export function splitRecords(bytes: Buffer): { records: TestRecord[]; used: number } {
  const records: TestRecord[] = [];
  let p = 0;
  while (bytes.length - p >= 5) {
    const len = bytes.readUInt16BE(p + 3);
    if (bytes.length - p - 5 < len) break;
    records.push({
      type: bytes[p]!,
      version: bytes.readUInt16BE(p + 1),
      fragment: bytes.subarray(p + 5, p + 5 + len),
    });
    p += 5 + len;
  }
  return { records, used: p };
}

/**
 * If `bytes` start with handshake records that hold a complete first handshake message, returns
 * that message, the number of bytes of the records that carried it, and how many records.
 */
export function firstHandshakeMessage(
  bytes: Buffer,
): { message: Buffer; used: number; records: number } | undefined {
  const { records } = splitRecords(bytes);
  const parts: Buffer[] = [];
  let total = 0;
  let used = 0;
  for (const [i, r] of records.entries()) {
    if (r.type !== 22) return undefined;
    parts.push(r.fragment);
    total += r.fragment.length;
    used += 5 + r.fragment.length;
    if (total >= 4) {
      const all = Buffer.concat(parts);
      const msgLen = 4 + all.readUIntBE(1, 3);
      // Buffer.concat always copies, so the message never aliases the caller's bytes.
      if (total >= msgLen) return { message: all.subarray(0, msgLen), used, records: i + 1 };
    }
  }
  return undefined;
}

/** Frames `payload` as handshake records of at most `size` bytes each. */
export function frameRecords(payload: Buffer, size: number, version = 0x0301): Buffer {
  const out: Buffer[] = [];
  for (let p = 0; p < payload.length; p += size) {
    const frag = payload.subarray(p, Math.min(p + size, payload.length));
    const header = Buffer.alloc(5);
    header[0] = 22;
    header.writeUInt16BE(version, 1);
    header.writeUInt16BE(frag.length, 3);
    out.push(header, frag);
  }
  return Buffer.concat(out);
}

/** Splits `bytes` at the given cut points (sorted, deduplicated, inside the buffer). */
export function chunkAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const c of points) {
    chunks.push(bytes.subarray(prev, c));
    prev = c;
  }
  chunks.push(bytes.subarray(prev));
  return chunks;
}
