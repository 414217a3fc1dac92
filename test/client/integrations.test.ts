// The drop-in integrations with real HTTPS: SessionCachingAgent (https.Agent) and undiciConnector
// (undici's Agent and Node's global fetch), against an https server with our cache attached that
// answers with whether the connection resumed; and a codec (encryption at rest) on the store path.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type tls from 'node:tls';
import { Agent as UndiciAgent, fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/index.js';
import { ClientSessionCache } from '../../src/client/client-session-cache.js';
import { SessionCachingAgent } from '../../src/client/https-agent.js';
import { undiciConnector } from '../../src/client/undici-connector.js';
import { attach, statefulServerOptions } from '../../src/node/index.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import type { StoredSessionCodec } from '../../src/session/stored-record.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { cachedRun } from './helpers.js';

let pki: TestPki;
const cleanups: (() => Promise<void> | void)[] = [];
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.cleanup());
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startHttps(maxVersion: tls.SecureVersion): Promise<number> {
  const server = https.createServer(
    {
      key: pki.serverKey,
      cert: pki.serverCert,
      maxVersion,
      ...statefulServerOptions({ sessionIdContext: 'client-tests' }),
    },
    (req, res) => {
      const socket = req.socket as tls.TLSSocket;
      res.end(JSON.stringify({ reused: socket.isSessionReused(), protocol: socket.getProtocol() }));
    },
  );
  attach(server, new SessionCache());
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  );
  return (server.address() as AddressInfo).port;
}

function newCache(options: ConstructorParameters<typeof ClientSessionCache>[0] = {}) {
  const cache = new ClientSessionCache(options);
  cleanups.push(() => cache.close());
  return cache;
}

function get(
  port: number,
  agent: https.Agent,
): Promise<{ reused: boolean; protocol: string; clientReused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, servername: 'localhost', ca: pki.caCert, agent, path: '/' },
      (res) => {
        // Read now: a keep-alive socket is detached from the response once it ended.
        const clientReused = (res.socket as tls.TLSSocket).isSessionReused();
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({
            ...(JSON.parse(body) as { reused: boolean; protocol: string }),
            clientReused,
          }),
        );
      },
    );
    req.on('error', reject);
  });
}

describe.each(['TLSv1.2', 'TLSv1.3'] as const)('SessionCachingAgent (%s)', (version) => {
  it('resumes new connections of the agent from the cache', async () => {
    const port = await startHttps(version);
    const cache = newCache();
    const agent = new SessionCachingAgent({ keepAlive: false, sessionCache: cache });
    cleanups.push(() => agent.destroy());
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await get(port, agent));
    expect(results.map((r) => r.protocol)).toEqual(Array(4).fill(version));
    expect(results.map((r) => r.reused)).toEqual([false, true, true, true]);
    expect(results.map((r) => r.clientReused)).toEqual([false, true, true, true]);
    expect(cache.stats().resumed).toBe(3);
  });

  it('shares the cache between agents, and keeps sessions of keep-alive sockets once a request completed', async () => {
    const port = await startHttps(version);
    const cache = newCache({ keep: 'afterCleanClose' });
    const a = new SessionCachingAgent({ keepAlive: true, sessionCache: cache });
    const b = new SessionCachingAgent({ keepAlive: true, sessionCache: cache });
    cleanups.push(
      () => a.destroy(),
      () => b.destroy(),
    );
    expect((await get(port, a)).reused).toBe(false);
    // a's socket is still open (keep-alive): its sessions were released by the agent's 'free'.
    expect((await get(port, b)).reused).toBe(true);
  });
});

