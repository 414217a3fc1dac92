/**
 * The benchmark's certificates: self-signed ECDSA P-256 and RSA-2048 ones for `localhost`, made once per run with
 * the `openssl` CLI in a temporary directory that the server and the client processes both read.
 *
 * Why P-256: it is what most servers use today and what keeps a full handshake's server cost down
 * (an ECDSA P-256 signature is far cheaper than an RSA-2048 one), so the gap between full and
 * resumed handshakes measured here is the conservative one. Why the CLI: it is the reference
 * implementation, and the benchmark will use `openssl s_server` with the same files later.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchCert {
  dir: string;
  keyFile: string;
  certFile: string;
}

export const KEY_FILE = 'key.pem';
export const CERT_FILE = 'cert.pem';

/** The certificate kinds the benchmark measures: what resumption saves depends on the signature. */
export const CERT_KINDS = ['ecdsa', 'rsa'] as const;
export type CertKind = (typeof CERT_KINDS)[number];

/**
 * Generates the key and certificate into a fresh temporary directory: ECDSA P-256 (the default) or
 * RSA-2048, whose signature costs a full handshake several times more server CPU.
 */
export function generateCert(kind: CertKind = 'ecdsa'): BenchCert {
  const dir = mkdtempSync(join(tmpdir(), 'tls-session-cache-bench-'));
  const keyFile = join(dir, KEY_FILE);
  const certFile = join(dir, CERT_FILE);
  // prettier-ignore
  execFileSync('openssl', [
    'req', '-x509',
    ...(kind === 'rsa'
      ? ['-newkey', 'rsa:2048']
      : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { dir, keyFile, certFile };
}

/** The files of a directory made by {@link generateCert}. */
export function readCert(dir: string): { key: Buffer; cert: Buffer } {
  return { key: readFileSync(join(dir, KEY_FILE)), cert: readFileSync(join(dir, CERT_FILE)) };
}

export function removeCert(cert: BenchCert): void {
  rmSync(cert.dir, { recursive: true, force: true });
}
