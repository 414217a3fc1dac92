// Sessions from real handshakes (Node ↔ Node, openssl s_client ↔ Node, s_client ↔ s_server,
// Node ↔ s_server), decoded and compared field by field with OpenSSL's own view of them:
// `openssl sess_id -text` for what SSL_SESSION_print shows, `openssl asn1parse` for the rest.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSession } from '../../src/session/decode.js';
import type { DecodedSession } from '../../src/session/decoded-session.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import {
  nodeClientSession,
  nodeHandshake,
  opensslClientSession,
  startNodeServer,
  startOpensslServer,
  type TlsVersion,
} from '../helpers/session-handshakes.js';
import {
  expectMatchesAsn1,
  expectMatchesOpenssl,
  opensslSessId,
  opensslTextOfDer,
  opensslTextOfFile,
} from '../helpers/session-openssl.js';

let pki: TestPki;
let dir: string;
let fileCounter = 0;
const CLIENT_SUBJECT = 'O=tls-session-cache\nCN=Test Client';
const SERVER_SUBJECT = 'O=tls-session-cache\nCN=localhost';

beforeAll(() => {
  pki = makeTestPki();
  dir = mkdtempSync(join(tmpdir(), 'tsc-sessions-'));
});
afterAll(() => {
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function tempFile(suffix: string): string {
  return join(dir, `s${++fileCounter}${suffix}`);
}

/** Decodes DER and checks it against both `sess_id -text` and `asn1parse`. */
function decodeAndCompare(der: Buffer): DecodedSession {
  const session = decodeSession(der);
  expectMatchesOpenssl(session, opensslTextOfDer(der));
  expectMatchesAsn1(session, der);
  return session;
}

/** Decodes a `-sess_out` PEM file and checks it the same way, plus the PEM ↔ DER round trip. */
function decodePemAndCompare(pem: string, file: string): DecodedSession {
  const session = decodeSession(pem);
  expectMatchesOpenssl(session, opensslTextOfFile(file, 'PEM'));
  const der = opensslSessId(file, 'PEM', ['-outform', 'DER']);
  expectMatchesAsn1(session, der);
  const fromDer = decodeSession(der);
  expect(fromDer.toJSON()).toEqual(session.toJSON());
  expect(fromDer.masterSecret().equals(session.masterSecret())).toBe(true);
  expect(decodeSession(Buffer.from(pem)).toJSON()).toEqual(session.toJSON());
  return session;
}

function expectRecent(session: DecodedSession, startedAt: number): void {
  const now = Math.floor(Date.now() / 1000);
  expect(session.time).toBeGreaterThanOrEqual(startedAt - 1);
  expect(session.time).toBeLessThanOrEqual(now + 1);
  expect(session.expiresAt).toBe(session.time + session.timeout);
  expect(session.isExpired(now)).toBe(false);
  expect(session.isExpired(session.expiresAt - 1)).toBe(false);
  expect(session.isExpired(session.expiresAt)).toBe(true);
  expect(session.isExpired(session.time - 1)).toBe(true);
}

interface Case {
  version: TlsVersion;
  sni: boolean;
  alpn: boolean;
  clientCert: boolean;
}
const cases: Case[] = [];
for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  for (const sni of [false, true]) {
    for (const alpn of [false, true]) {
      for (const clientCert of [false, true]) cases.push({ version, sni, alpn, clientCert });
    }
  }
}
const label = (c: Case): string =>
  `${c.version} ${c.sni ? 'SNI' : 'no SNI'}, ${c.alpn ? 'ALPN' : 'no ALPN'}, ` +
  `${c.clientCert ? 'client cert' : 'no client cert'}`;

describe('Node server and client sessions (newSession / getSession)', () => {
  it.each(cases.map((c) => [label(c), c] as const))('%s', async (_name, c) => {
    const startedAt = Math.floor(Date.now() / 1000);
    const captured = await nodeHandshake({
      pki,
      version: c.version,
      servername: c.sni ? 'localhost' : undefined,
      alpn: c.alpn ? ['h2'] : undefined,
      clientCert: c.clientCert,
    });
    const tls13 = c.version === 'TLSv1.3';
    // TLS 1.2 without tickets: one stateful session. TLS 1.3: one per ticket (Node sends two).
    expect(captured.server).toHaveLength(tls13 ? 2 : 1);
    expect(captured.client).toBeDefined();

    const serverSessions = captured.server.map(decodeAndCompare);
    const client = decodeAndCompare(captured.client ?? Buffer.alloc(0));
    for (const s of [...serverSessions, client]) {
      expect(s.formatVersion).toBe(1);
      expect(s.protocolVersion).toBe(tls13 ? 0x0304 : 0x0303);
      expect(s.protocol).toBe(c.version);
      expect(s.cipherName).toBe(tls13 ? 'TLS_AES_256_GCM_SHA384' : 'ECDHE-ECDSA-AES128-GCM-SHA256');
      expect(s.masterSecretLength).toBe(48);
      expect(s.alpnProtocol).toBe(c.alpn ? 'h2' : undefined);
      expect(s.kexGroup).toBe(0x001d);
      expect(s.kexGroupName).toBe('x25519');
      expect(s.extendedMasterSecret).toBe(!tls13);
      expect(s.flags).toBe(tls13 ? 0 : 1);
      expect(s.verifyResult).toBe(0);
      expect(s.keyArg).toBeUndefined();
      expect(s.compressionId).toBeUndefined();
      expect(s.maxEarlyData).toBe(0);
      expect(s.maxFragmentLengthMode).toBe(0);
      expect(s.ticketAppDataLength).toBeUndefined();
      expect(s.peerRawPublicKey).toBeUndefined();
      expectRecent(s, startedAt);
    }
    for (const s of serverSessions) {
      // Node's server never acknowledges SNI in the ServerHello, and OpenSSL stores the host name
      // in the session only when it does, so server-side Node sessions never carry one.
      expect(s.hostName).toBeUndefined();
      expect(s.sessionId).toHaveLength(32);
      expect(s.sessionIdContext).toHaveLength(32);
      expect(s.ticketLength).toBeUndefined();
      expect(s.ticketLifetimeHint).toBe(0);
      expect(s.peerSubject).toBe(c.clientCert ? CLIENT_SUBJECT : undefined);
    }
    // The client keeps the server's certificate; Node uses an empty session id context.
    expect(client.peerSubject).toBe(SERVER_SUBJECT);
    expect(client.sessionIdContext).toHaveLength(0);
    if (tls13) {
      expect(client.ticketLength).toBeGreaterThan(0);
      expect(client.ticketLifetimeHint).toBe(client.timeout);
      // The client's session is the last ticket; its PSK is that server session's PSK.
      const secret = client.masterSecret();
      expect(serverSessions.some((s) => s.masterSecret().equals(secret))).toBe(true);
      expect(serverSessions.some((s) => s.ticketAgeAdd === client.ticketAgeAdd)).toBe(true);
    } else {
      const server = serverSessions[0]!;
      expect(client.sessionId.equals(server.sessionId)).toBe(true);
      expect(client.masterSecret().equals(server.masterSecret())).toBe(true);
      expect(client.ticketLength).toBeUndefined();
    }
  });

  it('records the server sessionTimeout as the timeout [2]', async () => {
    const server = await startNodeServer({ pki, version: 'TLSv1.2', sessionTimeout: 600 });
    try {
      await nodeClientSession({ pki, port: server.port, version: 'TLSv1.2' });
    } finally {
      await server.close();
    }
    expect(server.sessions).toHaveLength(1);
    expect(decodeAndCompare(server.sessions[0]!).timeout).toBe(600);
  });

  it('TLS 1.2 PSK: identity [8] on both sides, identity hint [7] on the client', async () => {
    const psk = { identity: 'alice', hint: 'the-hint', key: Buffer.alloc(32, 7) };
    const captured = await nodeHandshake({ pki, version: 'TLSv1.2', psk });
    expect(captured.server).toHaveLength(1);
    const server = decodeAndCompare(captured.server[0]!);
    const client = decodeAndCompare(captured.client ?? Buffer.alloc(0));
    expect(server.cipherName).toBe('PSK-AES128-GCM-SHA256');
    expect(server.pskIdentity).toBe('alice');
    expect(server.pskIdentityHint).toBeUndefined();
    expect(client.pskIdentity).toBe('alice');
    expect(client.pskIdentityHint).toBe('the-hint');
    // Plain PSK has no key-exchange group; OpenSSL 3.0 still writes kex_group [19], as 0.
    expect(server.kexGroup).toBe(0);
    expect(server.kexGroupName).toBeUndefined();
    expect(server.peerCertificate).toBeUndefined();
    expect(client.peerCertificate).toBeUndefined();
  });
});

describe('openssl s_client -sess_out (PEM) against a Node server', () => {
  it.each(cases.map((c) => [label(c), c] as const))('%s', async (_name, c) => {
    const server = await startNodeServer({ pki, version: c.version, clientCert: c.clientCert });
    let pem: string;
    const file = tempFile('.pem');
    try {
      pem = await opensslClientSession({
        port: server.port,
        version: c.version,
        sessOut: file,
        servername: c.sni ? 'localhost' : undefined,
        alpn: c.alpn ? 'h2' : undefined,
        cert: c.clientCert ? pki.files.clientCert : undefined,
        key: c.clientCert ? pki.files.clientKey : undefined,
        extraArgs: ['-CAfile', pki.files.caCert],
        until: 'server-closes',
      });
    } finally {
      await server.close();
    }
    expect(pem.startsWith('-----BEGIN SSL SESSION PARAMETERS-----')).toBe(true);
    const client = decodePemAndCompare(pem, file);
    expect(client.protocol).toBe(c.version);
    expect(client.alpnProtocol).toBe(c.alpn ? 'h2' : undefined);
    expect(client.peerSubject).toBe(SERVER_SUBJECT);
    expect(client.verifyResult).toBe(0);
    expect(client.ticketLength !== undefined).toBe(c.version === 'TLSv1.3');

    // The server side of the same handshake, captured by Node.
    expect(server.sessions.length).toBeGreaterThan(0);
    for (const der of server.sessions) {
      const s = decodeAndCompare(der);
      expect(s.peerSubject).toBe(c.clientCert ? CLIENT_SUBJECT : undefined);
      expect(s.alpnProtocol).toBe(c.alpn ? 'h2' : undefined);
    }
  });
});

describe('openssl s_client against openssl s_server', () => {
  it('TLS 1.3 with an acknowledged SNI, early data and max fragment length', async () => {
    const server = await startOpensslServer([
      '-cert',
      pki.files.serverCert,
      '-key',
      pki.files.serverKey,
      // A second context switched to on SNI: with it s_server acknowledges the host name, so
      // OpenSSL stores it in the session ([6]).
      '-servername',
      'localhost',
      '-cert2',
      pki.files.serverCert,
      '-key2',
      pki.files.serverKey,
      '-early_data',
      '-tls1_3',
    ]);
    const file = tempFile('.pem');
    let pem: string;
    try {
      pem = await opensslClientSession({
        port: server.port,
        version: 'TLSv1.3',
        sessOut: file,
        servername: 'localhost',
        // No -CAfile: the verify result [5] is then a real failure code.
        extraArgs: ['-maxfraglen', '512'],
        until: 'quit',
      });
    } finally {
      await server.stop();
    }
    const s = decodePemAndCompare(pem, file);
    expect(s.protocol).toBe('TLSv1.3');
    expect(s.hostName).toBe('localhost');
    expect(s.maxEarlyData).toBe(16384);
    expect(s.maxFragmentLengthMode).toBe(1);
    expect(s.verifyResult).not.toBe(0);
    expect(s.ticketLength).toBeGreaterThan(0);
    expect(s.ticketLifetimeHint).toBeGreaterThan(0);
    expect(s.ticketAgeAdd).toBeGreaterThanOrEqual(0);
  });

  it('TLS 1.2 with SNI, ALPN and a session ticket', async () => {
    const server = await startOpensslServer([
      '-cert',
      pki.files.serverCert,
      '-key',
      pki.files.serverKey,
      '-servername',
      'example.com',
      '-cert2',
      pki.files.serverCert,
      '-key2',
      pki.files.serverKey,
      '-alpn',
      'h2,http/1.1',
      '-tls1_2',
    ]);
    const file = tempFile('.pem');
    let pem: string;
    try {
      pem = await opensslClientSession({
        port: server.port,
        version: 'TLSv1.2',
        sessOut: file,
        servername: 'example.com',
        alpn: 'http/1.1',
        extraArgs: ['-CAfile', pki.files.caCert],
        until: 'quit',
      });
    } finally {
      await server.stop();
    }
    const s = decodePemAndCompare(pem, file);
    expect(s.protocol).toBe('TLSv1.2');
    expect(s.hostName).toBe('example.com');
    expect(s.extendedMasterSecret).toBe(true);
    expect(s.ticketLength).toBeGreaterThan(0);
    expect(s.ticketLifetimeHint).toBeGreaterThan(0);
    expect(s.verifyResult).toBe(0);
  });

  it('a Node client against s_server keeps the acknowledged host name', async () => {
    const server = await startOpensslServer([
      '-cert',
      pki.files.serverCert,
      '-key',
      pki.files.serverKey,
      '-servername',
      'localhost',
      '-cert2',
      pki.files.serverCert,
      '-key2',
      pki.files.serverKey,
      '-www',
      '-tls1_3',
    ]);
    let der: Buffer | undefined;
    try {
      // -www answers an HTTP request and closes; send one so the connection ends by itself.
      der = await nodeClientSessionWithRequest(server.port);
    } finally {
      await server.stop();
    }
    expect(der).toBeDefined();
    const s = decodeAndCompare(der ?? Buffer.alloc(0));
    expect(s.hostName).toBe('localhost');
    expect(s.peerSubject).toBe(SERVER_SUBJECT);
  });
});

async function nodeClientSessionWithRequest(port: number): Promise<Buffer | undefined> {
  const tls = await import('node:tls');
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca: pki.caCert,
    minVersion: 'TLSv1.3',
  });
  let session: Buffer | undefined;
  socket.on('secureConnect', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
  socket.on('end', () => {
    session = socket.getSession();
  });
  socket.resume();
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
  return session;
}

