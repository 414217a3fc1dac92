// A throw-away self-signed certificate for `demo` and `serve` without --cert, made with node:crypto
// alone. Hand-written on purpose: the libraries made for this (selfsigned, @peculiar/x509, node-forge)
// cost every user of the library 25 packages and 10 MB, or lack ECDSA keys, for a CLI convenience.
// The certificate is one fixed template of a dozen DER fields; X509Certificate, `openssl x509` and
// real handshakes check it (test/cli/self-signed.test.ts).
import { X509Certificate, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/** A certificate and its private key, PEM. */
export interface CertificatePair {
  /** The certificate, PEM. Also the trust anchor a client needs, since it is self-signed. */
  cert: string;
  /** The private key, PKCS#8 PEM, unencrypted. Never print it. */
  key: string;
}

/** DER: a tag, its definite length, its contents (X.690 §8.1). */
function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  const length =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : Buffer.from([0x82, n >> 8, n & 0xff]); // a certificate here is < 64 KiB
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

const sequence = (...items: Buffer[]): Buffer => der(0x30, ...items);

/** An OBJECT IDENTIFIER from its dotted form. */
function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return der(0x06, Buffer.from(bytes));
}

/** UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-12-07T18:20:32.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'; // 20261207182032Z
  return date.getUTCFullYear() < 2050
    ? der(0x17, Buffer.from(digits.slice(2), 'latin1'))
    : der(0x18, Buffer.from(digits, 'latin1'));
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

/** An extension: its OID, whether critical, its DER value wrapped in an OCTET STRING. */
function extension(id: string, critical: boolean, value: Buffer): Buffer {
  const flag = critical ? [der(0x01, Buffer.from([0xff]))] : [];
  return sequence(oid(id), ...flag, der(0x04, value));
}

/**
 * Makes a throw-away self-signed server certificate: ECDSA P-256 (the cheapest full handshake, so
 * the demo's full-vs-resumed difference is the protocol's, not RSA's), SHA-256, valid for
 * `localhost`, `127.0.0.1` and `::1`, from one minute ago (clock skew) for `days` days.
 */
export async function generateSelfSigned(days = 30): Promise<CertificatePair> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  // CN=localhost, as issuer and subject.
  const name = sequence(der(0x31, sequence(oid('2.5.4.3'), der(0x0c, Buffer.from('localhost')))));
  // A positive 16-byte serial (RFC 5280 §4.1.2.2: at most 20 bytes, positive).
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const extensions = sequence(
    // basicConstraints: not a CA (cA FALSE is the default, so the SEQUENCE is empty).
    extension('2.5.29.19', true, sequence()),
    // keyUsage: digitalSignature (bit 0; 7 unused bits).
    extension('2.5.29.15', true, der(0x03, Buffer.from([0x07, 0x80]))),
    // extKeyUsage: serverAuth.
    extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))),
    // subjectAltName: dNSName [2] localhost, iPAddress [7] 127.0.0.1 and ::1.
    extension(
      '2.5.29.17',
      false,
      sequence(
        der(0x82, Buffer.from('localhost', 'latin1')),
        der(0x87, Buffer.from([127, 0, 0, 1])),
        der(0x87, Buffer.concat([Buffer.alloc(15), Buffer.from([1])])),
      ),
    ),
  );
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))), // version v3
    der(0x02, serial),
    ECDSA_WITH_SHA256,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, extensions),
  );
  // node signs ECDSA as a DER Ecdsa-Sig-Value, which is what the certificate's BIT STRING holds.
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, ECDSA_WITH_SHA256, der(0x03, Buffer.from([0]), signature));
  const cert = new X509Certificate(certificate).toString();
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { cert, key };
}
