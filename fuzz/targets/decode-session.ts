/**
 * Targets for `decodeSession`: random, mutated and truncated real sessions, DER and PEM. The only
 * exception allowed is `SessionDecodeError`; a decoded session must be safe to print (no master
 * secret in JSON, `inspect` or `String`), and its PEM form must decode to the same session.
 *
 * @module
 */
import { inspect } from 'node:util';
import fc from 'fast-check';
import { decodeSession } from '../../src/session/decode.js';
import type { DecodedSession } from '../../src/session/decoded-session.js';
import { SessionDecodeError, type SessionDecodeErrorCode } from '../../src/session/errors.js';
import { derLength, derSequence, hexOf, toSessionPem } from '../bytes.js';
import type { Corpus } from '../corpus.js';
import { derive, pick } from '../derived.js';
import { applyMutations, mutationsArb, type Mutation } from '../mutate.js';
import { enumeration, expectThat, property, type AnyTarget } from '../target.js';

const CODES = new Set<SessionDecodeErrorCode>([
  'TRUNCATED',
  'BAD_TAG',
  'BAD_LENGTH',
  'TOO_LARGE',
  'BAD_VALUE',
  'BAD_PEM',
]);

/** Decodes; returns the session or the typed error's code. Anything else escapes (a crash). */
export function decodeOrCode(input: Uint8Array | string): DecodedSession | SessionDecodeErrorCode {
  try {
    return decodeSession(input);
  } catch (error) {
    if (!(error instanceof SessionDecodeError)) throw error;
    expectThat(CODES.has(error.code), `unknown error code ${error.code}`);
    // Messages name offsets and lengths, never input bytes (which may hold a master secret).
    expectThat(
      !/[0-9a-f]{16,}/i.test(error.message),
      () => `error message carries hex: ${error.message}`,
    );
    return error.code;
  }
}

/** Every form a secret could take in printed output. */
function secretForms(secret: Buffer): string[] {
  const hex = secret.toString('hex');
  return [hex, hex.toUpperCase(), secret.toString('base64'), secret.toString('base64url')];
}

function occurrences(haystack: Buffer, needle: Buffer): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) count++;
  return count;
}

/** Exercises every accessor of a decoded session and checks that printing it leaks no secret. */
function exercise(s: DecodedSession, der: Buffer): void {
  const printed = [JSON.stringify(s), inspect(s, { depth: 5 }), String(s)].join('\n');
  void s.expiresAt;
  void s.isExpired();
  void s.cipherName;
  void s.cipherStandardName;
  void s.protocol;
  void s.hostName;
  void s.alpnProtocol;
  void s.kexGroupName;
  void s.pskIdentity;
  void s.ticketLength;
  void s.ticket();
  void s.ticketAppData();
  for (const lazy of [() => s.peerSubject, () => s.peerPublicKey()]) {
    try {
      lazy();
    } catch (error) {
      if (!(error instanceof SessionDecodeError)) throw error;
    }
  }
  const secret = s.masterSecret();
  // A secret that also occurs elsewhere in the input (a mutation can copy it into the id) may
  // legitimately be printed there; only a secret found once must never be printed.
  if (secret.length >= 8 && occurrences(der, secret) === 1) {
    for (const form of secretForms(secret)) {
      expectThat(!printed.includes(form), 'the master secret appears in printed output');
    }
  }
}

/** The core property: typed outcome; on success, safe to print and PEM-equivalent. */
export function checkDecode(
  input: Uint8Array | string,
  pemRoundTrip: boolean,
): DecodedSession | SessionDecodeErrorCode {
  const result = decodeOrCode(input);
  if (typeof result === 'string') return result;
  const bytes = typeof input === 'string' ? undefined : Buffer.from(input);
  const der = bytes !== undefined && bytes[0] === 0x30 ? bytes : derOfPem(input);
  exercise(result, der);
  if (pemRoundTrip && der === bytes) {
    const again = decodeOrCode(toSessionPem(der));
    expectThat(typeof again !== 'string', () => `DER decodes but its PEM gives ${String(again)}`);
    expectThat(JSON.stringify(again) === JSON.stringify(result), 'DER and PEM decode differently');
  }
  return result;
}

/** The DER inside a PEM text that decoded (so its base64 is valid and Node's decoder agrees). */
function derOfPem(input: Uint8Array | string): Buffer {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  const begin = text.indexOf('-----BEGIN SSL SESSION PARAMETERS-----');
  const end = text.indexOf('-----END SSL SESSION PARAMETERS-----');
  return Buffer.from(text.slice(begin + 38, end), 'base64');
}

