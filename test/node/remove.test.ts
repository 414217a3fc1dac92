// OpenSSL's remove semantics at the wiring level: a session whose connection fails fatally after
// the handshake leaves the cache (ssl_clear_bad_session) and the remove callback hears of it;
// expired sessions are never handed to Node.
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionCache, type RemoveReason } from '../../src/cache/index.js';
import { makeTestPki } from '../helpers/certs.js';
import { connect, startServer, type TlsVersion } from '../helpers/tls-server.js';

const pki = makeTestPki();
afterAll(() => pki.cleanup());

/** A TCP proxy that, once armed, flips the last byte of the next client→server chunk. */
async function startCorruptingProxy(target: number) {
  let armed = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    upstream.on('error', () => undefined);
    client.on('error', () => undefined);
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      if (armed && chunk[0] === 0x17) {
        armed = false;
        chunk = Buffer.from(chunk);
        chunk[chunk.length - 1]! ^= 0xff;
      }
      upstream.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    arm: () => (armed = true),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.each(['TLSv1.2', 'TLSv1.3'] as const)('remove semantics, %s', (version: TlsVersion) => {
  it('a connection that ends in a fatal TLS error takes its session out of the cache', async () => {
    const removed: RemoveReason[] = [];
    let connections = 0;
    const cache = new SessionCache({ onRemove: (_id, reason) => removed.push(reason) });
    const s = await startServer(pki, {
      maxVersion: version,
      cache,
      // Keep the first connection open and echo, so the client can send a (corrupted) record;
      // later ones just say hello.
      onSecure: (socket) => {
        if (++connections > 1) return void socket.end('hello');
        socket.on('error', () => undefined);
        socket.on('data', (d: Buffer) => socket.write(d));
      },
    });
    const proxy = await startCorruptingProxy(s.port);
    try {
      const sessions: Buffer[] = [];
      await new Promise<void>((resolve) => {
        void import('node:tls').then((tls) => {
          const socket = tls.connect({
            host: '127.0.0.1',
            port: proxy.port,
            servername: 'localhost',
            rejectUnauthorized: false,
            maxVersion: version,
          });
          socket.on('session', (x: Buffer) => sessions.push(x));
          socket.on('error', () => undefined);
          socket.on('close', () => resolve());
          socket.write('ping');
          socket.once('data', () => {
            proxy.arm();
            socket.write('pong');
            // The server answers the bad record with a fatal alert and closes.
            setTimeout(() => socket.destroy(), 3000).unref();
          });
        });
      });
      expect(s.attachment.stats().badSessionsRemoved).toBe(1);
      expect(removed).toEqual(['bad']);
      // The connection's session (in TLS 1.3: its last ticket) no longer resumes.
      const last = await connect(s.port, { maxVersion: version, session: sessions.at(-1) });
      expect(last.reused).toBe(false);
      if (version === 'TLSv1.3') {
        // OpenSSL removes only the connection's current session; the earlier ticket still resumes.
        const earlier = await connect(s.port, { maxVersion: version, session: sessions[0] });
        expect(earlier.reused).toBe(true);
      }
    } finally {
      await proxy.close();
      await s.close();
    }
  });

  it('an expired session is never handed to Node', async () => {
    // The cache's clock stands still at `base` plus an offset; the entry's age counts from the
    // session's own time (OpenSSL's, whole seconds of real time, at or after `base`). So at
    // base + 299 s the session is always younger than its 300 s timeout (statefulServerOptions'
    // default), however slowly the machine runs; at base + 1 h it is expired unless the first
    // handshake took an hour. (A clock following Date.now() failed under load: more than a second
    // passed between the two handshakes.)
    const base = Date.now();
    let offsetMs = 0;
    const cache = new SessionCache({ clock: () => base + offsetMs });
    const s = await startServer(pki, { maxVersion: version, cache, sessionIdContext: 'expiry' });
    try {
      const made = await connect(s.port, { maxVersion: version });
      offsetMs = 299_000;
      const before = await connect(s.port, { maxVersion: version, session: made.sessions[0] });
      expect(before.reused).toBe(true);
      offsetMs = 3_600_000;
      const after = await connect(s.port, { maxVersion: version, session: made.sessions.at(-1) });
      expect(after.reused).toBe(false);
      expect(cache.stats().timeouts).toBe(1);
    } finally {
      await s.close();
    }
  });
});