describe('PEM and DER forms of the same session', () => {
  it('sess_id -outform DER bytes are the PEM body, and decode identically', async () => {
    const server = await startNodeServer({ pki, version: 'TLSv1.3' });
    const file = tempFile('.pem');
    let pem: string;
    try {
      pem = await opensslClientSession({
        port: server.port,
        version: 'TLSv1.3',
        sessOut: file,
        servername: 'localhost',
        extraArgs: ['-CAfile', pki.files.caCert],
        until: 'server-closes',
      });
    } finally {
      await server.close();
    }
    const der = opensslSessId(file, 'PEM', ['-outform', 'DER']);
    const body = pem
      .replace('-----BEGIN SSL SESSION PARAMETERS-----', '')
      .replace('-----END SSL SESSION PARAMETERS-----', '');
    expect(der.equals(Buffer.from(body, 'base64'))).toBe(true);
    const derFile = tempFile('.der');
    writeFileSync(derFile, der);
    // And back: DER → PEM through openssl gives the text s_client wrote.
    expect(opensslSessId(derFile, 'DER', []).toString()).toBe(readFileSync(file, 'utf8'));
    expect(decodeSession(der).toJSON()).toEqual(decodeSession(pem).toJSON());
    expect(decodeSession(new Uint8Array(der)).toJSON()).toEqual(decodeSession(pem).toJSON());
  });
});
