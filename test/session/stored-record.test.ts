// The stored value format: real sessions round-trip with their SNI and namespace; anything else —
// another key, another version, another codec, truncated, garbage — is a StoredSessionError and
// never another exception, and no error message carries secret bytes.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionRecordFromDer } from '../../src/session/session-record.js';
import { decodeSession } from '../../src/session/decode.js';
import { MAX_SESSION_DER_LENGTH } from '../../src/session/errors.js';
import {
  MAX_STORED_SESSION_BYTES,
  STORED_SESSION_VERSION,
  StoredSessionError,
  decodeStoredSession,
  encodeStoredSession,
  type StoredSessionCodec,
  type StoredSessionErrorCode,
} from '../../src/session/stored-record.js';
import { DEFAULT_MAX_VALUE_BYTES } from '../../src/stores/memory-store.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { nodeHandshake } from '../helpers/session-handshakes.js';

const numRuns = Number(process.env.FUZZ_RUNS ?? 300);
const NS = 'tenant/AbCdEf0123456789';

let pki: TestPki;
const ders: { name: string; der: Buffer }[] = [];

beforeAll(async () => {
  pki = makeTestPki();
  const tls12 = await nodeHandshake({ pki, version: 'TLSv1.2', servername: 'localhost' });
  const tls13 = await nodeHandshake({ pki, version: 'TLSv1.3', servername: 'localhost' });
  const cert = await nodeHandshake({ pki, version: 'TLSv1.3', clientCert: true });
  for (const [name, der] of [
    ['TLS 1.2', tls12.server[0]],
    ['TLS 1.3', tls13.server[0]],
    ['TLS 1.3 with a client certificate', cert.server[0]],
  ] as const) {
    if (der === undefined) throw new Error(`no ${name} session`);
    ders.push({ name, der });
  }
});
afterAll(() => pki.cleanup());

function codeOf(fn: () => unknown): StoredSessionErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof StoredSessionError) return error.code;
    throw error;
  }
}

/** A test codec: XOR with a keystream bound to the key (namespace, id). Not cryptography. */
function xorCodec(id = 7, secret = 'k'): StoredSessionCodec & { calls: number } {
  const stream = (length: number, ns: string, sid: Uint8Array): Buffer => {
    const out = Buffer.alloc(length);
    let block = Buffer.alloc(0);
    for (let i = 0; i < length; i++) {
      if (i % 32 === 0) {
        block = createHash('sha256')
          .update(secret)
          .update(ns)
          .update(sid)
          .update(String(i))
          .digest();
      }
      out[i] = block[i % 32]!;
    }
    return out;
  };
  const tag = (body: Uint8Array, ns: string, sid: Uint8Array): Buffer =>
    createHash('sha256').update(secret).update(ns).update(sid).update(body).digest().subarray(0, 8);
  const codec = {
    id,
    calls: 0,
    encode(body: Uint8Array, { namespace, id: sid }: { namespace: string; id: Uint8Array }) {
      codec.calls++;
      const s = stream(body.length, namespace, sid);
      const sealed = Buffer.from(body.map((b, i) => b ^ s[i]!));
      return Buffer.concat([sealed, tag(body, namespace, sid)]);
    },
    decode(payload: Uint8Array, { namespace, id: sid }: { namespace: string; id: Uint8Array }) {
      const sealed = payload.subarray(0, payload.length - 8);
      const s = stream(sealed.length, namespace, sid);
      const body = Buffer.from(sealed.map((b, i) => b ^ s[i]!));
      if (!tag(body, namespace, sid).equals(payload.subarray(payload.length - 8))) {
        throw new Error('authentication failed: secret key material 0xDEADBEEF');
      }
      return body;
    },
  };
  return codec;
}

