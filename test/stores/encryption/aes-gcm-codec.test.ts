// AES-256-GCM encryption at rest on real sessions: round trips; every single-byte change, every
// truncation, a move to another id or namespace, a retired key and a planted plain or oversize
// value are refused with a stable code; rotation reads old records and writes new ones under the
// new key; no key or master secret byte shows in stored values, errors, inspect or JSON.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionRecordFromDer, type SessionRecord } from '../../../src/session/session-record.js';
import { decodeSession } from '../../../src/session/decode.js';
import { storeCallbacks } from '../../../src/stores/cache-adapter.js';
import {
  AES_GCM_NONCE_BYTES,
  AES_GCM_TAG_BYTES,
} from '../../../src/stores/encryption/aes-gcm-codec.js';
import {
  AES_256_GCM_CODEC_ID,
  AesGcmCodec,
  Keyring,
  MAX_SEALED_SESSION_BYTES,
} from '../../../src/stores/encryption/index.js';
import { DEFAULT_MAX_VALUE_BYTES, MemoryStore } from '../../../src/stores/memory-store.js';
import {
  STORED_SESSION_VERSION,
  StoredSessionError,
  decodeStoredSession,
  encodeStoredSession,
  type StoredSessionErrorCode,
} from '../../../src/session/stored-record.js';
import { makeTestPki, type TestPki } from '../../helpers/certs.js';
import { nodeHandshake } from '../../helpers/session-handshakes.js';

const NS = 'tenant-a/0123456789abcdef';
const KEY1 = randomBytes(32);
const KEY2 = randomBytes(32);

let pki: TestPki;
let tls12: SessionRecord;
let tls13: SessionRecord[];

beforeAll(async () => {
  pki = makeTestPki();
  const a = await nodeHandshake({ pki, version: 'TLSv1.2', servername: 'localhost' });
  const b = await nodeHandshake({ pki, version: 'TLSv1.3', servername: 'localhost' });
  tls12 = sessionRecordFromDer(a.server[0]!, NS, 'localhost');
  tls13 = b.server.map((der) => sessionRecordFromDer(der, NS, 'localhost'));
  expect(tls13.length).toBe(2);
});
afterAll(() => pki.cleanup());

const ring = (...keys: [string, Buffer][]): Keyring =>
  new Keyring(keys.map(([id, key]) => ({ id, key })));

function codeOf(fn: () => unknown): StoredSessionErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof StoredSessionError) return error.code;
    throw error;
  }
}

/** Every encoding of key material a test could leak. */
function secretForms(bytes: Buffer): string[] {
  return [
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    bytes.toString('base64'),
    bytes.toString('base64url'),
  ];
}