/** The top-level elements of a DER SEQUENCE: [start, end) of each, plus where content starts. */
function topElements(der: Buffer): [number, number][] {
  const contentStart = der[1]! < 0x80 ? 2 : 2 + (der[1]! & 0x7f);
  const out: [number, number][] = [];
  let p = contentStart;
  while (p < der.length) {
    const first = der[p + 1]!;
    const octets = first < 0x80 ? 0 : first & 0x7f;
    let length = first < 0x80 ? first : 0;
    for (let k = 0; k < octets; k++) length = length * 256 + der[p + 2 + k]!;
    const end = p + 2 + octets + length;
    out.push([p, end]);
    p = end;
  }
  return out;
}

/** A real session with its session_id (the 4th element) replaced by `id`. */
function withSessionId(der: Buffer, id: Buffer): Buffer {
  const parts = topElements(der).map(([s, e]) => der.subarray(s, e));
  parts[3] = Buffer.concat([Buffer.from([0x04]), derLength(id.length), id]);
  return derSequence(Buffer.concat(parts));
}

interface RandomCase {
  shape: 'raw' | 'sequence' | 'pem' | 'text';
  bytes: Uint8Array;
  text: string;
}

function randomInput(c: RandomCase): Uint8Array | string {
  switch (c.shape) {
    case 'raw':
      return c.bytes;
    case 'sequence':
      return derSequence(Buffer.from(c.bytes));
    case 'pem':
      return `-----BEGIN SSL SESSION PARAMETERS-----\n${c.text}\n-----END SSL SESSION PARAMETERS-----\n`;
    case 'text':
      return c.text;
  }
}

interface MutateCase {
  session: number;
  ops: Mutation[];
  fixOuter: boolean;
  pem: boolean;
}

function mutatedSession(c: MutateCase, corpus: Corpus): Buffer {
  const s = pick(derive(corpus).sessions, c.session);
  let der: Buffer = applyMutations(s.der, s.fields, c.ops);
  if (c.fixOuter && der.length > 4 && der[0] === 0x30) {
    const skip = der[1]! < 0x80 ? 2 : 2 + (der[1]! & 0x7f);
    if (skip < der.length) der = derSequence(der.subarray(skip));
  }
  return der;
}

type PemOp =
  | { k: 'set'; at: number; char: string }
  | { k: 'insert'; at: number; text: string }
  | { k: 'delete'; at: number; count: number };

const pemCharArb = fc.constantFrom(
  '=',
  '-',
  ' ',
  '\n',
  '\r',
  '\t',
  'A',
  '/',
  '+',
  '_',
  '\0',
  'é',
  '\u2028',
  '\uD800',
);

const pemOpArb: fc.Arbitrary<PemOp> = fc.oneof(
  fc.record({
    k: fc.constant('set' as const),
    at: fc.nat(),
    char: fc.oneof(pemCharArb, fc.string({ minLength: 1, maxLength: 1 })),
  }),
  fc.record({
    k: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.array(pemCharArb, { maxLength: 8 }).map((a) => a.join('')),
      fc.string({ maxLength: 12 }),
    ),
  }),
  fc.record({
    k: fc.constant('delete' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 80 }),
  }),
);

interface PemCase {
  source: number;
  ops: PemOp[];
  as: 'string' | 'latin1' | 'utf8';
}

function mutatedPem(c: PemCase, corpus: Corpus): Uint8Array | string {
  const d = derive(corpus);
  const all = [...d.pems, ...d.sessions.map((s) => toSessionPem(s.der, '\r\n'))];
  let text = pick(all, c.source);
  for (const op of c.ops) {
    const n = text.length;
    if (op.k === 'set' && n > 0) {
      const at = op.at % n;
      text = text.slice(0, at) + op.char + text.slice(at + 1);
    } else if (op.k === 'insert') {
      const at = op.at % (n + 1);
      text = text.slice(0, at) + op.text + text.slice(at);
    } else if (op.k === 'delete') {
      const at = op.at % (n + 1);
      text = text.slice(0, at) + text.slice(at + op.count);
    }
  }
  return c.as === 'string' ? text : Buffer.from(text, c.as);
}

function show(input: Uint8Array | string): string {
  return typeof input === 'string' ? `text ${JSON.stringify(input)}` : hexOf(input);
}

interface TruncateCase {
  kind: 'der' | 'rewrapped' | 'pem';
  source: number;
  at: number;
}

