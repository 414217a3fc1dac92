/**
 * Byte-level mutations as fast-check values, so that a failing case shrinks to the fewest and
 * smallest mutations of a real input: bit flips, byte overwrites with boundary values, insertions,
 * deletions, duplicated runs, and targeted corruption of length fields.
 *
 * @module
 */
import fc from 'fast-check';
import type { LengthField } from './bytes.js';
import { writeLength } from './bytes.js';

/** One mutation; positions are taken modulo the current length. */
export type Mutation =
  | { k: 'flip'; at: number; bit: number }
  | { k: 'set'; at: number; value: number }
  | { k: 'insert'; at: number; bytes: Uint8Array }
  | { k: 'delete'; at: number; count: number }
  | { k: 'dup'; from: number; count: number; to: number }
  | { k: 'length'; field: number; value: number }
  | { k: 'length+'; field: number; delta: number };

const interestingByte = fc.oneof(
  fc.constantFrom(0, 1, 0x1f, 0x20, 0x21, 0x2e, 0x30, 0x7f, 0x80, 0x81, 0x82, 0x83, 0xfe, 0xff),
  fc.nat(255),
);

const interestingLength = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 4, 6, 7, 32, 33, 34, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x4000),
  fc.constantFrom(0x4001, 0x7fff, 0x8000, 0xfffe, 0xffff, 0x10000, 0xffffff),
  fc.nat(0xffffff),
);

/** A single mutation. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant('set' as const), at: fc.nat(), value: interestingByte }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('delete' as const),
      at: fc.nat(),
      count: fc.integer({ min: 1, max: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('dup' as const),
      from: fc.nat(),
      count: fc.integer({ min: 1, max: 128 }),
      to: fc.nat(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('length' as const),
      field: fc.nat(),
      value: interestingLength,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('length+' as const),
      field: fc.nat(),
      delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
    }),
  },
);

/** One to `max` mutations. */
export function mutationsArb(max = 6): fc.Arbitrary<Mutation[]> {
  return fc.array(mutationArb, { minLength: 1, maxLength: max });
}

/** Applies `ops` to a copy of `base`; `fields` are the base's length fields. */
export function applyMutations(
  base: Buffer,
  fields: readonly LengthField[],
  ops: readonly Mutation[],
) {
  let b = Buffer.from(base);
  for (const op of ops) {
    const n = b.length;
    switch (op.k) {
      case 'flip':
        if (n > 0) b[op.at % n]! ^= 1 << op.bit;
        break;
      case 'set':
        if (n > 0) b[op.at % n] = op.value;
        break;
      case 'insert': {
        const at = op.at % (n + 1);
        b = Buffer.concat([b.subarray(0, at), op.bytes, b.subarray(at)]);
        break;
      }
      case 'delete': {
        const at = op.at % (n + 1);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + op.count)]);
        break;
      }
      case 'dup': {
        if (n === 0) break;
        const from = op.from % n;
        const run = b.subarray(from, from + op.count);
        const to = op.to % (n + 1);
        b = Buffer.concat([b.subarray(0, to), run, b.subarray(to)]);
        break;
      }
      case 'length':
      case 'length+': {
        if (fields.length === 0) break;
        const field = fields[op.field % fields.length]!;
        if (field.at + field.width > n) break;
        const current = b.readUIntBE(field.at, field.width);
        writeLength(b, field, op.k === 'length' ? op.value : current + op.delta);
        break;
      }
    }
  }
  return b;
}