describe('AesGcmCodec', () => {
  it('round-trips TLS 1.2 and 1.3 sessions, and seals what a plain envelope shows', () => {
    const codec = new AesGcmCodec(ring(['k1', KEY1]));
    for (const record of [tls12, ...tls13]) {
      const sealed = Buffer.from(encodeStoredSession(record, { codec }));
      expect(sealed[0]).toBe(STORED_SESSION_VERSION);
      expect(sealed[1]).toBe(AES_256_GCM_CODEC_ID);
      expect(decodeStoredSession(sealed, NS, record.id, { codec })).toEqual(record);
      // Neither the master secret, nor the DER, nor the namespace or host name are readable.
      const master = decodeSession(record.data).masterSecret();
      expect(master.length).toBeGreaterThanOrEqual(32);
      expect(sealed.includes(master)).toBe(false);
      expect(sealed.includes(Buffer.from(record.data).subarray(0, 24))).toBe(false);
      expect(sealed.includes(Buffer.from(NS))).toBe(false);
      expect(sealed.includes(Buffer.from('localhost'))).toBe(false);
      // Exactly the documented overhead: key id length + id, nonce, tag.
      const plain = encodeStoredSession(record);
      expect(sealed.length).toBe(plain.length + 1 + 2 + AES_GCM_NONCE_BYTES + AES_GCM_TAG_BYTES);
      // The key id is the only readable thing: the reader must know which key to use.
      expect(sealed.subarray(2, 5).toString('latin1')).toBe('\u0002k1');
    }
  });

  it('uses a fresh random nonce for every record', () => {
    const codec = new AesGcmCodec(ring(['k1', KEY1]));
    const nonces = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const sealed = Buffer.from(encodeStoredSession(tls12, { codec }));
      nonces.add(sealed.subarray(5, 5 + AES_GCM_NONCE_BYTES).toString('hex'));
    }
    expect(nonces.size).toBe(200);
  });

  it('refuses a record with any single byte changed, at every position', () => {
    const codec = new AesGcmCodec(ring(['k1', KEY1]));
    for (const record of [tls12, tls13[0]!]) {
      const sealed = Buffer.from(encodeStoredSession(record, { codec }));
      for (let i = 0; i < sealed.length; i++) {
        for (const mask of [0x01, 0x80, 0xff]) {
          const bad = Buffer.from(sealed);
          bad[i]! ^= mask;
          const code = codeOf(() => decodeStoredSession(bad, NS, record.id, { codec }));
          // Header (version, codec) and key id: refused by their checks; past them (nonce,
          // ciphertext, tag) every change is caught by the tag itself.
          if (i >= 5) expect(code, `byte ${i} ^ ${mask}`).toBe('AUTHENTICATION_FAILED');
          else expect(code, `byte ${i} ^ ${mask}`).not.toBe('ok');
        }
      }
    }
  });

  it('refuses every truncation and any appended byte', () => {
    const codec = new AesGcmCodec(ring(['k1', KEY1]));
    const sealed = Buffer.from(encodeStoredSession(tls12, { codec }));
    for (let n = 0; n < sealed.length; n++) {
      expect(
        codeOf(() => decodeStoredSession(sealed.subarray(0, n), NS, tls12.id, { codec })),
      ).not.toBe('ok');
    }
    const longer = Buffer.concat([sealed, Buffer.from([0])]);
    expect(codeOf(() => decodeStoredSession(longer, NS, tls12.id, { codec }))).toBe(
      'AUTHENTICATION_FAILED',
    );
  });

  it('binds a record to its namespace and id in the cipher itself (associated data)', () => {
    const codec = new AesGcmCodec(ring(['k1', KEY1]));
    const payload = codec.encode(Buffer.from('a body the envelope would hold'), {
      namespace: NS,
      id: tls12.id,
    });
    expect(Buffer.from(codec.decode(payload, { namespace: NS, id: tls12.id })).toString()).toBe(
      'a body the envelope would hold',
    );
    const otherId = Buffer.from(tls12.id);
    otherId[0]! ^= 1;
    for (const context of [
      { namespace: NS, id: otherId },
      { namespace: 'tenant-b/0123456789abcdef', id: tls12.id },
      { namespace: '', id: tls12.id },
      { namespace: NS, id: tls12.id.subarray(1) },
    ]) {
      expect(codeOf(() => codec.decode(payload, context))).toBe('AUTHENTICATION_FAILED');
    }
    // Through the envelope: a value copied to another key (the TLS 1.3 tickets of one connection,
    // swapped) fails too.
    const [a, b] = tls13 as [SessionRecord, SessionRecord];
    const sealedA = encodeStoredSession(a, { codec });
    expect(codeOf(() => decodeStoredSession(sealedA, NS, b.id, { codec }))).toBe(
      'AUTHENTICATION_FAILED',
    );
    expect(
      codeOf(() => decodeStoredSession(sealedA, 'tenant-b/0123456789abcdef', a.id, { codec })),
    ).toBe('AUTHENTICATION_FAILED');
  });

  it('binds the key id, and refuses another format version', () => {
    const codec = new AesGcmCodec(ring(['k1', KEY1], ['k2', KEY1]));
    const sealed = Buffer.from(encodeStoredSession(tls12, { codec }));
    // The same key under another id: the key id is authenticated, not just a lookup hint.
    const relabelled = Buffer.from(sealed);
    relabelled.write('k2', 3, 'latin1');
    expect(codeOf(() => decodeStoredSession(relabelled, NS, tls12.id, { codec }))).toBe(
      'AUTHENTICATION_FAILED',
    );
    // The version and codec id are in the associated data too, but this release reads only one
    // of each, so the envelope refuses another before the codec runs.
    const otherVersion = Buffer.from(sealed);
    otherVersion[0] = 2;
    expect(codeOf(() => decodeStoredSession(otherVersion, NS, tls12.id, { codec }))).toBe(
      'UNSUPPORTED_VERSION',
    );
  });

  it('refuses a record under a retired key, or under another key of the same id', () => {
    const sealed = encodeStoredSession(tls12, { codec: new AesGcmCodec(ring(['k1', KEY1])) });
    expect(
      codeOf(() =>
        decodeStoredSession(sealed, NS, tls12.id, { codec: new AesGcmCodec(ring(['k2', KEY2])) }),
      ),
    ).toBe('KEY_RETIRED');
    expect(
      codeOf(() =>
        decodeStoredSession(sealed, NS, tls12.id, { codec: new AesGcmCodec(ring(['k1', KEY2])) }),
      ),
    ).toBe('AUTHENTICATION_FAILED');
  });

  it('rotation: old records still open after a new first key is added; new ones use it', () => {
    const before = new AesGcmCodec(ring(['k1', KEY1]));
    const during = new AesGcmCodec(ring(['k2', KEY2], ['k1', KEY1]));
    const after = new AesGcmCodec(ring(['k2', KEY2]));
    const old = encodeStoredSession(tls12, { codec: before });
    expect(decodeStoredSession(old, NS, tls12.id, { codec: during })).toEqual(tls12);
    const fresh = Buffer.from(encodeStoredSession(tls12, { codec: during }));
    expect(fresh.subarray(2, 5).toString('latin1')).toBe('\u0002k2');
    expect(decodeStoredSession(fresh, NS, tls12.id, { codec: during })).toEqual(tls12);
    expect(decodeStoredSession(fresh, NS, tls12.id, { codec: after })).toEqual(tls12);
    // A process still on the old ring cannot read the new key's records (hence: add second first).
    expect(codeOf(() => decodeStoredSession(fresh, NS, tls12.id, { codec: before }))).toBe(
      'KEY_RETIRED',
    );
    // Once k1 is retired, its records are refused.
    expect(codeOf(() => decodeStoredSession(old, NS, tls12.id, { codec: after }))).toBe(
      'KEY_RETIRED',
    );
    // Reading with the second key of a ring works as with the first.
    const during2 = new AesGcmCodec(ring(['k3', randomBytes(32)], ['k2', KEY2], ['k1', KEY1]));
    expect(decodeStoredSession(old, NS, tls12.id, { codec: during2 })).toEqual(tls12);
  });

  it('refuses a plain envelope when a key is configured, and a sealed one without', () => {
    const codec = new AesGcmCodec(ring(['k1', KEY1]));
    expect(
      codeOf(() => decodeStoredSession(encodeStoredSession(tls12), NS, tls12.id, { codec })),
    ).toBe('CODEC_MISMATCH');
    expect(
      codeOf(() => decodeStoredSession(encodeStoredSession(tls12, { codec }), NS, tls12.id)),
    ).toBe('CODEC_MISMATCH');
  });

  it('refuses an oversize value before decrypting it, even one sealed with the right key', () => {
    const codec = new AesGcmCodec(ring(['k1', KEY1]));
    const context = { namespace: NS, id: tls12.id };
    // Sealed by the codec itself, so only the size bound (not the tag) can refuse it.
    const huge = codec.encode(Buffer.alloc(MAX_SEALED_SESSION_BYTES), context);
    expect(codeOf(() => codec.decode(huge, context))).toBe('TOO_LARGE');
    const justOver = codec.encode(
      Buffer.alloc(MAX_SEALED_SESSION_BYTES - 2 - 1 - 2 - 12 - 16 + 1),
      context,
    );
    expect(codeOf(() => codec.decode(justOver, context))).toBe('TOO_LARGE');
    const value = Buffer.concat([
      Buffer.from([STORED_SESSION_VERSION, AES_256_GCM_CODEC_ID]),
      Buffer.alloc(1 << 20),
    ]);
    expect(codeOf(() => decodeStoredSession(value, NS, tls12.id, { codec }))).toBe('TOO_LARGE');
    // The largest sealed session fits the stores' default value bound.
    expect(MAX_SEALED_SESSION_BYTES).toBeLessThanOrEqual(DEFAULT_MAX_VALUE_BYTES);
  });

  it('shows key ids only in inspect, JSON and String, and no key bytes in any error', () => {
    const keyring = ring(['k1', KEY1], ['k2', KEY2]);
    const codec = new AesGcmCodec(keyring);
    const shown = [
      inspect(keyring, { showHidden: true, depth: 10 }),
      inspect(codec, { showHidden: true, depth: 10 }),
      inspect({ keyring, codec }, { showHidden: true, depth: 10 }),
      JSON.stringify({ keyring, codec }),
      String(keyring),
    ].join('\n');
    expect(shown).toContain('k1');
    expect(shown).toContain('k2');
    for (const form of [...secretForms(KEY1), ...secretForms(KEY2)])
      expect(shown).not.toContain(form);
    expect(JSON.parse(JSON.stringify(keyring))).toEqual({ writeKeyId: 'k1', ids: ['k1', 'k2'] });

    const sealed = Buffer.from(encodeStoredSession(tls12, { codec }));
    const master = decodeSession(tls12.data).masterSecret();
    const messages: string[] = [];
    for (let i = 0; i < sealed.length; i += 7) {
      const bad = Buffer.from(sealed);
      bad[i]! ^= 0x55;
      try {
        decodeStoredSession(bad, NS, tls12.id, { codec });
      } catch (error) {
        messages.push(String(error), inspect(error));
      }
    }
    const all = messages.join('\n');
    for (const form of [
      ...secretForms(KEY1),
      ...secretForms(master),
      ...secretForms(sealed.subarray(20, 36)),
    ]) {
      expect(all).not.toContain(form);
    }
  });

  it('refuses something that is not a Keyring', () => {
    expect(() => new AesGcmCodec({} as Keyring)).toThrow(TypeError);
    expect(() => new AesGcmCodec(undefined as unknown as Keyring)).toThrow(/keyring/);
  });
});