describe('encodeStoredSession / decodeStoredSession', () => {
  it('round-trips real TLS 1.2 and 1.3 sessions with their SNI host name and namespace', () => {
    for (const { name, der } of ders) {
      for (const host of ['localhost', undefined]) {
        const record = sessionRecordFromDer(der, NS, host);
        const bytes = encodeStoredSession(record);
        expect(bytes[0], name).toBe(STORED_SESSION_VERSION);
        expect(bytes.byteLength).toBeLessThan(der.length + 64);
        const back = decodeStoredSession(bytes, NS, record.id);
        expect(back, name).toEqual(record);
        expect(Buffer.from(back.data).equals(der)).toBe(true);
      }
    }
  });

  it('keeps the host name a Node server never writes into the session', () => {
    const { der } = ders[0]!;
    // The premise: Node's server-side session has no SNI of its own.
    expect(decodeSession(der).hostName).toBeUndefined();
    const record = sessionRecordFromDer(der, NS, 'Example.COM');
    expect(record.hostName).toBe('example.com');
    const back = decodeStoredSession(encodeStoredSession(record), NS, record.id);
    expect(back.hostName).toBe('example.com');
    const none = sessionRecordFromDer(der, NS);
    expect(decodeStoredSession(encodeStoredSession(none), NS, none.id).hostName).toBeUndefined();
  });

  it('refuses a value moved to another key: other namespace, other id', () => {
    const record = sessionRecordFromDer(ders[1]!.der, NS, 'localhost');
    const bytes = encodeStoredSession(record);
    const otherId = Buffer.from(record.id);
    otherId[0]! ^= 1;
    expect(codeOf(() => decodeStoredSession(bytes, `${NS}x`, record.id))).toBe(
      'NAMESPACE_MISMATCH',
    );
    expect(codeOf(() => decodeStoredSession(bytes, '', record.id))).toBe('NAMESPACE_MISMATCH');
    expect(codeOf(() => decodeStoredSession(bytes, NS, otherId))).toBe('ID_MISMATCH');
    expect(codeOf(() => decodeStoredSession(bytes, NS, record.id.subarray(1)))).toBe('ID_MISMATCH');
  });

  it('refuses other versions and codecs, bad flags, bad lengths and trailing bytes', () => {
    const record = sessionRecordFromDer(ders[0]!.der, NS, 'localhost');
    const good = Buffer.from(encodeStoredSession(record));
    const mutate = (f: (b: Buffer) => Buffer | void): Buffer => {
      const copy = Buffer.from(good);
      return f(copy) ?? copy;
    };
    const decode = (b: Uint8Array) => () => decodeStoredSession(b, NS, record.id);
    expect(codeOf(decode(mutate((b) => void (b[0] = 2))))).toBe('UNSUPPORTED_VERSION');
    expect(codeOf(decode(mutate((b) => void (b[0] = 0))))).toBe('UNSUPPORTED_VERSION');
    expect(codeOf(decode(mutate((b) => void (b[1] = 1))))).toBe('CODEC_MISMATCH');
    expect(codeOf(decode(mutate((b) => void (b[2] = 0x03))))).toBe('BAD_FORMAT');
    expect(codeOf(decode(mutate((b) => void b.writeUInt16BE(0xffff, 3))))).toBe('BAD_FORMAT');
    expect(codeOf(decode(Buffer.concat([good, Buffer.of(0)])))).toBe('BAD_FORMAT');
    expect(codeOf(decode(Buffer.alloc(0)))).toBe('TRUNCATED');
    expect(codeOf(decode(Buffer.of(1)))).toBe('TRUNCATED');
    // The DER length field (after flags, namespace and host name): 0 and over the cap.
    const derLengthAt = 2 + 1 + 2 + Buffer.byteLength(NS) + 1 + 'localhost'.length;
    expect(good.readUInt32BE(derLengthAt)).toBe(ders[0]!.der.length);
    expect(codeOf(decode(mutate((b) => void b.writeUInt32BE(0, derLengthAt))))).toBe('BAD_FORMAT');
    expect(
      codeOf(decode(mutate((b) => void b.writeUInt32BE(MAX_SESSION_DER_LENGTH + 1, derLengthAt)))),
    ).toBe('BAD_FORMAT');
    // A DER that is not a session (its first byte is the SEQUENCE tag).
    expect(codeOf(decode(mutate((b) => void (b[derLengthAt + 4] = 0x31))))).toBe('BAD_SESSION');
    expect(codeOf(() => decodeStoredSession('x' as unknown as Uint8Array, NS, record.id))).toBe(
      'BAD_INPUT',
    );
  });

  it('every truncation of a valid value is TRUNCATED, never another exception', () => {
    for (const { der } of ders) {
      const record = sessionRecordFromDer(der, NS, 'localhost');
      const good = encodeStoredSession(record);
      for (let length = 0; length < good.length; length++) {
        expect(codeOf(() => decodeStoredSession(good.subarray(0, length), NS, record.id))).toBe(
          'TRUNCATED',
        );
      }
    }
  });

  it('fuzz: random bytes and mutated real values decode for their key or throw StoredSessionError', () => {
    const records = ders.map(({ der }) => sessionRecordFromDer(der, NS, 'localhost'));
    const encoded = records.map((r) => Buffer.from(encodeStoredSession(r)));
    fc.assert(
      fc.property(
        fc.nat(records.length - 1),
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }).map((bytes) => ({ kind: 'random' as const, bytes })),
          fc
            .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
              minLength: 1,
              maxLength: 4,
            })
            .map((flips) => ({ kind: 'flips' as const, flips })),
        ),
        (which, input) => {
          const record = records[which]!;
          let bytes: Buffer;
          if (input.kind === 'random') {
            bytes = Buffer.from(input.bytes);
            if (bytes.length >= 2) bytes[0] = STORED_SESSION_VERSION; // get past the version byte
          } else {
            bytes = Buffer.from(encoded[which]!);
            for (const [at, value] of input.flips) bytes[at % bytes.length] = value;
          }
          try {
            const back = decodeStoredSession(bytes, NS, record.id);
            expect(Buffer.from(back.id).equals(Buffer.from(record.id))).toBe(true);
            expect(back.namespace).toBe(NS);
          } catch (error) {
            if (!(error instanceof StoredSessionError)) throw error;
          }
        },
      ),
      { numRuns },
    );
  });

  it('error messages never carry the session’s secret or its bytes', () => {
    const { der } = ders[1]!;
    const record = sessionRecordFromDer(der, NS, 'localhost');
    const secret = decodeSession(der).masterSecret();
    const good = Buffer.from(encodeStoredSession(record));
    const messages: string[] = [];
    for (let at = 0; at < good.length; at++) {
      for (const value of [0x00, 0xff, good[at]! ^ 0x80]) {
        const bytes = Buffer.from(good);
        bytes[at] = value;
        try {
          decodeStoredSession(bytes, NS, record.id);
        } catch (error) {
          messages.push((error as Error).message);
        }
      }
    }
    expect(messages.length).toBeGreaterThan(good.length);
    for (const message of messages) {
      expect(message).not.toContain(secret.toString('hex').slice(0, 16));
      expect(message).not.toContain(secret.toString('hex').slice(0, 16).toUpperCase());
      expect(message).not.toContain(secret.toString('base64').slice(0, 12));
      expect(message).not.toContain(secret.toString('latin1').slice(0, 6));
    }
  });

  it('encode refuses what it cannot store, naming the field', () => {
    const record = sessionRecordFromDer(ders[0]!.der, NS, 'localhost');
    expect(() => encodeStoredSession({ ...record, namespace: 'a\u0000b' })).toThrow(/namespace/);
    expect(() => encodeStoredSession({ ...record, namespace: 'x'.repeat(1025) })).toThrow(
      RangeError,
    );
    expect(() => encodeStoredSession({ ...record, id: new Uint8Array(33) })).toThrow(/id must be/);
    expect(() => encodeStoredSession({ ...record, id: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => encodeStoredSession({ ...record, data: new Uint8Array(0) })).toThrow(
      /record.data/,
    );
    expect(() => encodeStoredSession({ ...record, hostName: 'h'.repeat(256) })).toThrow(/hostName/);
    expect(() => encodeStoredSession({ ...record, hostName: 'bücher.例' })).toThrow(/hostName/);
    expect(() => encodeStoredSession(null as never)).toThrow(TypeError);
  });

  it('the largest session fits the stores’ default maxValueBytes', () => {
    expect(DEFAULT_MAX_VALUE_BYTES).toBeGreaterThanOrEqual(MAX_STORED_SESSION_BYTES);
  });
});

