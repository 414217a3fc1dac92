// Synthetic sessions: every field 0–20 (including those no handshake here produces), future tags,
// and one malformed input per rejection rule. The all-fields session is first checked against
// OpenSSL itself: `sess_id` must load it and write back the identical bytes, which proves the
// layout (tags, order, types, zero-omission) the tests build is the one OpenSSL uses.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSession } from '../../src/session/decode.js';
import {
  MAX_SESSION_DER_LENGTH,
  MAX_SESSION_PEM_LENGTH,
  SessionDecodeError,
  type SessionDecodeErrorCode,
} from '../../src/session/errors.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import {
  buildSession,
  derInteger,
  derOctets,
  derSequence,
  explicit,
  tlv,
  type SyntheticSession,
} from '../helpers/session-der.js';
import {
  expectMatchesAsn1,
  expectMatchesOpenssl,
  opensslTextOfDer,
} from '../helpers/session-openssl.js';

let pki: TestPki;
let dir: string;
let clientCertDer: Buffer;
let spki: Buffer;
let full: SyntheticSession;

beforeAll(() => {
  pki = makeTestPki();
  dir = mkdtempSync(join(tmpdir(), 'tsc-synthetic-'));
  clientCertDer = new X509Certificate(pki.clientCert).raw;
  spki = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
  full = {
    sslVersion: 0x0304,
    cipher: Buffer.from([0x13, 0x01]),
    sessionId: Buffer.alloc(32, 0x5a),
    masterKey: Buffer.alloc(48, 0xa5),
    time: 1_700_000_000,
    timeout: 300,
    peer: clientCertDer,
    sidCtx: Buffer.from('my-context'),
    verifyResult: 20,
    hostname: 'example.com',
    pskIdentityHint: 'hint',
    pskIdentity: 'identity',
    tickLifetimeHint: 100,
    tick: Buffer.alloc(40, 9),
    compId: Buffer.from([1]),
    srpUsername: 'bob',
    flags: 1,
    tickAgeAdd: 0xfffffffe,
    maxEarlyData: 16384,
    alpn: 'h2',
    maxFragLenMode: 2,
    ticketAppdata: Buffer.from('app-data'),
    kexGroup: 0x0017,
  };
});
afterAll(() => {
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function opensslReencode(der: Buffer): { status: number | null; out: Buffer } {
  const file = join(dir, 'in.der');
  writeFileSync(file, der);
  const r = spawnSync('openssl', ['sess_id', '-inform', 'DER', '-in', file, '-outform', 'DER']);
  return { status: r.status, out: r.stdout };
}

function expectCode(input: Uint8Array | string, code: SessionDecodeErrorCode): SessionDecodeError {
  let caught: unknown;
  try {
    decodeSession(input);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SessionDecodeError);
  const error = caught as SessionDecodeError;
  expect(error.code, error.message).toBe(code);
  return error;
}

describe('all fields', () => {
  it('OpenSSL loads the synthetic session and writes back identical bytes', () => {
    const der = buildSession(full);
    const { status, out } = opensslReencode(der);
    expect(status).toBe(0);
    expect(out.equals(der)).toBe(true);
  });

  it('decodes tags 1–19 to the values written, matching sess_id -text and asn1parse', () => {
    const der = buildSession(full);
    const s = decodeSession(der);
    expectMatchesOpenssl(s, opensslTextOfDer(der));
    expectMatchesAsn1(s, der);
    expect(s.formatVersion).toBe(1);
    expect(s.protocolVersion).toBe(0x0304);
    expect(s.protocol).toBe('TLSv1.3');
    expect(s.cipherId).toBe(0x1301);
    expect(s.cipherName).toBe('TLS_AES_128_GCM_SHA256');
    expect(s.cipherStandardName).toBe('TLS_AES_128_GCM_SHA256');
    expect(s.sessionId.equals(Buffer.alloc(32, 0x5a))).toBe(true);
    expect(s.masterSecret().equals(Buffer.alloc(48, 0xa5))).toBe(true);
    expect(s.masterSecretLength).toBe(48);
    expect(s.keyArg).toBeUndefined();
    expect(s.time).toBe(1_700_000_000);
    expect(s.timeout).toBe(300);
    expect(s.expiresAt).toBe(1_700_000_300);
    expect(s.peerCertificate?.equals(clientCertDer)).toBe(true);
    expect(s.peerSubject).toBe('O=tls-session-cache\nCN=Test Client');
    expect(s.peerX509()?.raw.equals(clientCertDer)).toBe(true);
    expect(s.sessionIdContext?.toString()).toBe('my-context');
    expect(s.verifyResult).toBe(20);
    expect(s.hostName).toBe('example.com');
    expect(s.pskIdentityHint).toBe('hint');
    expect(s.pskIdentity).toBe('identity');
    expect(s.ticketLifetimeHint).toBe(100);
    expect(s.ticket()?.equals(Buffer.alloc(40, 9))).toBe(true);
    expect(s.ticketLength).toBe(40);
    expect(s.compressionId).toBe(1);
    expect(s.srpUsername).toBe('bob');
    expect(s.flags).toBe(1);
    expect(s.extendedMasterSecret).toBe(true);
    expect(s.ticketAgeAdd).toBe(0xfffffffe);
    expect(s.maxEarlyData).toBe(16384);
    expect(s.alpnProtocol).toBe('h2');
    expect(s.maxFragmentLengthMode).toBe(2);
    expect(s.ticketAppData()?.toString()).toBe('app-data');
    expect(s.ticketAppDataLength).toBe(8);
    expect(s.kexGroup).toBe(0x17);
    expect(s.kexGroupName).toBe('secp256r1');
    expect(s.peerRawPublicKey).toBeUndefined();
  });

  it('decodes key_arg [0] (implicit) and peer_rpk [20] (OpenSSL 3.2+)', () => {
    const s = decodeSession(
      buildSession({ ...full, keyArg: Buffer.from([1, 2, 3]), peerRpk: spki }),
    );
    expect(s.keyArg?.equals(Buffer.from([1, 2, 3]))).toBe(true);
    expect(s.peerRawPublicKey?.equals(spki)).toBe(true);
    expect(s.peerPublicKey()?.asymmetricKeyType).toBe('ed25519');
    // OpenSSL 3.0 itself refuses [20]: its template ends at [19].
    expect(opensslReencode(buildSession({ ...full, peerRpk: spki })).status).not.toBe(0);
  });

  it('returns copies of secrets, so wiping one does not change the session', () => {
    const s = decodeSession(buildSession(full));
    s.masterSecret().fill(0);
    s.ticket()?.fill(0);
    expect(s.masterSecret().equals(Buffer.alloc(48, 0xa5))).toBe(true);
    expect(s.ticket()?.equals(Buffer.alloc(40, 9))).toBe(true);
  });

  it('defaults: zero-default integers are 0 when absent, the rest undefined', () => {
    const s = decodeSession(
      buildSession({ sessionId: Buffer.alloc(0), masterKey: Buffer.alloc(0) }),
    );
    expect(s.sessionId).toHaveLength(0);
    expect(s.masterSecretLength).toBe(0);
    expect([s.time, s.timeout, s.verifyResult, s.ticketLifetimeHint, s.flags]).toEqual([
      0, 0, 0, 0, 0,
    ]);
    expect([s.ticketAgeAdd, s.maxEarlyData, s.maxFragmentLengthMode]).toEqual([0, 0, 0]);
    expect(s.kexGroup).toBeUndefined();
    expect(s.peerCertificate).toBeUndefined();
    expect(s.hostName).toBeUndefined();
    expect(s.ticket()).toBeUndefined();
    expect(s.alpnProtocol).toBeUndefined();
    expect(s.isExpired(1)).toBe(true);
  });

  it('host names and identities end at a NUL, as OpenSSL strndup()s them', () => {
    const s = decodeSession(buildSession({ hostname: 'abc\0def', pskIdentity: 'x\0y' }));
    expect(s.hostName).toBe('abc');
    expect(s.pskIdentity).toBe('x');
  });

  it('accepts DTLS versions and full-range integers', () => {
    expect(decodeSession(buildSession({ sslVersion: 0xfefd })).protocol).toBe('DTLSv1.2');
    expect(decodeSession(buildSession({ sslVersion: 0x0100 })).protocol).toBe('DTLSv0.9');
    expect(decodeSession(buildSession({ sslVersion: 0x03ff })).protocol).toBe('unknown');
    const s = decodeSession(
      buildSession({
        verifyResult: -1,
        time: -1,
        tickAgeAdd: 0xffffffff,
        flags: Number.MAX_SAFE_INTEGER,
        kexGroup: 0,
        masterKey: Buffer.alloc(512, 1),
      }),
    );
    expect(s.verifyResult).toBe(-1);
    expect(s.time).toBe(-1);
    expect(s.toJSON().timeIso).toBe('1969-12-31T23:59:59.000Z');
    expect(s.ticketAgeAdd).toBe(0xffffffff);
    expect(s.flags).toBe(Number.MAX_SAFE_INTEGER);
    expect(s.kexGroup).toBe(0);
    expect(s.masterSecretLength).toBe(512);
  });

  it('an unknown cipher id decodes, without a name', () => {
    const s = decodeSession(buildSession({ cipher: Buffer.from([0x13, 0x09]) }));
    expect(s.cipherId).toBe(0x1309);
    expect(s.cipherName).toBeUndefined();
    expect(s.toJSON().cipher).toEqual({ id: '1309' });
    expect(String(s)).toContain('cipher 0x1309');
  });

  it('a time beyond what Date can represent gives no ISO string instead of throwing', () => {
    const s = decodeSession(buildSession({ time: 2 ** 50, timeout: 10 }));
    const json = s.toJSON();
    expect(json.time).toBe(2 ** 50);
    expect(json.timeIso).toBeUndefined();
    expect(json.expiresAtIso).toBeUndefined();
  });
});

describe('future fields', () => {
  it('skips context tags above 20, in low and high tag number form', () => {
    const extra = [
      explicit(21, derInteger(5)),
      tlv(0x9e, Buffer.from('primitive [30]')),
      tlv([0xbf, 0x1f], derOctets('x')), // [31], the first high-tag-number tag
      tlv([0xbf, 0x81, 0x00], derSequence(derInteger(1))), // [128]
    ];
    const s = decodeSession(buildSession({ ...full, extra }));
    expect(s.kexGroup).toBe(0x17);
    expect(s.toJSON()).toEqual(decodeSession(buildSession(full)).toJSON());
  });

  it('still requires ascending order and no repeats among unknown tags', () => {
    expectCode(
      buildSession({ extra: [explicit(22, derInteger(1)), explicit(21, derInteger(1))] }),
      'BAD_TAG',
    );
    expectCode(
      buildSession({ extra: [explicit(25, derInteger(1)), explicit(25, derInteger(1))] }),
      'BAD_TAG',
    );
    // A known tag after an unknown one is out of order too.
    expectCode(
      derSequence(
        ...[derInteger(1), derInteger(0x0303), derOctets(Buffer.from([0xc0, 0x2f]))],
        derOctets(''),
        derOctets(''),
        explicit(21, derInteger(1)),
        explicit(19, derInteger(29)),
      ),
      'BAD_TAG',
    );
  });
});

// The required prefix: version, ssl_version, cipher, session_id, master_key.
function head(
  overrides: Partial<Record<'version' | 'ssl' | 'cipher' | 'id' | 'key', Buffer>> = {},
) {
  return [
    overrides.version ?? derInteger(1),
    overrides.ssl ?? derInteger(0x0303),
    overrides.cipher ?? derOctets(Buffer.from([0xc0, 0x2f])),
    overrides.id ?? derOctets(Buffer.alloc(32, 1)),
    overrides.key ?? derOctets(Buffer.alloc(48, 2)),
  ];
}

describe('malformed input is refused with a specific code', () => {
  const valid = () => derSequence(...head());
  const cases: [string, () => Uint8Array | string, SessionDecodeErrorCode][] = [
    ['empty input', () => Buffer.alloc(0), 'TRUNCATED'],
    ['a SET instead of a SEQUENCE', () => tlv(0x31, ...head()), 'BAD_TAG'],
    ['a primitive SEQUENCE', () => tlv(0x10, ...head()), 'BAD_TAG'],
    [
      'trailing bytes after the SEQUENCE',
      () => Buffer.concat([valid(), Buffer.from([0])]),
      'BAD_LENGTH',
    ],
    ['outer length past the end', () => valid().subarray(0, -1), 'TRUNCATED'],
    ['only a tag', () => Buffer.from([0x30]), 'TRUNCATED'],
    ['length octets cut off', () => Buffer.from([0x30, 0x82, 0x01]), 'TRUNCATED'],
    [
      'indefinite length',
      () => Buffer.concat([Buffer.from([0x30, 0x80]), ...head(), Buffer.from([0, 0])]),
      'BAD_LENGTH',
    ],
    [
      'long-form length below 128',
      () => Buffer.concat([Buffer.from([0x30, 0x81, 0x05]), derInteger(1), derInteger(1)]),
      'BAD_LENGTH',
    ],
    [
      'length with a leading zero octet',
      () => Buffer.concat([Buffer.from([0x30, 0x82, 0x00, 0x85]), Buffer.alloc(0x85)]),
      'BAD_LENGTH',
    ],
    [
      'length in four octets',
      () => Buffer.concat([Buffer.from([0x30, 0x84, 0, 1, 0, 0])]),
      'BAD_LENGTH',
    ],
    ['reserved length octet 0xff', () => Buffer.from([0x30, 0xff]), 'BAD_LENGTH'],
    ['version 2', () => derSequence(...head({ version: derInteger(2) })), 'BAD_VALUE'],
    ['version 0', () => derSequence(...head({ version: derInteger(0) })), 'BAD_VALUE'],
    [
      'non-minimal INTEGER',
      () => derSequence(...head({ version: tlv(0x02, Buffer.from([0, 1])) })),
      'BAD_VALUE',
    ],
    [
      'non-minimal negative INTEGER',
      () => derSequence(...head({ ssl: tlv(0x02, Buffer.from([0xff, 0x80])) })),
      'BAD_VALUE',
    ],
    ['empty INTEGER', () => derSequence(...head({ version: tlv(0x02) })), 'BAD_VALUE'],
    [
      'version as OCTET STRING',
      () => derSequence(...head({ version: derOctets(Buffer.from([1])) })),
      'BAD_TAG',
    ],
    [
      'protocol major 2 (SSLv2)',
      () => derSequence(...head({ ssl: derInteger(0x0002) })),
      'BAD_VALUE',
    ],
    [
      'protocol version beyond int32',
      () => derSequence(...head({ ssl: derInteger(0x1_0000_0303) })),
      'BAD_VALUE',
    ],
    [
      '3-byte cipher',
      () => derSequence(...head({ cipher: derOctets(Buffer.from([0, 0xc0, 0x2f])) })),
      'BAD_VALUE',
    ],
    [
      '33-byte session id',
      () => derSequence(...head({ id: derOctets(Buffer.alloc(33)) })),
      'BAD_VALUE',
    ],
    [
      '513-byte master key',
      () => derSequence(...head({ key: derOctets(Buffer.alloc(513)) })),
      'BAD_VALUE',
    ],
    [
      'constructed OCTET STRING session id',
      () => derSequence(...head({ id: tlv(0x24, derOctets('ab')) })),
      'BAD_TAG',
    ],
    ['missing master key', () => derSequence(...head().slice(0, 4)), 'BAD_TAG'],
    ['only the version', () => derSequence(derInteger(1)), 'BAD_TAG'],
    [
      'a universal element after the required fields',
      () => derSequence(...head(), derInteger(1)),
      'BAD_TAG',
    ],
    [
      'an APPLICATION tag after the required fields',
      () => derSequence(...head(), tlv(0x61, derInteger(1))),
      'BAD_TAG',
    ],
    ['primitive [1]', () => derSequence(...head(), tlv(0x81, Buffer.from([1]))), 'BAD_TAG'],
    ['constructed [0] key_arg', () => derSequence(...head(), tlv(0xa0, derOctets('x'))), 'BAD_TAG'],
    [
      '[1] repeated',
      () => derSequence(...head(), explicit(1, derInteger(5)), explicit(1, derInteger(5))),
      'BAD_TAG',
    ],
    [
      '[2] before [1]',
      () => derSequence(...head(), explicit(2, derInteger(5)), explicit(1, derInteger(5))),
      'BAD_TAG',
    ],
    ['empty [1]', () => derSequence(...head(), tlv(0xa1)), 'BAD_LENGTH'],
    [
      'two elements in [1]',
      () => derSequence(...head(), explicit(1, Buffer.concat([derInteger(5), derInteger(6)]))),
      'BAD_LENGTH',
    ],
    [
      'inner element overrunning [1] into the next field',
      () =>
        derSequence(
          ...head(),
          tlv(0xa1, Buffer.from([0x02, 0x05, 1])),
          explicit(2, derInteger(300)),
        ),
      'BAD_LENGTH',
    ],
    [
      'inner element of the last field overrunning the input',
      () => derSequence(...head(), tlv(0xa1, Buffer.from([0x02, 0x05, 1]))),
      'TRUNCATED',
    ],
    [
      'field overrunning a SEQUENCE that ends the input',
      () => Buffer.from([0x30, 0x03, 0x02, 0x05, 0x01]),
      'TRUNCATED',
    ],
    [
      'OCTET STRING in [1] time',
      () => derSequence(...head(), explicit(1, derOctets('x'))),
      'BAD_TAG',
    ],
    ['time of 2^53', () => derSequence(...head(), explicit(1, derInteger(2n ** 53n))), 'BAD_VALUE'],
    [
      'time of -2^53',
      () => derSequence(...head(), explicit(1, derInteger(-(2n ** 53n)))),
      'BAD_VALUE',
    ],
    [
      'time of 2^63 - 1',
      () => derSequence(...head(), explicit(1, derInteger(2n ** 63n - 1n))),
      'BAD_VALUE',
    ],
    [
      '10-octet INTEGER',
      () => derSequence(...head(), explicit(2, derInteger(2n ** 72n))),
      'BAD_VALUE',
    ],
    [
      'verify_result of 2^31',
      () => derSequence(...head(), explicit(5, derInteger(2 ** 31))),
      'BAD_VALUE',
    ],
    [
      'negative ticket lifetime hint',
      () => derSequence(...head(), explicit(9, derInteger(-1))),
      'BAD_VALUE',
    ],
    [
      '2-byte comp_id',
      () => derSequence(...head(), explicit(11, derOctets(Buffer.from([1, 2])))),
      'BAD_VALUE',
    ],
    ['negative flags', () => derSequence(...head(), explicit(13, derInteger(-1))), 'BAD_VALUE'],
    [
      'ticket_age_add of 2^32',
      () => derSequence(...head(), explicit(14, derInteger(2 ** 32))),
      'BAD_VALUE',
    ],
    [
      'negative max_early_data',
      () => derSequence(...head(), explicit(15, derInteger(-5))),
      'BAD_VALUE',
    ],
    [
      'kex_group of 2^32',
      () => derSequence(...head(), explicit(19, derInteger(2 ** 32))),
      'BAD_VALUE',
    ],
    [
      '33-byte session id context',
      () => derSequence(...head(), explicit(4, derOctets(Buffer.alloc(33)))),
      'BAD_VALUE',
    ],
    [
      '[3] peer that is not a SEQUENCE',
      () => derSequence(...head(), explicit(3, derOctets('cert'))),
      'BAD_TAG',
    ],
    [
      '[3] peer SEQUENCE missing the signature',
      () => derSequence(...head(), explicit(3, derSequence(derSequence(), derSequence()))),
      'BAD_TAG',
    ],
    [
      '[3] peer with an extra element',
      () =>
        derSequence(
          ...head(),
          explicit(
            3,
            derSequence(derSequence(), derSequence(), tlv(0x03, Buffer.from([0])), derInteger(1)),
          ),
        ),
      'BAD_LENGTH',
    ],
    [
      '[20] peer_rpk that is not SubjectPublicKeyInfo',
      () => derSequence(...head(), explicit(20, derOctets(derInteger(5)))),
      'BAD_TAG',
    ],
    ['[20] empty peer_rpk', () => derSequence(...head(), explicit(20, derOctets(''))), 'BAD_TAG'],
    [
      'non-minimal high tag number',
      () => derSequence(...head(), tlv([0xbf, 0x80, 0x21], derInteger(1))),
      'BAD_TAG',
    ],
    [
      'high tag form for a low tag number',
      () => derSequence(...head(), tlv([0xbf, 0x15], derInteger(1))),
      'BAD_TAG',
    ],
    [
      'absurd high tag number',
      () => derSequence(...head(), tlv([0xbf, 0x81, 0x81, 0x81, 0x81, 0x01], derInteger(1))),
      'BAD_TAG',
    ],
    [
      'high tag number cut off at the end',
      () => tlv(0x30, ...head(), Buffer.from([0xbf, 0x81])),
      'TRUNCATED',
    ],
    [
      'high tag number cut off inside [3]',
      () =>
        derSequence(...head(), tlv(0xa3, Buffer.from([0xbf, 0x81])), explicit(5, derInteger(1))),
      'BAD_LENGTH',
    ],
    [
      'length cut off inside [3]',
      () =>
        derSequence(
          ...head(),
          tlv(0xa3, Buffer.from([0x30, 0x82, 0x01])),
          explicit(5, derInteger(1)),
        ),
      'BAD_LENGTH',
    ],
    ['not DER and not PEM', () => Buffer.from('hello world'), 'BAD_TAG'],
    ['a non-PEM string', () => 'hello world', 'BAD_PEM'],
    ['PEM without the END line', () => '-----BEGIN SSL SESSION PARAMETERS-----\nMAA=\n', 'BAD_PEM'],
    ['PEM with text after END', () => `${pem(valid())}trailing\n`, 'BAD_PEM'],
    ['PEM with text before BEGIN', () => `hello\n${pem(valid())}`, 'BAD_PEM'],
    ['PEM with a non-base64 character', () => pem(valid()).replace(/\n(.)/, '\n!$1'), 'BAD_PEM'],
    ['PEM with non-ASCII', () => pem(valid()).replace(/\n(.)/, '\né$1'), 'BAD_PEM'],
    ['PEM with misplaced padding', () => pem(valid()).replace(/\n(.)/, '\n=$1'), 'BAD_PEM'],
    [
      'PEM with a dangling base64 character',
      () => pem(valid()).replace('\n-----END', 'A\n-----END'),
      'BAD_PEM',
    ],
    [
      'PEM with an empty body',
      () => '-----BEGIN SSL SESSION PARAMETERS-----\n-----END SSL SESSION PARAMETERS-----\n',
      'BAD_PEM',
    ],
    [
      'PEM of another type',
      () => '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n',
      'BAD_PEM',
    ],
    ['PEM of garbage DER', () => pem(Buffer.from([0x30, 0x05, 1])), 'TRUNCATED'],
  ];
  it.each(cases.map(([name, make, code]) => [name, code, make] as const))(
    '%s → %s',
    (_n, code, make) => {
      expectCode(make(), code);
    },
  );

  it('the valid baseline of those cases decodes', () => {
    expect(decodeSession(valid()).protocol).toBe('TLSv1.2');
    expect(decodeSession(pem(valid())).protocol).toBe('TLSv1.2');
    expect(decodeSession(`\r\n  ${pem(valid()).replaceAll('\n', '\r\n')}\r\n\r\n`).protocol).toBe(
      'TLSv1.2',
    );
  });

  it('errors carry the offset of the offending element', () => {
    const der = derSequence(...head(), explicit(14, derInteger(2 ** 32)));
    const error = expectCode(der, 'BAD_VALUE');
    expect(error.offset).toBe(der.length - 7);
    expect(error.message).toContain(`at byte ${error.offset}`);
    expect(error.name).toBe('SessionDecodeError');
  });

  it('a wrong input type is a TypeError, not a decode error', () => {
    expect(() => decodeSession(42 as unknown as string)).toThrow(TypeError);
    expect(() => decodeSession(null as unknown as string)).toThrow(TypeError);
  });

  it('a peer certificate with the right shape but garbage inside fails lazily', () => {
    const bogus = derSequence(
      derSequence(derInteger(1)),
      derSequence(),
      tlv(0x03, Buffer.from([0])),
    );
    const s = decodeSession(derSequence(...head(), explicit(3, bogus)));
    expect(s.peerCertificate?.equals(bogus)).toBe(true);
    expect(() => s.peerX509()).toThrow(SessionDecodeError);
    expect(() => s.peerSubject).toThrow(SessionDecodeError);
    expect(s.toJSON().peerCertificate).toEqual({
      derLength: bogus.length,
      error: 'does not parse as X.509',
    });
    const rpk = decodeSession(
      derSequence(
        ...head(),
        explicit(20, derOctets(derSequence(derSequence(), tlv(0x03, Buffer.from([0]))))),
      ),
    );
    expect(() => rpk.peerPublicKey()).toThrow(SessionDecodeError);
  });
});

function pem(der: Buffer): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN SSL SESSION PARAMETERS-----\n${lines.join('\n')}\n-----END SSL SESSION PARAMETERS-----\n`;
}

describe('size cap', () => {
  // A valid session padded with a ticket to exactly `total` bytes of DER.
  function sessionOfSize(total: number): Buffer {
    let tickLength = total - 200;
    let der = buildSession({ tick: Buffer.alloc(tickLength) });
    for (let i = 0; i < 4 && der.length !== total; i++) {
      tickLength += total - der.length;
      der = buildSession({ tick: Buffer.alloc(tickLength) });
    }
    expect(der.length).toBe(total);
    return der;
  }

  it('accepts a session of exactly MAX_SESSION_DER_LENGTH bytes, as DER and as PEM', () => {
    const der = sessionOfSize(MAX_SESSION_DER_LENGTH);
    expect(decodeSession(der).ticketLength).toBeGreaterThan(60_000);
    const text = pem(der).replaceAll('\n', '\r\n');
    expect(text.length).toBeLessThanOrEqual(MAX_SESSION_PEM_LENGTH);
    expect(decodeSession(text).ticketLength).toBe(decodeSession(der).ticketLength);
  });

  it('refuses one byte more with TOO_LARGE', () => {
    const der = sessionOfSize(MAX_SESSION_DER_LENGTH + 1);
    expectCode(der, 'TOO_LARGE');
    expectCode(pem(der), 'TOO_LARGE');
  });

  it('refuses huge inputs by their length', () => {
    // 64 MiB of zeros and a PEM text over the cap: TOO_LARGE, whatever the content. (How fast is
    // a benchmark's question, not a unit test's: a stopwatch here times the machine.)
    const huge = new Uint8Array(64 * 1024 * 1024);
    const text = 'x'.repeat(MAX_SESSION_PEM_LENGTH + 1);
    expectCode(huge, 'TOO_LARGE');
    expectCode(text, 'TOO_LARGE');
    expectCode(
      Buffer.concat([Buffer.from([0x30, 0x83, 0x01, 0x00, 0x00]), Buffer.alloc(0x10000)]),
      'TOO_LARGE',
    );
  });
});

describe('OpenSSL agrees with the decoder about what is malformed', () => {
  // Sessions we refuse that OpenSSL also refuses: the strictness is not invented.
  it.each([
    ['version 2', () => derSequence(...head({ version: derInteger(2) }))],
    [
      '3-byte cipher',
      () => derSequence(...head({ cipher: derOctets(Buffer.from([0, 0xc0, 0x2f])) })),
    ],
    ['33-byte session id', () => derSequence(...head({ id: derOctets(Buffer.alloc(33)) }))],
    ['protocol major 2', () => derSequence(...head({ ssl: derInteger(0x0002) }))],
    [
      '[2] before [1]',
      () => derSequence(...head(), explicit(2, derInteger(5)), explicit(1, derInteger(5))),
    ],
    ['2-byte comp_id', () => derSequence(...head(), explicit(11, derOctets(Buffer.from([1, 2]))))],
    [
      'non-minimal INTEGER',
      () => derSequence(...head({ version: tlv(0x02, Buffer.from([0, 1])) })),
    ],
    ['negative flags', () => derSequence(...head(), explicit(13, derInteger(-1)))],
  ])('%s', (_name, make) => {
    const der = make();
    expect(() => decodeSession(der)).toThrow(SessionDecodeError);
    expect(opensslReencode(der).status).not.toBe(0);
  });

  it('and OpenSSL loads the baseline', () => {
    const file = join(dir, 'baseline.der');
    writeFileSync(file, derSequence(...head()));
    expect(() =>
      execFileSync('openssl', ['sess_id', '-inform', 'DER', '-in', file, '-noout'], {
        stdio: 'pipe',
      }),
    ).not.toThrow();
  });
});
