/**
 * Incremental reassembly of the first TLS handshake message (the ClientHello) out of TLS records
 * (RFC 8446 §5.1), fed with whatever TCP chunks arrive.
 *
 * It decides as early as possible whether the bytes can be a TLS ClientHello at all, so that HTTP
 * plaintext, SSLv2-compatible hellos and garbage are handed to OpenSSL without waiting. It never
 * parses the hello itself (see `client-hello.ts`) and never modifies the bytes it was given.
 *
 * @module
 */

/** Length of a TLS record header: type, version, length. */
export const TLS_RECORD_HEADER_LENGTH = 5;
/** Largest plaintext fragment a TLS record may carry (2^14, RFC 8446 §5.1). */
export const TLS_MAX_FRAGMENT_LENGTH = 16384;
/** Record content type `handshake`. */
export const CONTENT_TYPE_HANDSHAKE = 22;

/** Why some bytes cannot be (the start of) a ClientHello in TLS records. */
export type RecordRejectReason =
  /** The first byte has its top bit set: an SSLv2-compatible ClientHello. */
  | 'sslv2'
  /** The first record is not a handshake record (HTTP plaintext, an alert, garbage...). */
  | 'not-handshake'
  /** A record's version is not 3.0..3.4. */
  | 'bad-record-version'
  /** A record's length is 0 or above 2^14. */
  | 'bad-record-length'
  /** The first handshake message is not a ClientHello. */
  | 'not-client-hello'
  /** A non-handshake record came before the ClientHello was complete (RFC 8446 §5.1 forbids it). */
  | 'interleaved-record'
  /** The ClientHello cannot be complete within the byte cap. */
  | 'too-large';

/** Result of {@link ClientHelloAssembler.push}. */
export type AssemblerStatus = 'need-more' | 'complete' | 'reject';

/**
 * Collects TCP chunks until the first complete ClientHello handshake message is available.
 *
 * Usage: call {@link push} for each chunk until it returns `'complete'` or `'reject'`; then read the
 * accessors. Memory is amortized O(n) even for one-byte chunks (a doubling buffer), and each record
 * header is inspected once, so a client dribbling bytes cannot make it quadratic.
 */
export class ClientHelloAssembler {
  /** Byte cap: once this many bytes are buffered without a complete hello, it rejects. */
  readonly maxBytes: number;
  /** Why it rejected, once {@link push} returned `'reject'`. */
  rejectReason: RecordRejectReason | undefined = undefined;

  private buf: Buffer = Buffer.alloc(0);
  private len = 0;
  // Whether `buf` was allocated here; the first chunk is kept as is, so a hello that arrives in one
  // TCP read (the usual case) is never copied.
  private owned = false;
  private pos = 0;
  private payload = 0;
  private helloLen = -1;
  private readonly fragStarts: number[] = [];
  private readonly fragLens: number[] = [];
  private status: AssemblerStatus = 'need-more';

  /** @param maxBytes - the byte cap (positive) */
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /**
   * Adds a chunk and says whether the ClientHello is now complete, impossible, or needs more bytes.
   * After `'complete'` or `'reject'` further chunks are still buffered (so nothing is lost) but the
   * status no longer changes.
   *
   * @param chunk - the next bytes, in arrival order
   * @returns the status
   */
  push(chunk: Buffer): AssemblerStatus {
    this.append(chunk);
    if (this.status !== 'need-more') return this.status;
    this.status = this.scan();
    if (this.status === 'need-more' && this.len >= this.maxBytes) this.reject('too-large');
    return this.status;
  }