describe('the codec seam (encryption at rest comes later)', () => {
  it('round-trips through a codec bound to the key, which then alone is accepted', () => {
    const codec = xorCodec();
    const record = sessionRecordFromDer(ders[1]!.der, NS, 'localhost');
    const sealed = encodeStoredSession(record, { codec });
    expect(sealed[0]).toBe(STORED_SESSION_VERSION);
    expect(sealed[1]).toBe(7);
    // The DER does not appear in the stored bytes.
    expect(Buffer.from(sealed).includes(ders[1]!.der.subarray(0, 24))).toBe(false);
    expect(decodeStoredSession(sealed, NS, record.id, { codec })).toEqual(record);
    // A plain value where a codec is required: refused (no planting unencrypted sessions).
    const plain = encodeStoredSession(record);
    expect(codeOf(() => decodeStoredSession(plain, NS, record.id, { codec }))).toBe(
      'CODEC_MISMATCH',
    );
    // A sealed value read without the codec, or with another one.
    expect(codeOf(() => decodeStoredSession(sealed, NS, record.id))).toBe('CODEC_MISMATCH');
    const other = xorCodec(8);
    expect(codeOf(() => decodeStoredSession(sealed, NS, record.id, { codec: other }))).toBe(
      'CODEC_MISMATCH',
    );
  });

  it('a sealed value moved to another key fails in the codec, and its error is not passed on', () => {
    const codec = xorCodec();
    const record = sessionRecordFromDer(ders[0]!.der, NS, 'localhost');
    const sealed = encodeStoredSession(record, { codec });
    let error: unknown;
    try {
      decodeStoredSession(sealed, 'other', record.id, { codec });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoredSessionError);
    expect((error as StoredSessionError).code).toBe('CODEC_MISMATCH');
    expect((error as Error).message).not.toContain('DEADBEEF');
    expect((error as Error).cause).toBeUndefined();
  });

  it('refuses a malformed codec with a TypeError/RangeError naming it', () => {
    const record = sessionRecordFromDer(ders[0]!.der, NS);
    expect(() => encodeStoredSession(record, { codec: { id: 0 } as never })).toThrow(/codec/);
    expect(() => encodeStoredSession(record, { codec: { ...xorCodec(), id: 0 } })).toThrow(
      /codec.id/,
    );
    expect(() => encodeStoredSession(record, { codec: { ...xorCodec(), id: 256 } })).toThrow(
      RangeError,
    );
  });
});

describe('namespaces that only a lossy encoding would merge', () => {
  it('are refused by encode, and no value decodes under them', () => {
    const record = sessionRecordFromDer(ders[0]!.der, 'n/\uFFFD', 'localhost');
    const bytes = encodeStoredSession(record);
    expect(() => encodeStoredSession({ ...record, namespace: 'n/\uD800' })).toThrow(
      /well-formed Unicode/,
    );
    // UTF-8 would encode both as EF BF BD; the lone surrogate never matches.
    expect(codeOf(() => decodeStoredSession(bytes, 'n/\uD800', record.id))).toBe(
      'NAMESPACE_MISMATCH',
    );
    expect(codeOf(() => decodeStoredSession(bytes, 'n/\uDC00', record.id))).toBe(
      'NAMESPACE_MISMATCH',
    );
    expect(decodeStoredSession(bytes, 'n/\uFFFD', record.id).namespace).toBe('n/\uFFFD');
    // A well-formed pair is a character, not a lone surrogate.
    const emoji = sessionRecordFromDer(ders[0]!.der, 'n/\u{1F600}', 'localhost');
    expect(decodeStoredSession(encodeStoredSession(emoji), 'n/\u{1F600}', emoji.id).id).toEqual(
      emoji.id,
    );
  });
});
