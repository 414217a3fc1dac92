/**
 * Targets for the stored-record parser (`src/session/stored-record.ts`, `decodeStoredSession`): what a
 * store hands back is untrusted. Random bytes, every truncation, and mutations (byte flips,
 * insertions, deletions, corrupted length fields) of real envelopes — plain and sealed with an
 * AES-256-GCM codec bound to the key — must be refused with `StoredSessionError` and nothing else;
 * a record read under another namespace or id must be refused; a sealed record that was changed in
 * any way must never decode.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  decodeStoredSession,
  encodeStoredSession,
  StoredSessionError,
  type StoredSessionErrorCode,
} from '../../src/session/stored-record.js';
import { AesGcmCodec, Keyring } from '../../src/stores/encryption/index.js';
import type { SessionRecord } from '../../src/session/session-record.js';
import { decodeSession } from '../../src/session/decode.js';
import { hexOf, type LengthField } from '../bytes.js';
import type { Corpus } from '../corpus.js';
import { derive, pick } from '../derived.js';
import { applyMutations, mutationsArb, type Mutation } from '../mutate.js';
import { enumeration, expectThat, property, PropertyViolation, type AnyTarget } from '../target.js';

const CODES = new Set<StoredSessionErrorCode>([
  'BAD_INPUT',
  'TRUNCATED',
  'UNSUPPORTED_VERSION',
  'CODEC_MISMATCH',
  'BAD_FORMAT',
  'NAMESPACE_MISMATCH',
  'ID_MISMATCH',
  'BAD_SESSION',
  'KEY_RETIRED',
  'AUTHENTICATION_FAILED',
  'TOO_LARGE',
]);

// The package's own AES-256-GCM codec (random nonce, the key id, namespace and id as associated
// data), with a random key per run.
const codec = new AesGcmCodec(new Keyring([{ id: 'fuzz', key: randomBytes(32) }]));

interface Envelope {
  bytes: Buffer;
  namespace: string;
  id: Buffer;
  der: Buffer;
  sealed: boolean;
  fields: LengthField[];
}

const NAMESPACES = ['', 'tenant-a/0123456789abcdef', 'b', 'ß', '\uD83D\uDE00', 'x'.repeat(1024)];
const HOSTS = [undefined, 'localhost', 'Example.COM', 'a'.repeat(255)];

/** The length fields of a plain envelope (for targeted corruption). */
function envelopeFields(bytes: Buffer): LengthField[] {
  const fields: LengthField[] = [{ at: 3, width: 2, what: 'namespace' }];
  if (bytes.length < 5) return fields;
  let p = 5 + bytes.readUInt16BE(3);
  if ((bytes[2]! & 1) !== 0 && p < bytes.length) {
    fields.push({ at: p, width: 1, what: 'host name' });
    p += 1 + bytes[p]!;
  }
  // The DER length is 4 bytes; corrupt its low 3 (and the top one through byte mutations).
  fields.push({ at: p + 1, width: 3, what: 'der' });
  return fields;
}

/** Every real session of the corpus as an envelope, in several namespaces, plain and sealed. */
function envelopes(corpus: Corpus): Envelope[] {
  const out: Envelope[] = [];
  derive(corpus).sessions.forEach((s, i) => {
    const id = decodeSession(s.der).sessionId;
    if (id.length === 0) return;
    const namespace = NAMESPACES[i % NAMESPACES.length]!;
    const hostName = HOSTS[i % HOSTS.length];
    const record =
      hostName === undefined
        ? { id, data: s.der, namespace }
        : { id, data: s.der, namespace, hostName };
    for (const sealed of [false, true]) {
      const bytes = Buffer.from(encodeStoredSession(record, sealed ? { codec } : {}));
      out.push({
        bytes,
        namespace,
        id: Buffer.from(id),
        der: s.der,
        sealed,
        fields: sealed ? [] : envelopeFields(bytes),
      });
    }
  });
  return out;
}

const memo = new WeakMap<Corpus, Envelope[]>();
function envelopesOf(corpus: Corpus): Envelope[] {
  let e = memo.get(corpus);
  if (e === undefined) memo.set(corpus, (e = envelopes(corpus)));
  return e;
}

/** Decodes; the record or the typed error's code. Anything else escapes (a crash). */
function decodeOrCode(
  bytes: Uint8Array,
  namespace: string,
  id: Uint8Array,
  sealed: boolean,
): SessionRecord | StoredSessionErrorCode {
  try {
    const record = decodeStoredSession(bytes, namespace, id, sealed ? { codec } : {});
    expectThat(Buffer.from(record.id).equals(Buffer.from(id)), 'decoded a record for another id');
    expectThat(record.namespace === namespace, 'decoded a record for another namespace');
    return record;
  } catch (error) {
    if (!(error instanceof StoredSessionError)) throw error;
    expectThat(CODES.has(error.code), `unknown error code ${error.code}`);
    expectThat(
      !/[0-9a-f]{16,}/i.test(error.message),
      () => `error message carries hex: ${error.message}`,
    );
    return error.code;
  }
}

interface RandomCase {
  bytes: Uint8Array;
  header: boolean;
  namespace: number;
  id: Uint8Array;
  sealed: boolean;
}

function randomBytesOf(c: RandomCase): Buffer {
  return c.header
    ? Buffer.concat([Buffer.from([1, c.sealed ? codec.id : 0]), c.bytes])
    : Buffer.from(c.bytes);
}

interface MutateCase {
  envelope: number;
  ops: Mutation[];
}

