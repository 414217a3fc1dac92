// A minimal, strict DER TLV reader for decoding serialized SSL_SESSIONs.
//
// Why hand-written: session decoding sits on the server's hot path (every resumed handshake looks
// up and decodes a stored session), so this reader allocates nothing: one reader object is reused
// for every element, its fields are overwritten in place, and values are returned as numbers or as
// offsets the caller turns into subarray views. No regexes, no recursion (a session nests at most
// three levels), and every index is checked against an explicit limit before it is read, so a
// malformed input can only ever raise SessionDecodeError, never a RangeError or a hang.
//
// Why strict: i2d_SSL_SESSION only ever writes DER, so anything BER-only (indefinite lengths,
// non-minimal lengths or integers, constructed strings) did not come from OpenSSL and is rejected.
import { SessionDecodeError } from './errors.js';

/** Class bits of an identifier octet: universal. */
export const CLASS_UNIVERSAL = 0x00;
/** Class bits of an identifier octet: application. */
export const CLASS_APPLICATION = 0x40;
/** Class bits of an identifier octet: context-specific (`[n]`). */
export const CLASS_CONTEXT = 0x80;
/** Class bits of an identifier octet: private. */
export const CLASS_PRIVATE = 0xc0;

/** Universal tag number of INTEGER. */
export const TAG_INTEGER = 2;
/** Universal tag number of BIT STRING. */
export const TAG_BIT_STRING = 3;
/** Universal tag number of OCTET STRING. */
export const TAG_OCTET_STRING = 4;
/** Universal tag number of SEQUENCE. */
export const TAG_SEQUENCE = 16;

// High tag numbers are only needed to skip unknown future fields; four base-128 digits (2^28) is
// far beyond any tag OpenSSL could add and keeps the arithmetic in small-integer range.
const MAX_TAG_NUMBER_DIGITS = 4;
// A session is capped well below 16 MiB, so three length octets suffice; a fourth would describe a
// length no valid input can have, and refusing it early keeps lengths exact small integers.
const MAX_LENGTH_OCTETS = 3;

/**
 * Reads DER element headers out of one byte array. After {@link DerReader.readHeader} the public
 * fields describe the element just read; the next call overwrites them.
 */
export class DerReader {
  /** The bytes being decoded. */
  readonly bytes: Uint8Array;
  /** Class bits of the last header: one of the `CLASS_*` constants. */
  tagClass = 0;
  /** Whether the last element is constructed. */
  constructed = false;
  /** Tag number of the last element (within its class). */
  tagNumber = 0;
  /** Offset of the last element's identifier octet. */
  headerStart = 0;
  /** Offset of the last element's first content octet. */
  contentStart = 0;
  /** Offset just past the last element's content; where the next sibling starts. */
  contentEnd = 0;

  /** @param bytes - the DER to read; never copied */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /**
   * Parses the element header at `pos`. The whole element, header and content, must end at or
   * before `limit` (the end of the enclosing element or of the input).
   *
   * @throws SessionDecodeError `TRUNCATED` if the element runs past the end of the input,
   *   `BAD_LENGTH` if it runs past its enclosing element or its length is not minimal DER,
   *   `BAD_TAG` for a non-minimal or absurd high tag number
   */
  readHeader(pos: number, limit: number): void {
    const bytes = this.bytes;
    if (pos >= limit) throw this.overrun(pos, limit, 'element header');
    const id = bytes[pos]!;
    this.headerStart = pos;
    this.tagClass = id & 0xc0;
    this.constructed = (id & 0x20) !== 0;
    let p = pos + 1;
    let tagNumber = id & 0x1f;
    if (tagNumber === 0x1f) {
      tagNumber = 0;
      for (let digits = 0; ; digits++) {
        if (p >= limit) throw this.overrun(pos, limit, 'tag number');
        if (digits === MAX_TAG_NUMBER_DIGITS) {
          throw new SessionDecodeError('BAD_TAG', 'tag number is too large', pos);
        }
        const b = bytes[p++]!;
        if (digits === 0 && b === 0x80) {
          throw new SessionDecodeError('BAD_TAG', 'tag number is not minimally encoded', pos);
        }
        tagNumber = tagNumber * 128 + (b & 0x7f);
        if ((b & 0x80) === 0) break;
      }
      if (tagNumber < 0x1f) {
        throw new SessionDecodeError('BAD_TAG', 'tag number is not minimally encoded', pos);
      }
    }
    this.tagNumber = tagNumber;

    if (p >= limit) throw this.overrun(pos, limit, 'length');
    let length = bytes[p++]!;
    if (length >= 0x80) {
      if (length === 0x80) {
        throw new SessionDecodeError('BAD_LENGTH', 'indefinite length is not DER', pos);
      }
      const count = length & 0x7f;
      if (count > MAX_LENGTH_OCTETS) {
        throw new SessionDecodeError('BAD_LENGTH', `length uses ${count} octets`, pos);
      }
      if (p + count > limit) throw this.overrun(pos, limit, 'length');
      if (bytes[p] === 0) {
        throw new SessionDecodeError('BAD_LENGTH', 'length is not minimally encoded', pos);
      }
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + bytes[p++]!;
      if (length < 0x80) {
        throw new SessionDecodeError('BAD_LENGTH', 'length is not minimally encoded', pos);
      }
    }
    this.contentStart = p;
    this.contentEnd = p + length;
    if (this.contentEnd > limit) {
      throw this.contentEnd > bytes.length
        ? new SessionDecodeError('TRUNCATED', `input ends inside ${length}-byte content`, pos)
        : new SessionDecodeError('BAD_LENGTH', `${length}-byte content overruns its parent`, pos);
    }
  }