describe('storeCallbacks({ encryption })', () => {
  it('writes sealed values and reads them back; a plain adapter on the same store finds nothing', () => {
    const store = new MemoryStore();
    const adapter = storeCallbacks(store, { encryption: ring(['k1', KEY1]) });
    adapter.onNew(tls12);
    const value = Buffer.from(store.get(NS, tls12.id)!);
    expect(value[1]).toBe(AES_256_GCM_CODEC_ID);
    expect(value.includes(decodeSession(tls12.data).masterSecret())).toBe(false);
    expect(adapter.onGet(tls12.id, { singleUse: false, namespace: NS })).toEqual(tls12);

    const plain = storeCallbacks(store);
    expect(plain.onGet(tls12.id, { singleUse: false, namespace: NS })).toBeUndefined();
    expect(plain.stats().decodeErrors).toBe(1);
    // And the other way round: a planted plain value is refused by the encrypting adapter.
    plain.onNew(tls13[0]!);
    const errors: unknown[] = [];
    const reader = storeCallbacks(store, {
      encryption: { keys: [`k1:${KEY1.toString('base64')}`] },
      onError: (error) => errors.push(error),
    });
    expect(reader.onGet(tls13[0]!.id, { singleUse: true, namespace: NS })).toBeUndefined();
    expect(reader.stats()).toMatchObject({ reads: 1, found: 0, decodeErrors: 1 });
    expect((errors[0] as StoredSessionError).code).toBe('CODEC_MISMATCH');
  });

  it('reports why a value was refused through onError, with a stable code', () => {
    const store = new MemoryStore();
    const writer = storeCallbacks(store, { encryption: ring(['old', KEY1]) });
    writer.onNew(tls12);
    const errors: unknown[] = [];
    const reader = storeCallbacks(store, {
      encryption: ring(['new', KEY2]),
      onError: (error, operation) => errors.push([operation, (error as StoredSessionError).code]),
    });
    expect(reader.onGet(tls12.id, { singleUse: false, namespace: NS })).toBeUndefined();
    expect(errors).toEqual([['decode', 'KEY_RETIRED']]);
  });

  it('refuses bad encryption options with errors naming the option', () => {
    const store = new MemoryStore();
    expect(() => storeCallbacks(store, { encryption: { env: {} } })).toThrow(
      /^encryption: no key configured/,
    );
    expect(() => storeCallbacks(store, { encryption: { keys: [] } })).toThrow(RangeError);
    expect(() => storeCallbacks(store, { encryption: 'k1:abc' as never })).toThrow(TypeError);
    expect(() =>
      storeCallbacks(store, {
        encryption: ring(['k1', KEY1]),
        codec: new AesGcmCodec(ring(['k1', KEY1])),
      }),
    ).toThrow(/codec or encryption/);
    let message = '';
    try {
      storeCallbacks(store, { encryption: { keys: [`k1:${KEY1.toString('hex').slice(2)}`] } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^encryption: keys\[0\]/);
    expect(message).not.toContain(KEY1.toString('hex').slice(2, 40));
  });
});
