// The pitfalls found by experiment when wiring a cache into Node's TLS server, one test each.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionCache, type CachedSession } from '../../src/cache/index.js';
import { makeTestPki } from '../helpers/certs.js';
import { WAIT_MS } from '../helpers/eventually.js';
import { startReframingProxy } from '../helpers/tls-proxy.js';
import { connect, startServer, type TlsVersion } from '../helpers/tls-server.js';

const pki = makeTestPki();
const tmp = mkdtempSync(join(tmpdir(), 'tsc-pitfalls-'));
afterAll(() => {
  pki.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * Sends raw bytes, waits until the server closes the connection — or `ms` pass, a hang detector
 * (test/helpers/eventually.ts): the servers here close by their own handshakeTimeout.
 */
function sendRaw(
  port: number,
  bytes: Buffer,
  ms = WAIT_MS,
): Promise<{ closed: boolean; received: Buffer }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, received: Buffer.concat(chunks) });
    }, ms);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, received: Buffer.concat(chunks) });
    });
  });
}

describe.each(['TLSv1.2', 'TLSv1.3'] as const)('pitfalls, %s', (version: TlsVersion) => {
  it.each([
    ['a ClientHello split into 64-byte TLS records', { recordSize: 64 }, 1],
    ['a ClientHello sent in 7-byte TCP segments', { segmentSize: 7, segmentDelayMs: 1 }, 0],
    ['both at once', { recordSize: 100, segmentSize: 13, segmentDelayMs: 1 }, 1],
  ])('%s still resumes', async (_name, reframe, merged) => {
    const s = await startServer(pki, { maxVersion: version });
    const proxy = await startReframingProxy(s.port, reframe);
    try {
      const first = await connect(proxy.port, { maxVersion: version });
      expect(first.data).toBe('hello');
      const second = await connect(proxy.port, { maxVersion: version, session: first.sessions[0] });
      expect(second.reused).toBe(true);
      expect(s.attachment.stats().helloMerged).toBe(2 * merged);
      expect(s.attachment.stats().helloParsed).toBe(2);
    } finally {
      await proxy.close();
      await s.close();
    }
  });

  it('the newSession callback is answered at once: a slow store does not hold back the reply', async () => {
    let writes = 0;
    const cache = new SessionCache({
      onNew: () => {
        // An external store whose write has not finished when the test looks: it finishes only
        // once the test releases it, so the reply cannot have waited for it.
        writes++;
        void new Promise<void>((resolve) => pending.push(resolve)).then(() => finished++);
      },
    });
    const pending: (() => void)[] = [];
    let finished = 0;
    const s = await startServer(pki, { maxVersion: version, cache });
    try {
      const first = await connect(s.port, { maxVersion: version });
      expect(first.data).toBe('hello');
      expect(writes).toBe(version === 'TLSv1.3' ? 2 : 1);
      expect(finished).toBe(0);
      for (const release of pending) release();
    } finally {
      await s.close();
    }
  });

  it.each([
    ['rejects', () => Promise.reject(new Error('store down'))],
    [
      'throws',
      () => {
        throw new Error('store down');
      },
    ],
    ['never answers', () => new Promise<CachedSession | undefined>(() => undefined)],
  ])('a store that %s becomes a miss within the deadline, never an error', async (_name, onGet) => {
    const cache = new SessionCache({ noInternalLookup: true, lookupDeadlineMs: 30, onGet });
    const s = await startServer(pki, { maxVersion: version, cache });
    try {
      const first = await connect(s.port, { maxVersion: version });
      // A store that never answers cannot have ended this lookup: its deadline (lookupDeadlineMs)
      // did. That the handshake completes is the claim; a stopwatch would only time the machine.
      const second = await connect(s.port, { maxVersion: version, session: first.sessions[0] });
      expect(second.error).toBeUndefined();
      expect(second).toMatchObject({ data: 'hello', reused: false });
      const stats = cache.stats();
      expect(stats.getErrors + stats.getTimeouts).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('only the exact session for the offered id is handed to Node', async () => {
    // An external cache that answers every lookup with some other valid session: handing that to
    // OpenSSL would abort a TLS 1.3 handshake with a binder error instead of a full handshake.
    let other: CachedSession | undefined;
    const cache = new SessionCache({ noInternalLookup: true, onGet: () => other });
    cache.onNew = (s) => {
      other ??= s;
    };
    const s = await startServer(pki, { maxVersion: version, cache });
    try {
      await connect(s.port, { maxVersion: version });
      const victim = await connect(s.port, { maxVersion: version });
      const resumedWrong = await connect(s.port, {
        maxVersion: version,
        session: victim.sessions.at(-1),
      });
      expect(resumedWrong.error).toBeUndefined();
      expect(resumedWrong).toMatchObject({ data: 'hello', reused: false });
      expect(cache.stats().getErrors).toBe(1);
    } finally {
      await s.close();
    }
  });
});

describe('pitfalls, any version', () => {
  it.each([
    ['HTTP plaintext', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    [
      'an SSLv2-compatible hello',
      Buffer.from('802e0103010015000000100100800300800700c0060040020080040080', 'hex'),
    ],
    ['garbage', Buffer.from('16030100ff0000000000000000', 'hex')],
    ['a handshake record that is not a ClientHello', Buffer.from('1603010006020000020303', 'hex')],
  ])(
    '%s is handed to OpenSSL untouched; the server rejects it and lives on',
    async (_name, bytes) => {
      const errors: string[] = [];
      // Incomplete records make OpenSSL wait for more; Node's handshakeTimeout then closes them.
      const s = await startServer(pki, {
        attach: { helloTimeoutMs: 300 },
        tls: { handshakeTimeout: 500 },
      });
      s.server.on('tlsClientError', (e: Error) => errors.push(e.message));
      try {
        const result = await sendRaw(s.port, bytes);
        expect(result.closed).toBe(true);
        // The server still works.
        const ok = await connect(s.port);
        expect(ok.data).toBe('hello');
        expect(s.attachment.stats().helloPassthrough).toBeGreaterThanOrEqual(1);
      } finally {
        await s.close();
      }
    },
  );

  it('a client that sends 3 bytes and stalls is handed over after the hello timeout', async () => {
    const s = await startServer(pki, {
      attach: { helloTimeoutMs: 200 },
      tls: { handshakeTimeout: 400 },
    });
    try {
      const result = await sendRaw(s.port, Buffer.from([0x16, 0x03, 0x01]));
      // Closed by Node's handshakeTimeout after the reader gave up: nobody holds it forever.
      expect(result.closed).toBe(true);
      expect(s.attachment.stats().helloPassthrough).toBe(1);
    } finally {
      await s.close();
    }
  });
  // TLS 1.3 clients without a legacy session id: see hello-hook.test.ts (they resume now).
});

it('openssl is available for these tests', () => {
  expect(spawnSync('openssl', ['version']).status).toBe(0);
});
