import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClientHelloParseError,
  ExtensionType,
  parseClientHello,
  type ClientHelloInfo,
  type ClientHelloParseErrorCode,
} from '../../src/wire/client-hello.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import {
  alpnData,
  buildClientHello,
  buildClientHelloBody,
  handshake,
  pskData,
  sniData,
  supportedVersionsData,
  u16s,
  vec,
  type BuiltExtension,
} from '../helpers/hello-builder.js';
import { connectClient, startSessionServer } from '../helpers/hello-server.js';
import {
  captureClientHello,
  nodeClient,
  opensslClient,
  runSClient,
  type CapturedHello,
} from '../helpers/tls-capture.js';

const TLS12 = 0x0303;
const TLS13 = 0x0304;
const hex = (b: Buffer): string => b.toString('hex');

/** Parses, or returns the error code (and fails the test on any other exception). */
function parseOrCode(bytes: Uint8Array): ClientHelloInfo | ClientHelloParseErrorCode {
  try {
    return parseClientHello(bytes);
  } catch (err) {
    if (err instanceof ClientHelloParseError) return err.code;
    throw err;
  }
}

function codeOf(bytes: Uint8Array): ClientHelloParseErrorCode | 'ok' {
  const r = parseOrCode(bytes);
  return typeof r === 'string' ? r : 'ok';
}

const ext = (type: number, data: Buffer | number[] = []): BuiltExtension => ({
  type,
  data: Buffer.isBuffer(data) ? data : Buffer.from(data),
});
const binder = Buffer.alloc(32, 7);

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.cleanup());

