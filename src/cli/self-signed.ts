import { generate } from 'selfsigned';

/** A certificate and its private key, PEM. */
export interface CertificatePair {
  /** The certificate, PEM. Also the trust anchor a client needs, since it is self-signed. */
  cert: string;
  /** The private key, PKCS#8 PEM, unencrypted. Never print it. */
  key: string;
}

/**
 * Makes a throw-away self-signed server certificate: ECDSA P-256 (the cheapest full handshake, so
 * the demo's full-vs-resumed difference is the protocol's, not RSA's), SHA-256, valid for
 * `localhost` and `127.0.0.1`, from one minute ago (clock skew) for `days` days.
 */
export async function generateSelfSigned(days = 30): Promise<CertificatePair> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + days * 86_400_000);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    // selfsigned still defaults to SHA-1, which current clients no longer accept in certificates.
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
