// The allocation-free ClientHello reader that attach() runs on every connection agrees with the full
// parser on every hello the parser accepts (real ones from Node and openssl s_client, mutated ones,
// random ones), never throws or reads outside the message, and reads a trailing-dot SNI.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientHelloParseError, parseClientHello } from '../../src/wire/client-hello.js';
import { HelloFields, scanClientHello } from '../../src/wire/hello-fields.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import {
  buildClientHello,
  handshake,
  sniData,
  type BuiltExtension,
} from '../helpers/hello-builder.js';
import { connectClient, startSessionServer } from '../helpers/hello-server.js';
import {
  captureClientHello,
  nodeClient,
  opensslClient,
  type CapturedHello,
} from '../helpers/tls-capture.js';

const TLS13 = 0x0304;

/** Scans a whole message; returns the fields or undefined. */
function scan(message: Buffer): HelloFields | undefined {
  const fields = new HelloFields();
  return scanClientHello(message, 0, message.length, fields) ? fields : undefined;
}

/** If the full parser accepts `message`, the scanner must too, with the same fields. */
function agree(message: Buffer): void {
  let parsed;
  try {
    parsed = parseClientHello(message);
  } catch (error) {
    if (!(error instanceof ClientHelloParseError)) throw error;
    scan(message); // must not throw
    return;
  }
  const f = scan(message);
  expect(f).toBeDefined();
  if (f === undefined) return;
  expect(f.length).toBe(parsed.length);
  expect(f.legacySessionId().equals(parsed.legacySessionId)).toBe(true);
  const sni = parsed.serverName?.toLowerCase().replace(/\.$/, '');
  expect(f.serverName()).toBe(sni);
  expect(f.serverNameIs(sni)).toBe(true);
  expect(f.pskIdentity()?.toString('hex')).toBe(
    parsed.preSharedKey?.identities[0]?.identity.toString('hex'),
  );
  expect(f.pskIdentities).toBe(parsed.preSharedKey?.identities.length ?? 0);
  expect(f.offersTls13).toBe(parsed.supportedVersions?.includes(TLS13) === true);
  expect(f.extendedMasterSecret).toBe(parsed.extendedMasterSecret);
  expect(f.sessionTicketLength).toBe(parsed.sessionTicket?.length ?? -1);
  expect(f.earlyData).toBe(parsed.earlyData);
}

let pki: TestPki;
let real: CapturedHello[] = [];
beforeAll(async () => {
  pki = makeTestPki();
  const server = await startSessionServer(pki, { reader: false });
  try {
    const first = await connectClient(server.port, { ca: pki.caCert });
    real = [
      await captureClientHello(nodeClient({ maxVersion: 'TLSv1.2', servername: 'localhost' })),
      await captureClientHello(
        nodeClient({ servername: 'localhost', session: first.sessions[0]! }),
      ),
      await captureClientHello(opensslClient(['-tls1_3', '-alpn', 'h2'])),
      await captureClientHello(opensslClient(['-tls1_3', '-no_middlebox'])),
      await captureClientHello(opensslClient(['-tls1_3', '-servername', 'Localhost.'])),
      await captureClientHello(opensslClient(['-tls1_3', '-groups', 'P-256:X25519'])),
    ];
  } finally {
    await server.close();
  }
});
afterAll(() => pki.cleanup());

describe('scanClientHello', () => {
  it('agrees with parseClientHello on real hellos from Node and openssl s_client', () => {
    for (const { message } of real) {
      expect(scan(message)).toBeDefined();
      agree(message);
    }
  });

  it('reads the PSK identity of a resuming Node client and the empty legacy id of -no_middlebox', () => {
    expect(scan(real[1]!.message)!.pskIdentityLength).toBeGreaterThan(0);
    expect(scan(real[3]!.message)!.sessionIdLength).toBe(0);
  });

  it('reads SNI Localhost. as localhost, and says the dot was there', () => {
    const f = scan(real[4]!.message)!;
    expect(f.serverName()).toBe('localhost');
    expect(f.serverNameTrailingDot).toBe(true);
    expect(f.serverNameIs('localhost')).toBe(true);
    expect(f.serverNameIs('localhost.')).toBe(true);
    expect(f.serverNameIs('localhos')).toBe(false);
    expect(f.serverNameIs(undefined)).toBe(false);
  });

  it('tells whether a key share is offered for a set of groups', () => {
    const f = scan(real[5]!.message)!; // s_client -groups P-256:X25519 sends one share: P-256
    expect(f.keyShareOffers(new Set([23]))).toBe(true);
    expect(f.keyShareOffers(new Set([29]))).toBe(false);
  });

  it('refuses an SNI of two trailing dots, and a message longer than the limit', () => {
    const bad = buildClientHello({ extensions: [{ type: 0, data: sniData('a.b..') }] });
    expect(scan(bad)).toBeUndefined();
    const ok = buildClientHello({ extensions: [{ type: 0, data: sniData('a.b.') }] });
    const f = new HelloFields();
    expect(scanClientHello(ok, 0, ok.length - 1, f)).toBe(false);
    expect(scanClientHello(ok, 0, ok.length, f)).toBe(true);
  });

  it('random byte mutations of real hellos: agrees whenever the parser accepts', () => {
    fc.assert(
      fc.property(
        fc.nat(real.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (which, edits) => {
          const bytes = Buffer.from(real[which]!.message);
          for (const [at, v] of edits) bytes[4 + (at % (bytes.length - 4))] = v;
          agree(bytes);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('random bodies and random extension lists: agrees whenever the parser accepts', () => {
    const extension = fc.record({
      type: fc.constantFrom(0, 16, 23, 35, 41, 42, 43, 45, 51, 0x0a0a, 1234),
      data: fc.uint8Array({ maxLength: 40 }).map((d) => Buffer.from(d)),
    });
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uniqueArray(extension, { selector: (e: BuiltExtension) => e.type, maxLength: 6 }),
        (body, extensions) => {
          agree(handshake(1, Buffer.from(body)));
          agree(buildClientHello({ extensions }));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