describe('parseClientHello on real ClientHellos from Node tls.connect', () => {
  it('TLS 1.2 only: no supported_versions, empty legacy id, EMS and an empty session_ticket', async () => {
    const { message } = await captureClientHello(nodeClient({ maxVersion: 'TLSv1.2' }));
    const h = parseClientHello(message);
    expect(h.length).toBe(message.length);
    expect(h.legacyVersion).toBe(TLS12);
    expect(h.random).toHaveLength(32);
    expect(h.legacySessionId).toHaveLength(0);
    expect(h.supportedVersions).toBeUndefined();
    expect(h.compressionMethods).toEqual([0]);
    expect(h.cipherSuites).toContain(0xc02b); // ECDHE-ECDSA-AES128-GCM-SHA256
    expect(h.cipherSuites).not.toContain(0x1301);
    expect(h.extendedMasterSecret).toBe(true);
    expect(h.sessionTicket).toHaveLength(0);
    expect(h.preSharedKey).toBeUndefined();
    expect(h.earlyData).toBe(false);
    // 127.0.0.1 without `servername`: Node sends no SNI for an IP address.
    expect(h.serverName).toBeUndefined();
  });

  it('TLS 1.3: supported_versions, a 32-byte middlebox-compat legacy id, psk modes, key_share', async () => {
    const { message } = await captureClientHello(nodeClient({ minVersion: 'TLSv1.3' }));
    const h = parseClientHello(message);
    expect(h.legacyVersion).toBe(TLS12);
    expect(h.supportedVersions).toEqual([TLS13]);
    expect(h.legacySessionId).toHaveLength(32);
    expect(h.pskKeyExchangeModes).toEqual([1]); // psk_dhe_ke
    expect(h.cipherSuites).toContain(0x1301);
    expect(h.extensionTypes).toContain(51); // key_share
    expect(new Set(h.extensionTypes).size).toBe(h.extensionTypes.length);
    expect(h.preSharedKey).toBeUndefined();
  });

  it('servername and ALPNProtocols', async () => {
    const { message } = await captureClientHello(
      nodeClient({ servername: 'example.com', ALPNProtocols: ['h2', 'http/1.1'] }),
    );
    const h = parseClientHello(message);
    expect(h.serverName).toBe('example.com');
    expect(h.alpnProtocols).toEqual(['h2', 'http/1.1']);
    expect(h.extensionTypes.indexOf(ExtensionType.serverName)).toBeGreaterThanOrEqual(0);
  });

  it('a TLS 1.3 session from a stateful server: the PSK identity is that session id', async () => {
    const server = await startSessionServer(pki, { reader: false });
    try {
      const first = await connectClient(server.port, { ca: pki.caCert });
      // Two tickets per connection in TLS 1.3, seen in the same order on both sides.
      expect(first.sessions).toHaveLength(2);
      const ids = [...server.sessions.keys()];
      expect(ids).toHaveLength(2);
      for (const [i, session] of first.sessions.entries()) {
        const { message } = await captureClientHello(
          nodeClient({ servername: 'localhost', session }),
        );
        const h = parseClientHello(message);
        expect(h.extensionTypes.at(-1)).toBe(ExtensionType.preSharedKey);
        expect(h.preSharedKey?.identities).toHaveLength(1);
        const psk = h.preSharedKey!.identities[0]!;
        expect(hex(psk.identity)).toBe(ids[i]);
        expect(psk.identity).toHaveLength(32);
        expect(psk.obfuscatedTicketAge).toBeGreaterThanOrEqual(0);
        expect(psk.obfuscatedTicketAge).toBeLessThan(2 ** 32);
        // TLS_AES_256_GCM_SHA384 is negotiated by default: a SHA-384 binder.
        expect(h.preSharedKey!.binderLengths).toEqual([48]);
        // The legacy id is random, not the session id: what Node's resumeSession gets.
        expect(h.legacySessionId).toHaveLength(32);
        expect(ids).not.toContain(hex(h.legacySessionId));
      }
    } finally {
      await server.close();
    }
  });

  it('a TLS 1.2 session: the legacy session id is the session id', async () => {
    const server = await startSessionServer(pki, {
      reader: false,
      tlsOptions: { maxVersion: 'TLSv1.2' },
    });
    try {
      const first = await connectClient(server.port, { ca: pki.caCert });
      const [id] = [...server.sessions.keys()];
      const { message } = await captureClientHello(
        nodeClient({ servername: 'localhost', session: first.sessions.at(-1)! }),
      );
      const h = parseClientHello(message);
      expect(hex(h.legacySessionId)).toBe(id);
      expect(h.preSharedKey).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});

describe('parseClientHello on real ClientHellos from openssl s_client', () => {
  it('-tls1_2', async () => {
    const { message } = await captureClientHello(opensslClient(['-tls1_2']));
    const h = parseClientHello(message);
    expect(h.supportedVersions).toBeUndefined();
    expect(h.extendedMasterSecret).toBe(true);
    expect(h.cipherSuites.every((c) => c >> 8 !== 0x13)).toBe(true);
  });

  it('-tls1_3 -servername -alpn', async () => {
    const { message } = await captureClientHello(
      opensslClient(['-tls1_3', '-servername', 'other.example', '-alpn', 'h2,acme-tls/1']),
    );
    const h = parseClientHello(message);
    expect(h.supportedVersions).toEqual([TLS13]);
    expect(h.serverName).toBe('other.example');
    expect(h.alpnProtocols).toEqual(['h2', 'acme-tls/1']);
    expect(h.legacySessionId).toHaveLength(32);
  });

  it('-no_middlebox sends an EMPTY legacy session id in TLS 1.3', async () => {
    const { message } = await captureClientHello(opensslClient(['-tls1_3', '-no_middlebox']));
    const h = parseClientHello(message);
    expect(h.supportedVersions).toEqual([TLS13]);
    expect(h.legacySessionId).toHaveLength(0);
  });

  it('-sess_in of a TLS 1.3 -sess_out: the PSK identity is a session id the server issued', async () => {
    const server = await startSessionServer(pki, { reader: false });
    const sess = join(pki.dir, 'capture-13.pem');
    try {
      const common = ['-CAfile', pki.files.caCert, '-servername', 'localhost'];
      const out = await runSClient(server.port, ['-tls1_3', ...common, '-sess_out', sess]);
      expect(out.stdout).toMatch(/^New, TLSv1\.3/m);
      for (const extra of [[], ['-no_middlebox']]) {
        const { message } = await captureClientHello(
          opensslClient(['-tls1_3', ...extra, ...common, '-sess_in', sess]),
        );
        const h = parseClientHello(message);
        const ids = h.preSharedKey?.identities.map((i) => hex(i.identity));
        expect(ids).toHaveLength(1);
        expect([...server.sessions.keys()]).toContain(ids![0]);
        expect(h.pskKeyExchangeModes).toContain(1);
        expect(h.legacySessionId).toHaveLength(extra.length === 0 ? 32 : 0);
      }
    } finally {
      await server.close();
    }
  });

  it('-sess_in of a TLS 1.2 -sess_out: the legacy session id is the session id', async () => {
    const server = await startSessionServer(pki, {
      reader: false,
      tlsOptions: { maxVersion: 'TLSv1.2' },
    });
    const sess = join(pki.dir, 'capture-12.pem');
    try {
      const common = ['-tls1_2', '-CAfile', pki.files.caCert, '-servername', 'localhost'];
      await runSClient(server.port, [...common, '-sess_out', sess]);
      const { message } = await captureClientHello(opensslClient([...common, '-sess_in', sess]));
      const h = parseClientHello(message);
      expect([...server.sessions.keys()]).toEqual([hex(h.legacySessionId)]);
    } finally {
      await server.close();
    }
  });
});

describe('parseClientHello strictness', () => {
  const psk = ext(41, pskData([{ identity: Buffer.from('id'), age: 0xfffffffe }], [binder]));

  it('accepts a minimal hello without extensions, and with an empty extensions block', () => {
    expect(parseClientHello(buildClientHello({ extensions: undefined })).extensionTypes).toEqual(
      [],
    );
    expect(parseClientHello(buildClientHello({ extensions: [] })).extensionTypes).toEqual([]);
  });

  it('decodes every supported extension and keeps the order', () => {
    const h = parseClientHello(
      buildClientHello({
        extensions: [
          ext(0, sniData('Example.COM')),
          ext(16, alpnData(['h2'])),
          ext(43, supportedVersionsData([0x7a7a, TLS13, TLS12])),
          ext(45, [2, 1, 0]),
          ext(42),
          ext(23),
          ext(35, [1, 2, 3]),
          ext(0xfafa, [0]),
          psk,
        ],
      }),
    );
    expect(h.extensionTypes).toEqual([0, 16, 43, 45, 42, 23, 35, 0xfafa, 41]);
    expect(h.serverName).toBe('Example.COM');
    expect(h.alpnProtocols).toEqual(['h2']);
    expect(h.supportedVersions).toEqual([0x7a7a, TLS13, TLS12]);
    expect(h.pskKeyExchangeModes).toEqual([1, 0]);
    expect(h.earlyData).toBe(true);
    expect(h.extendedMasterSecret).toBe(true);
    expect([...h.sessionTicket!]).toEqual([1, 2, 3]);
    expect(h.preSharedKey).toEqual({
      identities: [{ identity: Buffer.from('id'), obfuscatedTicketAge: 0xfffffffe }],
      binderLengths: [32],
    });
  });

  it('returns views into the input, not copies, also for a plain Uint8Array', () => {
    const bytes = buildClientHello({ extensions: [psk] });
    const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const h = parseClientHello(u8);
    expect(Buffer.isBuffer(h.legacySessionId)).toBe(true);
    expect(h.legacySessionId.buffer).toBe(bytes.buffer);
    expect(h.preSharedKey!.identities[0]!.identity.buffer).toBe(bytes.buffer);
    expect(h.random.buffer).toBe(bytes.buffer);
  });

  const cases: [string, Buffer, ClientHelloParseErrorCode][] = [
    ['empty input', Buffer.alloc(0), 'TRUNCATED'],
    ['a ServerHello', handshake(2, buildClientHelloBody()), 'NOT_CLIENT_HELLO'],
    ['one byte short', buildClientHello().subarray(0, -1), 'TRUNCATED'],
    ['one byte too many', Buffer.concat([buildClientHello(), Buffer.from([0])]), 'TRAILING_BYTES'],
    ['legacy_version 2.0', buildClientHello({ version: 0x0200 }), 'BAD_VERSION'],
    ['a body of 20 bytes', handshake(1, Buffer.alloc(20, 3)), 'BAD_RANDOM'],
    ['a 33-byte session id', buildClientHello({ sessionId: Buffer.alloc(33) }), 'BAD_SESSION_ID'],
    // Found by the fuzzer: the body ends right after the random, so the length byte is missing.
    [
      'no session id length byte',
      handshake(1, Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 0x5a)])),
      'BAD_SESSION_ID',
    ],
    ['no cipher suites', buildClientHello({ cipherSuites: [] }), 'BAD_CIPHER_SUITES'],
    [
      'an odd cipher suites length',
      handshake(
        1,
        Buffer.concat([
          u16s([TLS12]),
          Buffer.alloc(32),
          vec(1, Buffer.alloc(0)),
          vec(2, Buffer.alloc(3)),
          vec(1, Buffer.from([0])),
        ]),
      ),
      'BAD_CIPHER_SUITES',
    ],
    [
      'no compression methods',
      buildClientHello({ compressionMethods: [] }),
      'BAD_COMPRESSION_METHODS',
    ],
    [
      'one byte where the extensions length goes',
      handshake(
        1,
        Buffer.concat([buildClientHelloBody({ extensions: undefined }), Buffer.from([0])]),
      ),
      'BAD_EXTENSIONS',
    ],
    [
      'an extensions length one too long',
      handshake(
        1,
        Buffer.concat([
          buildClientHelloBody({ extensions: undefined }),
          Buffer.from([0, 5, 0, 23, 0, 0]),
        ]),
      ),
      'BAD_EXTENSIONS',
    ],
    [
      'an extension overrunning the block',
      handshake(
        1,
        Buffer.concat([
          buildClientHelloBody({ extensions: undefined }),
          vec(2, Buffer.from([0, 23, 0, 1])),
        ]),
      ),
      'BAD_EXTENSIONS',
    ],
    [
      'a duplicate extension',
      buildClientHello({ extensions: [ext(23), ext(23)] }),
      'DUPLICATE_EXTENSION',
    ],
    [
      'a duplicate GREASE extension',
      buildClientHello({ extensions: [ext(0x0a0a), ext(23), ext(0x0a0a)] }),
      'DUPLICATE_EXTENSION',
    ],
    ['pre_shared_key not last', buildClientHello({ extensions: [psk, ext(23)] }), 'PSK_NOT_LAST'],
    [
      'SNI with two trailing dots',
      buildClientHello({ extensions: [ext(0, sniData('a.b..'))] }),
      'BAD_SERVER_NAME',
    ],
    [
      'SNI that is only a dot',
      buildClientHello({ extensions: [ext(0, sniData('.'))] }),
      'BAD_SERVER_NAME',
    ],
    [
      'SNI with an empty label',
      buildClientHello({ extensions: [ext(0, sniData('a..b'))] }),
      'BAD_SERVER_NAME',
    ],
    [
      'SNI with a NUL byte',
      buildClientHello({ extensions: [ext(0, sniData('a\0b'))] }),
      'BAD_SERVER_NAME',
    ],
    [
      'SNI that is not ASCII',
      buildClientHello({ extensions: [ext(0, sniData(Buffer.from('bücher.de')))] }),
      'BAD_SERVER_NAME',
    ],
    [
      'SNI with a space',
      buildClientHello({ extensions: [ext(0, sniData('a b'))] }),
      'BAD_SERVER_NAME',
    ],
    [
      'SNI with a 64-byte label',
      buildClientHello({ extensions: [ext(0, sniData('a'.repeat(64)))] }),
      'BAD_SERVER_NAME',
    ],
    [
      'SNI of 254 bytes',
      buildClientHello({
        extensions: [ext(0, sniData(`${'a'.repeat(60)}.`.repeat(4) + 'a'.repeat(10)))],
      }),
      'BAD_SERVER_NAME',
    ],
    [
      'an empty SNI host',
      buildClientHello({ extensions: [ext(0, sniData(''))] }),
      'BAD_SERVER_NAME',
    ],
    [
      'an empty SNI list',
      buildClientHello({ extensions: [ext(0, vec(2, Buffer.alloc(0)))] }),
      'BAD_SERVER_NAME',
    ],
    [
      'two SNI entries',
      buildClientHello({
        extensions: [
          ext(0, vec(2, Buffer.concat([sniData('a').subarray(2), sniData('b').subarray(2)]))),
        ],
      }),
      'BAD_SERVER_NAME',
    ],
    [
      'an SNI name type that is not host_name',
      buildClientHello({ extensions: [ext(0, vec(2, Buffer.from([1, 0, 1, 0x61])))] }),
      'BAD_SERVER_NAME',
    ],
    [
      'an empty ALPN name',
      buildClientHello({ extensions: [ext(16, alpnData(['h2', '']))] }),
      'BAD_ALPN',
    ],
    [
      'an empty ALPN list',
      buildClientHello({ extensions: [ext(16, vec(2, Buffer.alloc(0)))] }),
      'BAD_ALPN',
    ],
    ['ALPN data of one byte', buildClientHello({ extensions: [ext(16, [0])] }), 'BAD_ALPN'],
    [
      'an odd supported_versions',
      buildClientHello({ extensions: [ext(43, vec(1, Buffer.alloc(3)))] }),
      'BAD_SUPPORTED_VERSIONS',
    ],
    [
      'an empty supported_versions',
      buildClientHello({ extensions: [ext(43, [0])] }),
      'BAD_SUPPORTED_VERSIONS',
    ],
    [
      'empty psk modes',
      buildClientHello({ extensions: [ext(45, [0])] }),
      'BAD_PSK_KEY_EXCHANGE_MODES',
    ],
    ['non-empty early_data', buildClientHello({ extensions: [ext(42, [0])] }), 'BAD_EARLY_DATA'],
    [
      'non-empty EMS',
      buildClientHello({ extensions: [ext(23, [0])] }),
      'BAD_EXTENDED_MASTER_SECRET',
    ],
    [
      'two identities, one binder',
      buildClientHello({
        extensions: [
          ext(
            41,
            pskData(
              [
                { identity: Buffer.from('a'), age: 0 },
                { identity: Buffer.from('b'), age: 0 },
              ],
              [binder],
            ),
          ),
        ],
      }),
      'BAD_PRE_SHARED_KEY',
    ],
    [
      'a 31-byte binder',
      buildClientHello({
        extensions: [
          ext(41, pskData([{ identity: Buffer.from('a'), age: 0 }], [Buffer.alloc(31)])),
        ],
      }),
      'BAD_PRE_SHARED_KEY',
    ],
    [
      'an empty identity',
      buildClientHello({
        extensions: [
          ext(
            41,
            pskData(
              [
                { identity: Buffer.alloc(0), age: 0 },
                { identity: Buffer.from('abc'), age: 0 },
              ],
              [binder, binder],
            ),
          ),
        ],
      }),
      'BAD_PRE_SHARED_KEY',
    ],
    ['an empty pre_shared_key', buildClientHello({ extensions: [ext(41)] }), 'BAD_PRE_SHARED_KEY'],
  ];
  it.each(cases)('rejects %s', (_name, bytes, code) => {
    expect(codeOf(bytes)).toBe(code);
  });

  it('rejects what is not a Uint8Array with INVALID_INPUT', () => {
    for (const v of [undefined, null, 'abc', 42, [1, 0, 0, 0], {}]) {
      expect(codeOf(v as unknown as Uint8Array)).toBe('INVALID_INPUT');
    }
  });

  it('accepts underscores, digits and hyphens in host names, up to 253 bytes', () => {
    const name = ['a', 'b', 'c'].map((c) => c.repeat(63)).join('.') + '.' + 'd'.repeat(61);
    expect(name).toHaveLength(253);
    for (const host of ['_acme-challenge.x1.example', name]) {
      expect(
        parseClientHello(buildClientHello({ extensions: [ext(0, sniData(host))] })).serverName,
      ).toBe(host);
    }
  });

  it('error objects carry a code and an offset and leave the duplicate detector clean', () => {
    let err: unknown;
    try {
      parseClientHello(buildClientHello({ extensions: [ext(23), ext(23)] }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClientHelloParseError);
    expect((err as ClientHelloParseError).name).toBe('ClientHelloParseError');
    expect((err as ClientHelloParseError).offset).toBeGreaterThan(4);
    // The failed parse must not leave extension 23 marked as seen.
    expect(parseClientHello(buildClientHello({ extensions: [ext(23)] })).extendedMasterSecret).toBe(
      true,
    );
  });
});

describe('parseClientHello properties (fast-check)', () => {
  let real: CapturedHello[] = [];
  beforeAll(async () => {
    const server = await startSessionServer(pki, { reader: false });
    try {
      const first = await connectClient(server.port, { ca: pki.caCert });
      real = [
        await captureClientHello(nodeClient({ maxVersion: 'TLSv1.2', servername: 'localhost' })),
        await captureClientHello(
          nodeClient({
            servername: 'localhost',
            ALPNProtocols: ['h2'],
            session: first.sessions[0]!,
          }),
        ),
        await captureClientHello(opensslClient(['-tls1_3', '-alpn', 'h2'])),
      ];
    } finally {
      await server.close();
    }
  });

  const onlyParseErrors = (bytes: Uint8Array): void => {
    const r = parseOrCode(bytes); // throws (failing the property) on anything but ClientHelloParseError
    if (typeof r !== 'string') expect(r.length).toBe(bytes.length);
  };

  it('random bytes: a result or a ClientHelloParseError, nothing else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), onlyParseErrors), { numRuns: 2000 });
  });

  it('random bodies behind a consistent ClientHello header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (body) => {
        onlyParseErrors(handshake(1, Buffer.from(body)));
      }),
      { numRuns: 2000 },
    );
  });

  it('every truncation of a real hello is TRUNCATED; with a patched header, only parse errors', () => {
    for (const { message } of real) {
      expect(codeOf(message)).toBe('ok');
      for (let n = 0; n < message.length; n++) {
        const prefix = message.subarray(0, n);
        expect(codeOf(prefix)).toBe('TRUNCATED');
        if (n >= 4) onlyParseErrors(handshake(1, message.subarray(4, n)));
      }
    }
  });

  it('random byte mutations of real hellos: a result or a ClientHelloParseError', () => {
    fc.assert(
      fc.property(
        fc.nat(2),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (which, edits) => {
          const bytes = Buffer.from(real[which]!.message);
          for (const [at, v] of edits) bytes[4 + (at % (bytes.length - 4))] = v;
          onlyParseErrors(bytes);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('well-formed random hellos round-trip through the builder', () => {
    const hostLabel = fc.stringMatching(/^[a-z0-9_-]{1,20}$/);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 32 }),
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 40 }),
        fc.option(fc.array(hostLabel, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'))),
        fc.option(
          fc.array(fc.stringMatching(/^[\x20-\x7e]{1,12}$/), { minLength: 1, maxLength: 5 }),
        ),
        fc.option(
          fc.array(
            fc.record({
              identity: fc.uint8Array({ minLength: 1, maxLength: 64 }),
              age: fc.nat({ max: 0xffffffff }),
            }),
            { minLength: 1, maxLength: 3 },
          ),
        ),
        fc.uniqueArray(fc.integer({ min: 100, max: 0xfeff }), { maxLength: 5 }),
        (sid, suites, host, alpn, psks, others) => {
          const exts: BuiltExtension[] = others.map((t) => ext(t, [t & 0xff]));
          if (host !== null) exts.push(ext(0, sniData(host)));
          if (alpn !== null) exts.push(ext(16, alpnData(alpn)));
          if (psks !== null) {
            const ids = psks.map((p) => ({ identity: Buffer.from(p.identity), age: p.age }));
            exts.push(
              ext(
                41,
                pskData(
                  ids,
                  ids.map(() => binder),
                ),
              ),
            );
          }
          const h = parseClientHello(
            buildClientHello({
              sessionId: Buffer.from(sid),
              cipherSuites: suites,
              extensions: exts,
            }),
          );
          expect([...h.legacySessionId]).toEqual([...sid]);
          expect(h.cipherSuites).toEqual(suites);
          expect(h.extensionTypes).toEqual(exts.map((e) => e.type));
          expect(h.serverName).toBe(host ?? undefined);
          expect(h.alpnProtocols).toEqual(alpn ?? undefined);
          expect(
            h.preSharedKey?.identities.map((i) => [hex(i.identity), i.obfuscatedTicketAge]),
          ).toEqual(psks?.map((p) => [hex(Buffer.from(p.identity)), p.age]));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