interface MoveCase {
  envelope: number;
  namespace: string;
  /** Another id, or none: the record's own id. */
  id: Uint8Array | undefined;
  /** Read with the other codec setting (plain where sealed is expected, or the reverse). */
  swapCodec: boolean;
}

interface CutCase {
  envelope: number;
  at: number;
}

const namespaceArb = fc.oneof(
  fc.constantFrom(...NAMESPACES),
  // Namespaces must be well-formed Unicode (the stores refuse lone surrogates, which UTF-8 would
  // merge into one namespace), so only well-formed strings are offered; 'binary' units are code
  // points, never lone surrogates.
  fc.string({ maxLength: 6, unit: 'binary' }),
  fc.string({ maxLength: 6, unit: fc.constantFrom('\uD83D\uDE00', '\uD83D\uDE01', 'a', '\uFFFD') }),
);

/** The stored-record targets. */
export function storedRecordTargets(): AnyTarget[] {
  return [
    property<RandomCase>({
      name: 'stored-record/random',
      weight: 3,
      arbitrary: () =>
        fc.record({
          bytes: fc.uint8Array({ maxLength: 800 }),
          header: fc.boolean(),
          namespace: fc.nat(NAMESPACES.length - 1),
          id: fc.uint8Array({ maxLength: 40 }),
          sealed: fc.boolean(),
        }),
      run: (c) => void decodeOrCode(randomBytesOf(c), NAMESPACES[c.namespace]!, c.id, c.sealed),
      reproducer: (c) => hexOf(randomBytesOf(c)),
    }),
    property<MutateCase>({
      name: 'stored-record/mutate',
      weight: 6,
      arbitrary: () => fc.record({ envelope: fc.nat(), ops: mutationsArb(5) }),
      run: (c, corpus) => {
        const e = pick(envelopesOf(corpus), c.envelope);
        const bytes = applyMutations(e.bytes, e.fields, c.ops);
        const result = decodeOrCode(bytes, e.namespace, e.id, e.sealed);
        if (typeof result === 'string' || bytes.equals(e.bytes)) return;
        // A sealed record changed in any way must never open; a plain one may (a flip inside the
        // DER's values), but then only as the session stored under this very key.
        expectThat(!e.sealed, 'a tampered sealed record decoded');
      },
      reproducer: (c, corpus) => {
        const e = pick(envelopesOf(corpus), c.envelope);
        return hexOf(applyMutations(e.bytes, e.fields, c.ops));
      },
    }),
    property<MoveCase>({
      name: 'stored-record/moved',
      weight: 2,
      arbitrary: () =>
        fc.record({
          envelope: fc.nat(),
          namespace: namespaceArb,
          id: fc.oneof(
            { weight: 2, arbitrary: fc.constant(undefined) },
            { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 33 }) },
            { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
          ),
          swapCodec: fc.boolean(),
        }),
      run: (c, corpus) => {
        const e = pick(envelopesOf(corpus), c.envelope);
        const sealed = c.swapCodec ? !e.sealed : e.sealed;
        const id = c.id ?? e.id;
        const result = decodeOrCode(e.bytes, c.namespace, id, sealed);
        const sameKey = c.namespace === e.namespace && Buffer.from(id).equals(e.id);
        if (c.swapCodec) {
          // Under its own key only the codec is wrong; under another key either check may refuse
          // it first, but it must be refused.
          expectThat(
            sameKey ? result === 'CODEC_MISMATCH' : typeof result === 'string',
            () => `read with the wrong codec: ${typeof result === 'string' ? result : 'decoded'}`,
          );
          return;
        }
        if (sameKey) {
          expectThat(
            typeof result !== 'string',
            () => `a record read under its own key fails: ${String(result)}`,
          );
          expectThat(
            Buffer.from(result.data).equals(e.der),
            'decoded DER differs from the stored one',
          );
        } else if (typeof result !== 'string') {
          throw new PropertyViolation(
            `a record stored under namespace ${JSON.stringify(e.namespace)} decodes under ${JSON.stringify(c.namespace)}`,
          );
        }
      },
      reproducer: (c, corpus) => {
        const e = pick(envelopesOf(corpus), c.envelope);
        return JSON.stringify({
          bytes: hexOf(e.bytes),
          storedUnder: { namespace: e.namespace, id: hexOf(e.id) },
          readUnder: { namespace: c.namespace, id: hexOf(c.id ?? e.id) },
          codec: c.swapCodec ? !e.sealed : e.sealed,
        });
      },
    }),
    enumeration<CutCase>({
      name: 'stored-record/truncate',
      weight: 1,
      cases: (corpus) =>
        envelopesOf(corpus).flatMap((e, envelope) =>
          Array.from({ length: e.bytes.length }, (_, at) => ({ envelope, at })),
        ),
      run: (c, corpus) => {
        const e = pick(envelopesOf(corpus), c.envelope);
        const result = decodeOrCode(e.bytes.subarray(0, c.at), e.namespace, e.id, e.sealed);
        // A cut sealed record fails in the codec: by its length, or by its tag.
        const want: readonly StoredSessionErrorCode[] =
          e.sealed && c.at >= 2 ? ['TRUNCATED', 'AUTHENTICATION_FAILED'] : ['TRUNCATED'];
        expectThat(
          typeof result === 'string' && want.includes(result),
          () =>
            `cut at ${c.at} gives ${typeof result === 'string' ? result : 'a record'}, not ${want.join(' or ')}`,
        );
      },
      reproducer: (c, corpus) =>
        hexOf(pick(envelopesOf(corpus), c.envelope).bytes.subarray(0, c.at)),
    }),
  ];
}
