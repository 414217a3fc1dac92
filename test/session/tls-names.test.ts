// The committed cipher-suite table against the local `openssl` binary it was generated from, and
// the protocol / group names against OpenSSL's spelling.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CIPHER_SUITE_TABLE } from '../../src/session/cipher-suite-table.js';
import {
  cipherSuiteById,
  namedGroupName,
  protocolVersionName,
} from '../../src/session/tls-names.js';

const TLS13_SUITES =
  'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:' +
  'TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256';

function opensslCiphers(): { id: number; name: string; standardName: string; proto: string }[] {
  const text = execFileSync(
    'openssl',
    ['ciphers', '-stdname', '-V', '-ciphersuites', TLS13_SUITES, 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  ).toString();
  return text
    .trim()
    .split('\n')
    .map((line) => {
      // "0x13,0x01 - TLS_AES_128_GCM_SHA256 - TLS_AES_128_GCM_SHA256 TLSv1.3 Kx=any ..."
      const [hex = '', , standardName = '', , name = '', proto = ''] = line.trim().split(/\s+/);
      const [hi = '', lo = ''] = hex.split(',');
      return { id: Number(hi) * 256 + Number(lo), name, standardName, proto };
    });
}

describe('cipher suite table', () => {
  it('has every suite the local openssl knows, with the same names', () => {
    const listed = opensslCiphers();
    expect(listed.length).toBeGreaterThan(100);
    for (const c of listed) {
      expect(cipherSuiteById(c.id), `0x${c.id.toString(16)} ${c.name}`).toEqual({
        id: c.id,
        name: c.name,
        standardName: c.standardName,
        minProtocol: c.proto,
      });
    }
    const version = execFileSync('openssl', ['version']).toString();
    // Generated from 3.0: against 3.0 the table must be exactly what openssl lists.
    if (version.startsWith('OpenSSL 3.0.')) expect(CIPHER_SUITE_TABLE).toHaveLength(listed.length);
  });

  it('is sorted by id without duplicates', () => {
    for (let i = 1; i < CIPHER_SUITE_TABLE.length; i++) {
      expect(CIPHER_SUITE_TABLE[i]![0]).toBeGreaterThan(CIPHER_SUITE_TABLE[i - 1]![0]);
    }
  });

  it('knows the suites Node negotiates and nothing for unassigned ids', () => {
    expect(cipherSuiteById(0x1302)?.name).toBe('TLS_AES_256_GCM_SHA384');
    expect(cipherSuiteById(0xc02b)?.name).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
    expect(cipherSuiteById(0xc02b)?.standardName).toBe('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
    expect(cipherSuiteById(0x1305)?.minProtocol).toBe('TLSv1.3');
    expect(cipherSuiteById(0x00ff)).toBeUndefined(); // the renegotiation SCSV is not a suite
    expect(cipherSuiteById(0xffff)).toBeUndefined();
  });
});

describe('protocol and group names', () => {
  it('names protocol versions as ssl_protocol_to_string does', () => {
    expect(protocolVersionName(0x0304)).toBe('TLSv1.3');
    expect(protocolVersionName(0x0303)).toBe('TLSv1.2');
    expect(protocolVersionName(0x0302)).toBe('TLSv1.1');
    expect(protocolVersionName(0x0301)).toBe('TLSv1');
    expect(protocolVersionName(0x0300)).toBe('SSLv3');
    expect(protocolVersionName(0xfefd)).toBe('DTLSv1.2');
    expect(protocolVersionName(0xfeff)).toBe('DTLSv1');
    expect(protocolVersionName(0x0100)).toBe('DTLSv0.9');
    expect(protocolVersionName(0x0305)).toBeUndefined();
  });

  it('names the common key-exchange groups', () => {
    expect(namedGroupName(0x001d)).toBe('x25519');
    expect(namedGroupName(0x001e)).toBe('x448');
    expect(namedGroupName(0x0017)).toBe('secp256r1');
    expect(namedGroupName(0x0018)).toBe('secp384r1');
    expect(namedGroupName(0x0019)).toBe('secp521r1');
    expect(namedGroupName(0x0100)).toBe('ffdhe2048');
    expect(namedGroupName(0x0104)).toBe('ffdhe8192');
    expect(namedGroupName(0x11ec)).toBe('X25519MLKEM768');
    expect(namedGroupName(0)).toBeUndefined();
  });
});