  /** All bytes pushed so far, unmodified and in order (a view; not copied when one chunk came). */
  original(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** Number of bytes pushed so far. */
  get bytesRead(): number {
    return this.len;
  }

  /** Number of records that carried ClientHello bytes (valid after `'complete'`). */
  get records(): number {
    return this.fragStarts.length;
  }

  /** Length of the ClientHello handshake message, header included (valid after `'complete'`). */
  get helloLength(): number {
    return this.helloLen;
  }

  /**
   * The ClientHello handshake message (valid after `'complete'`): a view when it came in one record,
   * otherwise a fresh copy of the reassembled fragments.
   */
  message(): Buffer {
    const first = this.fragStarts[0] ?? 0;
    if (this.fragStarts.length === 1) return this.buf.subarray(first, first + this.helloLen);
    const out = Buffer.allocUnsafe(this.helloLen);
    this.copyPayload(out, 0, this.helloLen);
    return out;
  }

  /**
   * The bytes to hand to OpenSSL with the hello re-framed into ONE record (valid after
   * `'complete'`): the record header (the first record's version), every handshake byte of the
   * records that carried the hello, then every byte that followed those records, untouched.
   *
   * Why: Node's own ClientHello parser (active when `resumeSession` listeners exist) only looks at
   * the first record. Returns `undefined` when the hello already came in one record or when the
   * payload does not fit in one record (2^14 bytes).
   *
   * @returns the merged bytes and the hello message as a view into them, or `undefined`
   */
  merged(): { bytes: Buffer; message: Buffer } | undefined {
    if (this.fragStarts.length < 2 || this.payload > TLS_MAX_FRAGMENT_LENGTH) return undefined;
    const rest = this.len - this.pos;
    const bytes = Buffer.allocUnsafe(TLS_RECORD_HEADER_LENGTH + this.payload + rest);
    bytes[0] = CONTENT_TYPE_HANDSHAKE;
    bytes[1] = this.buf[1]!;
    bytes[2] = this.buf[2]!;
    bytes[3] = this.payload >> 8;
    bytes[4] = this.payload & 0xff;
    this.copyPayload(bytes, TLS_RECORD_HEADER_LENGTH, this.payload);
    this.buf.copy(bytes, TLS_RECORD_HEADER_LENGTH + this.payload, this.pos, this.len);
    const message = bytes.subarray(
      TLS_RECORD_HEADER_LENGTH,
      TLS_RECORD_HEADER_LENGTH + this.helloLen,
    );
    return { bytes, message };
  }

  private append(chunk: Buffer): void {
    const need = this.len + chunk.length;
    if (this.len === 0 && !this.owned) {
      this.buf = chunk;
      this.len = chunk.length;
      return;
    }
    if (!this.owned || need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2, 1024));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
      this.owned = true;
    }
    chunk.copy(this.buf, this.len);
    this.len = need;
  }

  private reject(reason: RecordRejectReason): 'reject' {
    this.rejectReason = reason;
    this.status = 'reject';
    return 'reject';
  }

  // Walks the record headers not yet seen. Header bytes are checked as soon as each one arrives so
  // that non-TLS input is recognised from its first byte.
  private scan(): AssemblerStatus {
    const b = this.buf;
    const len = this.len;
    for (;;) {
      const p = this.pos;
      const avail = len - p;
      if (avail < 1) return 'need-more';
      const type = b[p]!;
      if (type !== CONTENT_TYPE_HANDSHAKE) {
        if (p > 0) return this.reject('interleaved-record');
        return this.reject((type & 0x80) !== 0 ? 'sslv2' : 'not-handshake');
      }
      if (avail >= 2 && b[p + 1] !== 3) return this.reject('bad-record-version');
      if (avail >= 3 && b[p + 2]! > 4) return this.reject('bad-record-version');
      if (avail < TLS_RECORD_HEADER_LENGTH) return 'need-more';
      const fragLen = (b[p + 3]! << 8) | b[p + 4]!;
      if (fragLen === 0 || fragLen > TLS_MAX_FRAGMENT_LENGTH) {
        return this.reject('bad-record-length');
      }
      const fragStart = p + TLS_RECORD_HEADER_LENGTH;
      const fragAvail = Math.min(fragLen, len - fragStart);
      // The handshake header may straddle records (a 1-byte record is legal), so it is read from
      // the payload stream, including the part of this record that has arrived.
      if (this.helloLen < 0 && this.payload + fragAvail >= 1) {
        if (this.payloadByte(0, fragStart) !== 1) return this.reject('not-client-hello');
      }
      if (this.helloLen < 0 && this.payload + fragAvail >= 4) {
        const bodyLen =
          (this.payloadByte(1, fragStart) << 16) |
          (this.payloadByte(2, fragStart) << 8) |
          this.payloadByte(3, fragStart);
        this.helloLen = 4 + bodyLen;
        // The fewest bytes a sender could use: full records, one header per 2^14 bytes.
        const minWire =
          this.helloLen +
          TLS_RECORD_HEADER_LENGTH * Math.ceil(this.helloLen / TLS_MAX_FRAGMENT_LENGTH);
        if (minWire > this.maxBytes) return this.reject('too-large');
      }
      if (fragAvail < fragLen) return 'need-more';
      this.fragStarts.push(fragStart);
      this.fragLens.push(fragLen);
      this.payload += fragLen;
      this.pos = fragStart + fragLen;
      if (this.helloLen >= 0 && this.payload >= this.helloLen) return 'complete';
    }
  }

  // Byte `i` of the handshake payload stream, where `partialStart` is the fragment start of the
  // record being scanned (not yet in the fragment list). Only called for i < 4.
  private payloadByte(i: number, partialStart: number): number {
    for (let k = 0; k < this.fragStarts.length; k++) {
      const fl = this.fragLens[k]!;
      if (i < fl) return this.buf[this.fragStarts[k]! + i]!;
      i -= fl;
    }
    return this.buf[partialStart + i]!;
  }

  // Copies the first `count` payload bytes (across fragments) into `out` at `at`.
  private copyPayload(out: Buffer, at: number, count: number): void {
    for (let k = 0; k < this.fragStarts.length && count > 0; k++) {
      const start = this.fragStarts[k]!;
      const n = Math.min(this.fragLens[k]!, count);
      this.buf.copy(out, at, start, start + n);
      at += n;
      count -= n;
    }
  }
}
