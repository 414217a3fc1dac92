// The CLI's own self-signed certificate maker (node:crypto only, no certificate library): what it
// makes parses as the X.509 v3 certificate it claims to be (node's X509Certificate and the real
// `openssl` command), verifies under its own key, and serves real TLS handshakes that a client
// trusting it accepts for its names (localhost, 127.0.0.1; ::1 by node's name check) — and rejects
// for another name.
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned, type CertificatePair } from '../../src/cli/self-signed.js';

let pair: CertificatePair;
let dir: string;

beforeAll(async () => {
  pair = await generateSelfSigned();
  dir = mkdtempSync(join(tmpdir(), 'tsc-self-signed-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generateSelfSigned', () => {
  it('makes an ECDSA P-256 X.509 v3 server certificate for localhost, signed by its own key', () => {
    const before = Date.now();
    const x = new X509Certificate(pair.cert);
    expect(x.subject).toBe('CN=localhost');
    expect(x.issuer).toBe('CN=localhost');
    expect(x.subjectAltName).toBe(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.checkIP('::1')).toBe('::1');
    expect(x.ca).toBe(false);
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth
    expect(x.publicKey.asymmetricKeyType).toBe('ec');
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkPrivateKey(createPrivateKey(pair.key))).toBe(true);
    // Valid from a minute ago (clock skew) for the default 30 days.
    const from = Date.parse(x.validFrom);
    const to = Date.parse(x.validTo);
    expect(from).toBeLessThanOrEqual(before - 59_000);
    expect(from).toBeGreaterThan(before - 120_000);
    expect(to - from).toBe(30 * 86_400_000);
    // A positive serial number, fresh per certificate.
    expect(Number.parseInt(x.serialNumber.slice(0, 2), 16)).toBeLessThan(0x80);
  });

  it('gives each certificate its own key and serial number', async () => {
    const other = await generateSelfSigned();
    const a = new X509Certificate(pair.cert);
    const b = new X509Certificate(other.cert);
    expect(b.serialNumber).not.toBe(a.serialNumber);
    expect(b.verify(a.publicKey)).toBe(false);
  });

  it('writes GeneralizedTime for dates from 2050 (RFC 5280), which openssl reads back', async () => {
    const long = await generateSelfSigned(365 * 40);
    const x = new X509Certificate(long.cert);
    const years = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / (365 * 86_400_000);
    expect(years).toBe(40);
    const file = join(dir, 'long.pem');
    writeFileSync(file, long.cert);
    const text = execFileSync('openssl', ['x509', '-in', file, '-noout', '-enddate'], {
      encoding: 'utf8',
    });
    expect(text).toMatch(new RegExp(`notAfter=.* ${new Date(x.validTo).getUTCFullYear()} GMT`));
  });

  it('is accepted by openssl: parsed with its extensions, verified as its own trust anchor', () => {
    const file = join(dir, 'cert.pem');
    writeFileSync(file, pair.cert);
    const text = execFileSync('openssl', ['x509', '-in', file, '-noout', '-text'], {
      encoding: 'utf8',
    });
    expect(text).toContain('Version: 3 (0x2)');
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature/);
    expect(text).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication/);
    const verified = execFileSync(
      'openssl',
      ['verify', '-x509_strict', '-purpose', 'sslserver', '-partial_chain', '-CAfile', file, file],
      { encoding: 'utf8' },
    );
    expect(verified.trim()).toBe(`${file}: OK`);
  });

  it('serves real TLS handshakes that a client trusting it accepts for its names only', async () => {
    const server = tls.createServer({ cert: pair.cert, key: pair.key }, (socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const connect = (options: tls.ConnectionOptions) =>
      new Promise<{ authorized: boolean; error?: string }>((resolve) => {
        const socket = tls.connect({ port, host: '127.0.0.1', ca: pair.cert, ...options });
        socket.once('secureConnect', () => {
          resolve({ authorized: socket.authorized });
          socket.destroy();
        });
        socket.once('error', (error: NodeJS.ErrnoException) => {
          resolve({ authorized: false, error: error.code ?? error.message });
        });
      });
    try {
      expect(await connect({ servername: 'localhost' })).toEqual({ authorized: true });
      // No SNI: the identity checked is the IP address connected to.
      expect(await connect({})).toEqual({ authorized: true });
      expect(await connect({ servername: 'example.com' })).toEqual({
        authorized: false,
        error: 'ERR_TLS_CERT_ALTNAME_INVALID',
      });
      // Not trusted without the certificate as anchor.
      expect(await connect({ servername: 'localhost', ca: undefined })).toMatchObject({
        authorized: false,
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