function truncated(c: TruncateCase, corpus: Corpus): Uint8Array | string {
  const d = derive(corpus);
  if (c.kind === 'pem') return pick(d.pems, c.source).slice(0, c.at);
  const der = pick(d.sessions, c.source).der;
  if (c.kind === 'der') return der.subarray(0, c.at);
  const skip = der[1]! < 0x80 ? 2 : 2 + (der[1]! & 0x7f);
  return derSequence(der.subarray(skip, skip + c.at));
}

interface SessionIdCase {
  session: number;
  length: number;
  fill: number;
}

/** The decodeSession targets. */
export function decodeSessionTargets(): AnyTarget[] {
  return [
    property<RandomCase>({
      name: 'decode/random',
      weight: 6,
      arbitrary: () =>
        fc.record({
          shape: fc.constantFrom(
            'raw' as const,
            'sequence' as const,
            'pem' as const,
            'text' as const,
          ),
          bytes: fc.uint8Array({ maxLength: 1200 }),
          text: fc.string({ maxLength: 300 }),
        }),
      run: (c) => void checkDecode(randomInput(c), true),
      reproducer: (c) => show(randomInput(c)),
    }),
    property<MutateCase>({
      name: 'decode/mutate',
      weight: 12,
      arbitrary: () =>
        fc.record({
          session: fc.nat(),
          ops: mutationsArb(5),
          fixOuter: fc.boolean(),
          pem: fc.boolean(),
        }),
      run: (c, corpus) => {
        const der = mutatedSession(c, corpus);
        checkDecode(c.pem ? toSessionPem(der) : der, !c.pem);
      },
      reproducer: (c, corpus) => hexOf(mutatedSession(c, corpus)),
    }),
    enumeration<TruncateCase>({
      name: 'decode/truncate',
      weight: 3,
      cases: (corpus) => {
        const d = derive(corpus);
        const out: TruncateCase[] = [];
        d.sessions.forEach((s, source) => {
          for (let at = 0; at < s.der.length; at++) {
            out.push({ kind: 'der', source, at });
            out.push({ kind: 'rewrapped', source, at });
          }
        });
        d.pems.forEach((text, source) => {
          for (let at = 0; at < text.length; at++) out.push({ kind: 'pem', source, at });
        });
        return out;
      },
      run: (c, corpus) => {
        const input = truncated(c, corpus);
        const result = checkDecode(input, false);
        if (c.kind === 'der') {
          expectThat(
            result === 'TRUNCATED',
            () => `DER cut at ${c.at} gives ${typeof result === 'string' ? result : 'a session'}`,
          );
        }
        if (
          c.kind === 'pem' &&
          typeof input === 'string' &&
          input.length < pick(derive(corpus).pems, c.source).trimEnd().length
        ) {
          expectThat(
            result === 'BAD_PEM',
            () => `PEM cut at ${c.at} gives ${typeof result === 'string' ? result : 'a session'}`,
          );
        }
      },
      reproducer: (c, corpus) => show(truncated(c, corpus)),
    }),
    property<PemCase>({
      name: 'decode/pem',
      weight: 5,
      arbitrary: () =>
        fc.record({
          source: fc.nat(),
          ops: fc.array(pemOpArb, { minLength: 1, maxLength: 5 }),
          as: fc.constantFrom('string' as const, 'latin1' as const, 'utf8' as const),
        }),
      run: (c, corpus) => void checkDecode(mutatedPem(c, corpus), false),
      reproducer: (c, corpus) => show(mutatedPem(c, corpus)),
    }),
    property<SessionIdCase>({
      name: 'decode/session-id',
      weight: 2,
      arbitrary: () =>
        fc.record({
          session: fc.nat(),
          length: fc.oneof(fc.constantFrom(0, 1, 32, 33, 34, 255, 256), fc.nat(300)),
          fill: fc.nat(255),
        }),
      run: (c, corpus) => {
        const id = Buffer.alloc(c.length, c.fill);
        const der = withSessionId(pick(derive(corpus).sessions, c.session).der, id);
        const result = checkDecode(der, true);
        if (c.length > 32) {
          expectThat(
            result === 'BAD_VALUE',
            () =>
              `a ${c.length}-byte session id gives ${typeof result === 'string' ? result : 'a session'}`,
          );
        } else {
          expectThat(
            typeof result !== 'string',
            () => `a ${c.length}-byte session id gives ${String(result)}`,
          );
          expectThat(result.sessionId.equals(id), 'decoded session id differs');
        }
      },
      reproducer: (c, corpus) =>
        hexOf(
          withSessionId(
            pick(derive(corpus).sessions, c.session).der,
            Buffer.alloc(c.length, c.fill),
          ),
        ),
    }),
  ];
}