  /**
   * Like {@link DerReader.readHeader}, and also requires a specific universal tag and form.
   *
   * @param field - the field name for the error message
   */
  expectUniversal(
    pos: number,
    limit: number,
    tagNumber: number,
    constructed: boolean,
    field: string,
  ): void {
    if (pos >= limit) throw new SessionDecodeError('BAD_TAG', `missing ${field}`, pos);
    this.readHeader(pos, limit);
    if (
      this.tagClass !== CLASS_UNIVERSAL ||
      this.tagNumber !== tagNumber ||
      this.constructed !== constructed
    ) {
      throw new SessionDecodeError(
        'BAD_TAG',
        `${field}: expected ${universalName(tagNumber)}`,
        pos,
      );
    }
  }

  /**
   * Reads the current element's content as a DER INTEGER that must lie in `[min, max]`. Bounds
   * beyond ±2^53 are not representable; 64-bit fields are therefore limited to safe integers.
   *
   * @param field - the field name for the error message
   * @throws SessionDecodeError `BAD_VALUE` for an empty, non-minimal or out-of-range integer
   */
  integer(min: number, max: number, field: string): number {
    const bytes = this.bytes;
    const start = this.contentStart;
    const end = this.contentEnd;
    const length = end - start;
    if (length === 0) {
      throw new SessionDecodeError('BAD_VALUE', `${field}: empty INTEGER`, this.headerStart);
    }
    const first = bytes[start]!;
    if (length > 1) {
      const second = bytes[start + 1]!;
      if ((first === 0 && second < 0x80) || (first === 0xff && second >= 0x80)) {
        throw new SessionDecodeError(
          'BAD_VALUE',
          `${field}: INTEGER is not minimally encoded`,
          this.headerStart,
        );
      }
    }
    // Nine octets hold any 64-bit value (a sign octet plus eight); refusing longer ones up front
    // keeps the loop below short whatever the declared length.
    if (length > 9) {
      throw new SessionDecodeError(
        'BAD_VALUE',
        `${field}: INTEGER is out of range`,
        this.headerStart,
      );
    }
    let value = 0;
    if (first < 0x80) {
      for (let i = start; i < end; i++) value = value * 256 + bytes[i]!;
    } else {
      // Two's complement: accumulate the complement, so no intermediate exceeds the magnitude.
      for (let i = start; i < end; i++) value = value * 256 + (255 - bytes[i]!);
      value = -value - 1;
    }
    // Rounding of huge intermediates is monotonic, so a true value outside a safe-integer bound
    // still lands outside it here.
    if (value < min || value > max) {
      throw new SessionDecodeError(
        'BAD_VALUE',
        `${field}: INTEGER is out of range`,
        this.headerStart,
      );
    }
    return value;
  }

  // A header that needs bytes past `limit`: truncation if `limit` is the end of the input,
  // otherwise a length error in the enclosing element.
  private overrun(pos: number, limit: number, what: string): SessionDecodeError {
    return limit >= this.bytes.length
      ? new SessionDecodeError('TRUNCATED', `input ends inside the ${what}`, pos)
      : new SessionDecodeError('BAD_LENGTH', `${what} overruns its enclosing element`, pos);
  }
}

function universalName(tagNumber: number): string {
  switch (tagNumber) {
    case TAG_INTEGER:
      return 'INTEGER';
    case TAG_BIT_STRING:
      return 'BIT STRING';
    case TAG_OCTET_STRING:
      return 'OCTET STRING';
    case TAG_SEQUENCE:
      return 'SEQUENCE';
    default:
      return `universal tag ${tagNumber}`;
  }
}
