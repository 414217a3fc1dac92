import { X509Certificate } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTestPki } from './certs.js';

describe('makeTestPki', () => {
  const pki = makeTestPki();
  afterAll(() => pki.cleanup());
  it('issues a server certificate for localhost signed by the CA', () => {
    const server = new X509Certificate(pki.serverCert);
    const ca = new X509Certificate(pki.caCert);
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.verify(ca.publicKey)).toBe(true);
  });
});
