// What the ClientHello reader and Node's own ClientHello hook make possible with real clients: TLS
// 1.3 resumption for clients with an empty legacy session id (`s_client -no_middlebox`), SNI with a
// trailing dot, truthful counters around a HelloRetryRequest, and RFC 7627 §5.3 for an EMS session
// offered without EMS, each checked against what OpenSSL's own s_server does where it matters.
// Assertions test s_client's output with a regex and compare booleans, so that a failure never
// prints the session's master key.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTestPki } from '../helpers/certs.js';
import { runSClient } from '../helpers/tls-capture.js';
import { startServer, type TlsVersion } from '../helpers/tls-server.js';

const pki = makeTestPki();
const tmp = mkdtempSync(join(tmpdir(), 'tsc-hello-hook-'));
afterAll(() => {
  pki.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const reused = (stdout: string): boolean => /^Reused, /m.test(stdout);
const fresh = (stdout: string): boolean => /^New, /m.test(stdout);
const versionFlag = (v: TlsVersion): string => (v === 'TLSv1.2' ? '-tls1_2' : '-tls1_3');

describe('Node ClientHello hook', () => {
  it('is installed on this Node (the feature test passes)', async () => {
    const s = await startServer(pki);
    try {
      expect(s.attachment.helloHook).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('a TLS 1.3 client with an empty legacy session id (-no_middlebox) resumes', async () => {
    const s = await startServer(pki, { maxVersion: 'TLSv1.3' });
    const file = join(tmp, 'no-middlebox.pem');
    try {
      const args = ['-tls1_3', '-servername', 'localhost', '-no_middlebox'];
      const first = await runSClient(s.port, [...args, '-sess_out', file]);
      expect(fresh(first.stdout)).toBe(true);
      const second = await runSClient(s.port, [...args, '-sess_in', file]);
      expect(reused(second.stdout)).toBe(true);
      expect(s.attachment.stats().tls13NoLegacySessionId).toBe(1);
      expect(s.attachment.stats().resumedTls13).toBe(1);
      expect(s.cache.stats().hits).toBe(1);
    } finally {
      await s.close();
    }
  });
});

describe.each(['TLSv1.2', 'TLSv1.3'] as const)('SNI with a trailing dot, %s', (version) => {
  it('localhost. is read (not passed through) and resumes, as with OpenSSL', async () => {
    const s = await startServer(pki, { maxVersion: version });
    const file = join(tmp, `dot-${version}.pem`);
    try {
      const args = [versionFlag(version), '-servername', 'localhost.'];
      const first = await runSClient(s.port, [...args, '-sess_out', file]);
      expect(fresh(first.stdout)).toBe(true);
      const second = await runSClient(s.port, [...args, '-sess_in', file]);
      expect(reused(second.stdout)).toBe(true);
      expect(s.attachment.stats().helloParsed).toBe(2);
      expect(s.attachment.stats().helloPassthrough).toBe(0);
      expect(s.attachment.stats().rejectedHostName).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('a session made for localhost resumes for localhost. (one DNS name), not for another host', async () => {
    const s = await startServer(pki, { maxVersion: version });
    const file = join(tmp, `nodot-${version}.pem`);
    try {
      const v = versionFlag(version);
      await runSClient(s.port, [v, '-servername', 'localhost', '-sess_out', file]);
      const dotted = await runSClient(s.port, [v, '-servername', 'localhost.', '-sess_in', file]);
      expect(reused(dotted.stdout)).toBe(true);
      // The TLS 1.3 ticket was used once; take the new one for the negative case.
      const file2 = join(tmp, `nodot2-${version}.pem`);
      await runSClient(s.port, [v, '-servername', 'localhost', '-sess_out', file2]);
      const other = await runSClient(s.port, [v, '-servername', 'other.', '-sess_in', file2]);
      expect(reused(other.stdout)).toBe(false);
      expect(s.attachment.stats().rejectedHostName).toBe(1);
    } finally {
      await s.close();
    }
  });
});

describe('TLS 1.3 after a HelloRetryRequest', () => {
  it('does not take the ticket, counts no hit, fires no resume; the ticket resumes later', async () => {
    // The server accepts only X25519; a client whose first (only) key share is P-256 gets a
    // HelloRetryRequest. Node asks for a session once per connection, so that one cannot resume.
    const s = await startServer(pki, { maxVersion: 'TLSv1.3', tls: { ecdhCurve: 'X25519' } });
    const file = join(tmp, 'hrr.pem');
    try {
      const base = ['-tls1_3', '-servername', 'localhost'];
      await runSClient(s.port, [...base, '-groups', 'X25519', '-sess_out', file]);
      const retried = await runSClient(s.port, [
        ...base,
        '-groups',
        'P-256:X25519',
        '-sess_in',
        file,
      ]);
      expect(fresh(retried.stdout)).toBe(true);
      expect(s.attachment.stats().tls13HelloRetry).toBe(1);
      expect(s.attachment.stats().tls13TakenNotResumed).toBe(0);
      expect(s.cache.stats().hits).toBe(0);
      // The ticket was left in the cache: offered without a retry, it resumes (once).
      const later = await runSClient(s.port, [...base, '-groups', 'X25519', '-sess_in', file]);
      expect(reused(later.stdout)).toBe(true);
      expect(s.cache.stats().hits).toBe(1);
    } finally {
      await s.close();
    }
  });
});

/**
 * Runs a Node client in a child process: a first TLS 1.2 connection (with EMS, Node's default),
 * then one that offers that session with EMS switched off (SSL_OP_NO_EXTENDED_MASTER_SECRET,
 * OpenSSL 3.0's bit 0). A child, because Node 20's client crashes (SIGSEGV) after that alert.
 */
function emsDropClient(port: number): Promise<{ first: string; second: string }> {
  const script = `
    const tls = require('node:tls');
    const port = ${port};
    function conn(opts) {
      return new Promise((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost',
          rejectUnauthorized: false, maxVersion: 'TLSv1.2', ...opts });
        let session; let outcome = 'closed';
        s.on('session', (x) => { session = x; });
        s.on('secureConnect', () => { outcome = s.isSessionReused() ? 'reused' : 'full';
          s.write('GET / HTTP/1.0\\r\\n\\r\\n'); });
        s.on('data', () => {});
        s.on('error', (e) => { if (outcome === 'closed') outcome = 'error ' + e.code; });
        s.on('close', () => resolve({ outcome, session }));
      });
    }
    (async () => {
      const a = await conn({});
      console.log('first ' + a.outcome);
      const b = await conn({ session: a.session, secureOptions: 1 });
      console.log('second ' + b.outcome);
    })();`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    const lines: Record<string, string> = {};
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [key, ...rest] = line.split(' ');
      lines[key!] = rest.join(' ');
    });
    child.on('close', () => resolve({ first: lines.first ?? '', second: lines.second ?? '' }));
  });
}

describe('an EMS session offered without EMS (RFC 7627 §5.3)', () => {
  it("OpenSSL's s_server aborts with handshake_failure, and so does an attached Node server", async () => {
    // The reference: s_server with its internal cache.
    const sServer = spawn(
      'openssl',
      [
        's_server',
        '-accept',
        '127.0.0.1:0',
        '-key',
        pki.files.serverKey,
        '-cert',
        pki.files.serverCert,
        '-no_ticket',
        '-tls1_2',
        '-www',
      ],
      { stdio: ['pipe', 'pipe', 'ignore'] },
    );
    try {
      const port = await new Promise<number>((resolve) => {
        createInterface({ input: sServer.stdout! }).on('line', (line) => {
          const m = /^ACCEPT .*:(\d+)$/.exec(line);
          if (m) resolve(Number(m[1]));
        });
      });
      const reference = await emsDropClient(port);
      expect(reference).toEqual({
        first: 'full',
        second: 'error ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
      });
    } finally {
      sServer.kill();
    }
    const s = await startServer(pki, { maxVersion: 'TLSv1.2' });
    try {
      const ours = await emsDropClient(s.port);
      expect(ours).toEqual({
        first: 'full',
        second: 'error ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
      });
      expect(s.attachment.stats().resumed).toBe(0);
    } finally {
      await s.close();
    }
  });
});

it('openssl is available for these tests', () => {
  expect(spawnSync('openssl', ['version']).status).toBe(0);
});