describe('SessionCachingAgent, TLS 1.3 concurrency', () => {
  it('gives concurrent new sockets different tickets', async () => {
    const port = await startHttps('TLSv1.3');
    const cache = newCache();
    const agent = new SessionCachingAgent({ keepAlive: true, sessionCache: cache });
    cleanups.push(() => agent.destroy());
    await get(port, agent);
    agent.destroy(); // the next requests need new sockets
    const agent2 = new SessionCachingAgent({ keepAlive: true, sessionCache: cache });
    cleanups.push(() => agent2.destroy());
    const results = await Promise.all([get(port, agent2), get(port, agent2)]);
    // Two tickets from the first connection: both concurrent sockets resume (one ticket each; the
    // server would refuse a ticket offered twice — its cache takes each out on use).
    expect(results.map((r) => r.reused)).toEqual([true, true]);
  });
});

describe.each(['TLSv1.2', 'TLSv1.3'] as const)('undiciConnector (%s)', (version) => {
  it('resumes with undici.Agent and with Node’s global fetch', async () => {
    const port = await startHttps(version);
    const cache = newCache();
    const connect = undiciConnector(cache, {
      ca: pki.caCert,
      servername: 'localhost',
      maxVersion: version,
    });
    const results: { reused: boolean; protocol: string }[] = [];
    for (let i = 0; i < 4; i++) {
      // A new dispatcher each time: every request is a new connection, as in a new process.
      const dispatcher = new UndiciAgent({ connect });
      const url = `https://127.0.0.1:${port}/`;
      const response =
        i % 2 === 0
          ? await undiciFetch(url, { dispatcher })
          : // Node 20's global fetch is undici 6 inside: it takes the package's dispatcher.
            await fetch(url, { dispatcher } as RequestInit);
      results.push((await response.json()) as { reused: boolean; protocol: string });
      await dispatcher.close();
    }
    expect(results.map((r) => r.protocol)).toEqual(Array(4).fill(version));
    expect(results.map((r) => r.reused)).toEqual([false, true, true, true]);
  });
});

/** A stand-in for the AES-GCM codec of the encryption work: binds (namespace, id) as AAD. */
function testCodec(key = randomBytes(32)): StoredSessionCodec {
  const aad = (ctx: { namespace: string; id: Uint8Array }) =>
    Buffer.concat([Buffer.from(ctx.namespace), Buffer.from([0]), ctx.id]);
  return {
    id: 7,
    encode(body, ctx) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv).setAAD(aad(ctx));
      const out = Buffer.concat([c.update(body), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), out]);
    },
    decode(payload, ctx) {
      const b = Buffer.from(payload);
      const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12)).setAAD(aad(ctx));
      d.setAuthTag(b.subarray(12, 28));
      return Buffer.concat([d.update(b.subarray(28)), d.final()]);
    },
  };
}

describe('encryption at rest (codec)', () => {
  it('stores only encoded values, resumes through them, and refuses values of another key', async () => {
    const port = await startHttps('TLSv1.3');
    const store = new MemoryStore();
    cleanups.push(() => store.close());
    const cache = newCache({ store, codec: testCodec() });
    await cachedRun(cache, port, {}, 'GET / HTTP/1.0\r\n\r\n');
    const values = [];
    for await (const e of store.list({ withValues: true })) values.push(e.value!);
    expect(values.length).toBe(2);
    // Format byte, then the codec's id: never the plain id 0, and no DER in the clear.
    expect(values.every((v) => v[0] === 0xc1 && v[1] === 7)).toBe(true);
    expect((await cachedRun(cache, port, {}, 'GET / HTTP/1.0\r\n\r\n')).reused).toBe(true);

    // Another key (a process with the wrong keyring) reads the same store: decode errors, no offer.
    const other = newCache({ store, codec: testCodec() });
    const run = await cachedRun(other, port, {}, 'GET / HTTP/1.0\r\n\r\n');
    expect(run.reused).toBe(false);
    expect(other.stats().decodeErrors).toBeGreaterThan(0);
    // And a cache without the codec refuses encoded values too.
    const plain = newCache({ store });
    expect((await cachedRun(plain, port, {}, 'GET / HTTP/1.0\r\n\r\n')).reused).toBe(false);
    expect(plain.stats().decodeErrors).toBeGreaterThan(0);
  });
});
