// The TLV reader on its own: header forms, limits and INTEGER ranges at their exact edges.
import { describe, expect, it } from 'vitest';
import {
  CLASS_APPLICATION,
  CLASS_CONTEXT,
  CLASS_PRIVATE,
  CLASS_UNIVERSAL,
  DerReader,
} from '../../src/session/der-reader.js';
import { SessionDecodeError, type SessionDecodeErrorCode } from '../../src/session/errors.js';
import { derInteger } from '../helpers/session-der.js';

function header(bytes: number[], pos = 0, limit = bytes.length): DerReader {
  const r = new DerReader(Uint8Array.from(bytes));
  r.readHeader(pos, limit);
  return r;
}

function code(fn: () => unknown): SessionDecodeErrorCode | 'none' {
  try {
    fn();
    return 'none';
  } catch (error) {
    if (error instanceof SessionDecodeError) return error.code;
    throw error;
  }
}

describe('DerReader.readHeader', () => {
  it('reads short and long lengths', () => {
    let r = header([0x04, 0x00]);
    expect([r.tagClass, r.tagNumber, r.constructed, r.contentStart, r.contentEnd]).toEqual([
      CLASS_UNIVERSAL,
      4,
      false,
      2,
      2,
    ]);
    r = header([0x30, 0x7f, ...new Array<number>(0x7f).fill(0)]);
    expect([r.constructed, r.contentStart, r.contentEnd]).toEqual([true, 2, 0x81]);
    r = header([0x04, 0x81, 0x80, ...new Array<number>(0x80).fill(0)]);
    expect([r.contentStart, r.contentEnd]).toEqual([3, 0x83]);
    r = header([0x04, 0x82, 0x01, 0x00, ...new Array<number>(0x100).fill(0)]);
    expect([r.contentStart, r.contentEnd]).toEqual([4, 0x104]);
    r = header([0x04, 0x83, 0x01, 0x00, 0x00, ...new Array<number>(0x10000).fill(0)]);
    expect([r.contentStart, r.contentEnd]).toEqual([5, 0x10005]);
  });

  it('reads every class and high tag numbers', () => {
    expect(header([0x41, 0]).tagClass).toBe(CLASS_APPLICATION);
    expect(header([0xc1, 0]).tagClass).toBe(CLASS_PRIVATE);
    const r = header([0xbf, 0x1f, 0]);
    expect([r.tagClass, r.constructed, r.tagNumber, r.contentStart]).toEqual([
      CLASS_CONTEXT,
      true,
      31,
      3,
    ]);
    expect(header([0x9f, 0x81, 0x00, 0]).tagNumber).toBe(128);
    expect(header([0x9f, 0xff, 0xff, 0xff, 0x7f, 0]).tagNumber).toBe(2 ** 28 - 1);
  });

  it('honours the limit and the start position', () => {
    expect(header([0xff, 0x04, 0x01, 0xaa, 0xee], 1, 4).contentEnd).toBe(4);
    expect(code(() => header([0x04, 0x02, 0xaa, 0xbb, 0x00], 0, 3))).toBe('BAD_LENGTH');
    expect(code(() => header([0x04, 0x02, 0xaa]))).toBe('TRUNCATED');
    expect(code(() => header([0x04], 0, 1))).toBe('TRUNCATED');
    expect(code(() => header([0x04, 0x00], 2, 2))).toBe('TRUNCATED');
    expect(code(() => header([0x04, 0x81], 0, 2))).toBe('TRUNCATED');
    expect(code(() => header([0x04, 0x81, 0x80, 0x00], 0, 2))).toBe('BAD_LENGTH');
  });

  it('refuses non-DER headers', () => {
    expect(code(() => header([0x30, 0x80, 0, 0]))).toBe('BAD_LENGTH');
    expect(code(() => header([0x04, 0x81, 0x7f]))).toBe('BAD_LENGTH');
    expect(code(() => header([0x04, 0x82, 0x00, 0xff]))).toBe('BAD_LENGTH');
    expect(code(() => header([0x04, 0x84, 0, 0, 1, 0]))).toBe('BAD_LENGTH');
    expect(code(() => header([0x04, 0xff]))).toBe('BAD_LENGTH');
    expect(code(() => header([0x9f, 0x80, 0x01, 0]))).toBe('BAD_TAG');
    expect(code(() => header([0x9f, 0x1e, 0]))).toBe('BAD_TAG');
    expect(code(() => header([0x9f, 0x81, 0x80, 0x80, 0x80, 0x00, 0]))).toBe('BAD_TAG');
  });
});

describe('DerReader.integer', () => {
  function int(value: number | bigint, min: number, max: number): number | SessionDecodeErrorCode {
    const r = header([...derInteger(value)]);
    try {
      return r.integer(min, max, 'test');
    } catch (error) {
      if (error instanceof SessionDecodeError) return error.code;
      throw error;
    }
  }
  const S = Number.MAX_SAFE_INTEGER;

  it('decodes values at the edges of each field type', () => {
    for (const v of [0, 1, 127, 128, 255, 256, 0xffff, 0xffffffff]) {
      expect(int(v, 0, 0xffffffff)).toBe(v);
    }
    for (const v of [-1, -128, -129, -256, -0x80000000, 0x7fffffff]) {
      expect(int(v, -0x80000000, 0x7fffffff)).toBe(v);
    }
    expect(int(S, -S, S)).toBe(S);
    expect(int(-S, -S, S)).toBe(-S);
  });

  it('refuses values just outside each range', () => {
    expect(int(0x100000000, 0, 0xffffffff)).toBe('BAD_VALUE');
    expect(int(-1, 0, 0xffffffff)).toBe('BAD_VALUE');
    expect(int(0x80000000, -0x80000000, 0x7fffffff)).toBe('BAD_VALUE');
    expect(int(-0x80000001, -0x80000000, 0x7fffffff)).toBe('BAD_VALUE');
    expect(int(BigInt(S) + 1n, -S, S)).toBe('BAD_VALUE');
    expect(int(-BigInt(S) - 1n, -S, S)).toBe('BAD_VALUE');
    expect(int(2n ** 64n - 1n, 0, S)).toBe('BAD_VALUE');
    expect(int(-(2n ** 63n), -S, S)).toBe('BAD_VALUE');
    expect(int(2n ** 100n, -S, S)).toBe('BAD_VALUE');
  });

  it('refuses empty and padded encodings', () => {
    const r = (bytes: number[]) => () => header(bytes).integer(-S, S, 'test');
    expect(code(r([0x02, 0x00]))).toBe('BAD_VALUE');
    expect(code(r([0x02, 0x02, 0x00, 0x7f]))).toBe('BAD_VALUE');
    expect(code(r([0x02, 0x02, 0xff, 0x80]))).toBe('BAD_VALUE');
    expect(code(r([0x02, 0x02, 0x00, 0x80]))).toBe('none');
    expect(code(r([0x02, 0x02, 0xff, 0x7f]))).toBe('none');
  });
});
