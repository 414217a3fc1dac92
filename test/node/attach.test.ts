import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/index.js';
import { attach, statefulServerOptions } from '../../src/node/index.js';
import { makeTestPki } from '../helpers/certs.js';
import { runSClient } from '../helpers/tls-capture.js';
import { connect, startServer, type TlsVersion } from '../helpers/tls-server.js';

const pki = makeTestPki();
const tmp = mkdtempSync(join(tmpdir(), 'tsc-attach-'));
afterAll(() => {
  pki.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const listen = (server: tls.Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
const close = (server: tls.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe.each(['TLSv1.2', 'TLSv1.3'] as const)('attach() with %s', (version: TlsVersion) => {
  const tls13 = version === 'TLSv1.3';

  it('resumes through the cache with tls.connect; hits and resumed handshakes are counted', async () => {
    const s = await startServer(pki, { maxVersion: version });
    try {
      const first = await connect(s.port, { maxVersion: version });
      expect(first).toMatchObject({ data: 'hello', reused: false, protocol: version });
      expect(first.sessions.length).toBe(tls13 ? 2 : 1); // one per TLS 1.3 ticket
      const second = await connect(s.port, { maxVersion: version, session: first.sessions[0] });
      expect(second).toMatchObject({ data: 'hello', reused: true, protocol: version });
      expect(s.cache.stats()).toMatchObject({ hits: 1, acceptGood: 2, accept: 2 });
      expect(s.attachment.stats()).toMatchObject({ handshakes: 2, resumed: 1 });
      const third = await connect(s.port, { maxVersion: version, session: first.sessions[0] });
      // TLS 1.3 tickets are single use; a TLS 1.2 session resumes again and again.
      expect(third.reused).toBe(!tls13);
      if (tls13) {
        expect(s.cache.stats().misses).toBeGreaterThan(0);
        // The tickets of a resumed connection are stored as usual.
        const fourth = await connect(s.port, { maxVersion: version, session: second.sessions[0] });
        expect(fourth.reused).toBe(true);
        expect(s.attachment.stats().resumedTls13).toBe(2);
      }
    } finally {
      await s.close();
    }
  });

  it('resumes with openssl s_client -sess_out / -sess_in', async () => {
    const s = await startServer(pki, { maxVersion: version });
    try {
      const file = join(tmp, `sess-${version}.pem`);
      const flag = tls13 ? '-tls1_3' : '-tls1_2';
      const first = await runSClient(s.port, [flag, '-servername', 'localhost', '-sess_out', file]);
      expect(first.stdout).toMatch(/^New, /m);
      const second = await runSClient(s.port, [flag, '-servername', 'localhost', '-sess_in', file]);
      expect(second.stdout).toMatch(/^Reused, /m);
      expect(s.attachment.stats().resumed).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('resumes through https.Agent on an https.Server', async () => {
    const server = https.createServer(
      { key: pki.serverKey, cert: pki.serverCert, maxVersion: version, ...statefulServerOptions() },
      (req, res) => res.end(String((req.socket as tls.TLSSocket).isSessionReused())),
    );
    const attachment = attach(server, new SessionCache());
    const port = await listen(server);
    const agent = new https.Agent({
      keepAlive: false,
      maxVersion: version,
      rejectUnauthorized: false,
    });
    const get = () =>
      new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, servername: 'localhost', agent, path: '/' }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
    try {
      expect(await get()).toBe('false');
      // The agent stores the session from the 'session' event, which in TLS 1.3 arrives with the
      // response; give it a turn before the next request.
      await new Promise((r) => setTimeout(r, 20));
      expect(await get()).toBe('true');
      expect(attachment.stats().resumed).toBe(1);
    } finally {
      agent.destroy();
      await close(server);
    }
  });

  it('resumes an http2 client on an http2 secure server', async () => {
    const server = http2.createSecureServer(
      { key: pki.serverKey, cert: pki.serverCert, maxVersion: version, ...statefulServerOptions() },
      (req, res) => res.end(String((req.socket as unknown as tls.TLSSocket).isSessionReused())),
    );
    const attachment = attach(server, new SessionCache());
    const port = await listen(server);
    const request = (session?: Buffer) =>
      new Promise<{ body: string; sessions: Buffer[] }>((resolve, reject) => {
        const sessions: Buffer[] = [];
        const client = http2.connect(`https://localhost:${port}`, {
          createConnection: () => {
            const socket = tls.connect({
              host: '127.0.0.1',
              port,
              servername: 'localhost',
              ALPNProtocols: ['h2'],
              rejectUnauthorized: false,
              maxVersion: version,
              ...(session ? { session } : {}),
            });
            socket.on('session', (s: Buffer) => sessions.push(s));
            return socket;
          },
        });
        client.on('error', reject);
        const req = client.request({ ':path': '/' });
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          client.close();
          resolve({ body, sessions });
        });
        req.end();
      });
    try {
      const first = await request();
      expect(first.body).toBe('false');
      expect(first.sessions.length).toBeGreaterThan(0);
      const second = await request(first.sessions[0]);
      expect(second.body).toBe('true');
      expect(attachment.stats().resumed).toBe(1);
    } finally {
      await close(server);
    }
  });
});

describe('attach() contract', () => {
  const newServer = () =>
    tls.createServer({ key: pki.serverKey, cert: pki.serverCert, ...statefulServerOptions() });

  it('rejects what is not a TLS server, a second attach, and existing session listeners', () => {
    expect(() => attach({} as tls.Server, new SessionCache())).toThrow(TypeError);
    const server = newServer();
    const a = attach(server, new SessionCache());
    expect(() => attach(server, new SessionCache())).toThrow(/already attached/);
    a.detach();
    const other = newServer();
    other.on('resumeSession', (_id: Buffer, cb: (e: null, d: null) => void) => cb(null, null));
    expect(() => attach(other, new SessionCache())).toThrow(/resumeSession/);
  });

  it.each([
    [{ tenant: 'white space' }, RangeError, /tenant/],
    [{ tenant: 5 }, TypeError, /tenant/],
    [{ helloTimeoutMs: 0 }, RangeError, /helloTimeoutMs/],
    [{ helloMaxBytes: 'big' }, TypeError, /helloMaxBytes/],
    [{ readClientHello: 'yes' }, TypeError, /readClientHello/],
  ])('rejects option %o', (options, type, message) => {
    expect(() => attach(newServer(), new SessionCache(), options as never)).toThrow(type);
    expect(() => attach(newServer(), new SessionCache(), options as never)).toThrow(message);
  });

  it('detach() restores the server: listeners as before, no more caching', async () => {
    const server = tls.createServer(
      {
        key: pki.serverKey,
        cert: pki.serverCert,
        ...statefulServerOptions(),
        maxVersion: 'TLSv1.2',
      },
      (socket) => socket.end('hi'),
    );
    const before = server.listeners('connection');
    const cache = new SessionCache();
    const attachment = attach(server, cache);
    expect(server.listeners('connection')).not.toEqual(before);
    attachment.detach();
    attachment.detach();
    expect(server.listeners('connection')).toEqual(before);
    expect(server.listenerCount('newSession')).toBe(0);
    expect(server.listenerCount('resumeSession')).toBe(0);
    const port = await listen(server);
    try {
      const first = await connect(port, { maxVersion: 'TLSv1.2' });
      expect(first.data).toBe('hi');
      expect(cache.stats().number).toBe(0);
      // It can be attached again.
      attach(server, cache);
    } finally {
      await close(server);
    }
  });

  it('statefulServerOptions() validates and sets SSL_OP_NO_TICKET', () => {
    const options = statefulServerOptions({ sessionIdContext: 'svc', sessionTimeout: 60 });
    expect(options.sessionIdContext).toBe('svc');
    expect(options.sessionTimeout).toBe(60);
    expect(options.secureOptions & 0x4000).toBe(0x4000);
    expect(() => statefulServerOptions({ sessionIdContext: 'x'.repeat(33) })).toThrow(RangeError);
    expect(() => statefulServerOptions({ sessionTimeout: 0 })).toThrow(/sessionTimeout/);
    expect(statefulServerOptions({ secureOptions: 2 ** 33 }).secureOptions).toBe(2 ** 33 + 0x4000);
  });
});
