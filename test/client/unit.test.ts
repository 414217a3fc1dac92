// Pure parts of the client cache: the origin key, options, error classification, the envelope.
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ClientSessionCache, isTlsFailure } from '../../src/client/client-session-cache.js';
import { originKeyOf } from '../../src/client/origin-key.js';
import {
  decodeClientSession,
  encodeClientSession,
} from '../../src/client/stored-client-session.js';
import { StoredSessionError } from '../../src/session/stored-record.js';

const base = { host: 'api.example.com', port: 443 };

describe('originKeyOf', () => {
  it('separates every option that must match for resumption', () => {
    const variants: tls.ConnectionOptions[] = [
      {},
      { port: 8443 },
      { host: 'other.example.com' },
      { servername: 'b.example.com' },
      { ALPNProtocols: ['h2'] },
      { minVersion: 'TLSv1.3' },
      { maxVersion: 'TLSv1.2' },
      { ca: 'CA PEM' },
      { cert: 'CERT', key: 'KEY' },
      { cert: 'CERT', key: 'OTHER KEY' },
      { rejectUnauthorized: false },
      { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' },
      { checkServerIdentity: () => undefined },
      { secureContext: tls.createSecureContext() },
    ];
    const namespaces = variants.map((v) => originKeyOf({ ...base, ...v }).namespace);
    expect(new Set(namespaces).size).toBe(variants.length);
  });

  it('is stable, case-insensitive in host names, and equal for spelled-out defaults', () => {
    const a = originKeyOf(base);
    expect(originKeyOf({ ...base, host: 'API.example.com' }).namespace).toBe(a.namespace);
    expect(
      originKeyOf({ ...base, servername: 'api.example.com', rejectUnauthorized: true }).namespace,
    ).toBe(a.namespace);
    expect(originKeyOf({ ...base, maxVersion: tls.DEFAULT_MAX_VERSION }).namespace).toBe(
      a.namespace,
    );
    expect(a.namespace).toMatch(/^client\/[A-Za-z0-9_-]{43}$/);
    expect(a.label).toBe('api.example.com:443');
  });

  it('never puts a secret in the namespace or label', () => {
    const key = originKeyOf({ ...base, key: 'SECRET-KEY-MATERIAL', passphrase: 'hunter2' });
    expect(JSON.stringify(key)).not.toMatch(/SECRET|hunter2/);
  });

  it('throws TypeError for a bad host or port', () => {
    expect(() => originKeyOf({ host: 1 as unknown as string })).toThrow(TypeError);
    expect(() => originKeyOf({ port: 70000 })).toThrow(/options\.port/);
  });
});

describe('ClientSessionCache options', () => {
  it('names the bad option', () => {
    expect(() => new ClientSessionCache({ ticketsPerOrigin: 0 })).toThrow(/ticketsPerOrigin/);
    expect(() => new ClientSessionCache({ ticketsPerOrigin: 33 })).toThrow(RangeError);
    expect(() => new ClientSessionCache({ keep: 'never' as 'immediately' })).toThrow(/keep/);
    expect(() => new ClientSessionCache({ clock: 5 as unknown as () => number })).toThrow(/clock/);
    expect(() => new ClientSessionCache({ codec: { id: 0 } as never })).toThrow(/codec/);
    expect(() => new ClientSessionCache({ store: {} as never })).toThrow(/store/);
  });
});

describe('isTlsFailure', () => {
  it('tells TLS failures from transport errors and HTTP clients’ routine closes', () => {
    expect(
      isTlsFailure(
        Object.assign(new Error('bad record mac'), {
          library: 'SSL routines',
          code: 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC',
        }),
      ),
    ).toBe(true);
    expect(
      isTlsFailure(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })),
    ).toBe(true);
    expect(isTlsFailure(new Error('unknown'))).toBe(true);
    expect(isTlsFailure(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isTlsFailure(Object.assign(new Error('closed'), { code: 'UND_ERR_INFO' }))).toBe(false);
  });
});

describe('stored client session envelope', () => {
  const der = Buffer.from('30030201', 'hex');
  const slot = Uint8Array.of(1);
  it('round-trips and refuses another namespace, format or truncation with StoredSessionError', () => {
    const value = encodeClientSession(der, 'client/a', slot, undefined);
    expect(decodeClientSession(value, 'client/a', slot, undefined)).toEqual(der);
    const codes = [
      () => decodeClientSession(value, 'client/b', slot, undefined),
      () => decodeClientSession(value.subarray(0, value.length - 1), 'client/a', slot, undefined),
      () => decodeClientSession(Uint8Array.of(1, 0, 0), 'client/a', slot, undefined),
      () =>
        decodeClientSession(value, 'client/a', slot, { id: 3, encode: (b) => b, decode: (b) => b }),
    ].map((f) => {
      try {
        f();
        return 'none';
      } catch (error) {
        expect(error).toBeInstanceOf(StoredSessionError);
        expect(String(error)).not.toContain(der.toString('hex'));
        return (error as StoredSessionError).code;
      }
    });
    expect(codes).toEqual([
      'NAMESPACE_MISMATCH',
      'BAD_FORMAT',
      'UNSUPPORTED_VERSION',
      'CODEC_MISMATCH',
    ]);
  });
});
