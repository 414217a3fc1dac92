// The client cache against our own server (attach + SessionCache, stateful resumption), with a
// proxy reading every ClientHello on the way: what was offered is checked on the server's side.
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientSessionCache } from '../../src/client/client-session-cache.js';
import { originKeyOf } from '../../src/client/origin-key.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import {
  FORGED_RECORD,
  startHelloRecorder,
  type HelloRecorder,
} from '../helpers/hello-recorder.js';
import { startServer, type TestServer, type TlsVersion } from '../helpers/tls-server.js';
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

async function serverWithRecorder(
  maxVersion: TlsVersion,
  onSecure?: (socket: tls.TLSSocket) => void,
): Promise<{ server: TestServer; recorder: HelloRecorder }> {
  const server = await startServer(pki, { maxVersion, ...(onSecure ? { onSecure } : {}) });
  const recorder = await startHelloRecorder(server.port);
  cleanups.push(
    () => server.close(),
    () => recorder.close(),
  );
  return { server, recorder };
}

function newCache(
  options: ConstructorParameters<typeof ClientSessionCache>[0] = {},
): ClientSessionCache {
  const cache = new ClientSessionCache(options);
  cleanups.push(() => cache.close());
  return cache;
}

describe.each(['TLSv1.2', 'TLSv1.3'] as const)('against attach() over %s', (version) => {
  it('resumes the next connection with the session the first one was given', async () => {
    const { server, recorder } = await serverWithRecorder(version);
    const cache = newCache();
    const first = await cachedRun(cache, recorder.port, { maxVersion: version });
    expect(first).toMatchObject({
      reused: false,
      protocol: version,
      data: 'hello',
      hadError: false,
    });
    expect(first.sessions).toBeGreaterThan(0);
    const runs = [];
    for (let i = 0; i < 4; i++)
      runs.push(await cachedRun(cache, recorder.port, { maxVersion: version }));
    expect(runs.map((r) => r.reused)).toEqual([true, true, true, true]);
    expect(server.attachment.stats().resumed).toBe(4);
    expect(cache.stats()).toMatchObject({ lookups: 5, hits: 4, misses: 1, resumed: 4 });
  });
});

describe('TLS 1.3 tickets', () => {
  it('offers each ticket at most once, over many sequential connections', async () => {
    const { recorder } = await serverWithRecorder('TLSv1.3');
    const cache = newCache();
    const runs = [];
    for (let i = 0; i < 8; i++) runs.push(await cachedRun(cache, recorder.port));
    expect(runs.map((r) => r.reused)).toEqual([false, true, true, true, true, true, true, true]);
    const offered = recorder.offeredTickets();
    expect(offered).toHaveLength(7);
    expect(new Set(offered).size).toBe(offered.length);
  });

  it('gives concurrent connections to one origin different tickets, never one twice', async () => {
    const { recorder } = await serverWithRecorder('TLSv1.3');
    const cache = newCache();
    const first = await cachedRun(cache, recorder.port);
    // Node's server sends two tickets after a full handshake: two of three concurrent connections
    // resume, each with its own ticket; the third offers none (rather than a ticket twice).
    expect(first.sessions).toBe(2);
    const runs = await Promise.all([1, 2, 3].map(() => cachedRun(cache, recorder.port)));
    expect(runs.map((r) => r.reused).sort()).toEqual([false, true, true]);
    const offered = recorder.connections
      .slice(1)
      .map((c) => c.hello.preSharedKey?.identities[0]?.identity.toString('hex'));
    expect(offered.filter((o) => o === undefined)).toHaveLength(1);
    expect(new Set(offered.filter((o) => o !== undefined)).size).toBe(2);
  });

  it('keeps at most ticketsPerOrigin tickets per origin', async () => {
    const { recorder } = await serverWithRecorder('TLSv1.3');
    const store = new MemoryStore();
    cleanups.push(() => store.close());
    const cache = newCache({ store, ticketsPerOrigin: 1 });
    const run = await cachedRun(cache, recorder.port);
    expect(run.sessions).toBe(2);
    expect(store.stats().entries).toBe(1);
    expect(cache.stats().stored).toBe(2);
  });

  it('never offers a session without a ticket (getSession() before the tickets arrive)', async () => {
    const { recorder } = await serverWithRecorder('TLSv1.3');
    const cache = newCache();
    const key = originKeyOf({
      host: '127.0.0.1',
      port: recorder.port,
      servername: 'localhost',
      rejectUnauthorized: false,
    });
    let early: Buffer | undefined;
    const socket = tls.connect(
      {
        host: '127.0.0.1',
        port: recorder.port,
        servername: 'localhost',
        rejectUnauthorized: false,
      },
      () => {
        early = socket.getSession();
      },
    );
    socket.on('data', () => {});
    await new Promise((resolve) => socket.on('close', resolve));
    expect(early).toBeInstanceOf(Buffer);
    expect(cache.add(key, early!)).toBe(false);
    expect(cache.stats().notResumable).toBe(1);
    const next = await cachedRun(cache, recorder.port);
    expect(next.reused).toBe(false);
    expect(recorder.connections.at(-1)!.hello.preSharedKey).toBeUndefined();
  });
});

describe.each(['TLSv1.2', 'TLSv1.3'] as const)('expiry and failures over %s', (version) => {
  it('never offers an expired session (injected clock)', async () => {
    const { recorder } = await serverWithRecorder(version);
    let skewMs = 0;
    const cache = newCache({ clock: () => Date.now() + skewMs });
    await cachedRun(cache, recorder.port, { maxVersion: version });
    // Our server's sessions live 300 s; the client's own TLS 1.2 timeout is 7200 s. Past both:
    skewMs = 7201 * 1000;
    const later = await cachedRun(cache, recorder.port, { maxVersion: version });
    expect(later.reused).toBe(false);
    const hello = recorder.connections.at(-1)!.hello;
    expect(hello.preSharedKey).toBeUndefined();
    if (version === 'TLSv1.2') expect(hello.legacySessionId.length).toBe(0);
    expect(cache.stats().hits).toBe(0);
  });

  it('refuses a session that has already expired when it is handed over', async () => {
    const { recorder } = await serverWithRecorder(version);
    const cache = newCache({ clock: () => Date.now() + 8 * 24 * 3600 * 1000 });
    const run = await cachedRun(cache, recorder.port, { maxVersion: version });
    expect(run.sessions).toBeGreaterThan(0);
    expect(cache.stats()).toMatchObject({ stored: 0, expired: run.sessions });
  });

  it.each(['immediately', 'afterCleanClose'] as const)(
    'keeps nothing from a connection that ended in a fatal error (keep: %s)',
    async (keep) => {
      const { recorder } = await serverWithRecorder(version, (socket) => {
        // The connection stays open: the client breaks it once it has its sessions and data.
        socket.write('hello');
        socket.on('error', () => {});
      });
      const cache = newCache({ keep });
      // By hand (lookup, tls.connect, watch: what cache.connect does), so that a TLS 1.2
      // session, handed over before the connection is secure, is counted too.
      const options: tls.ConnectionOptions = {
        host: '127.0.0.1',
        port: recorder.port,
        servername: 'localhost',
        rejectUnauthorized: false,
        maxVersion: version,
      };
      const session = await cache.lookup(options);
      const socket = tls.connect(session === undefined ? options : { ...options, session });
      cache.watch(socket, options);
      let sessions = 0;
      socket.on('session', () => sessions++);
      const errors: Error[] = [];
      socket.on('error', (error) => {
        errors.push(error);
        // What an application does: Node leaves a socket open after a TLS alert.
        socket.destroy();
      });
      // 'hello' follows the TLS 1.3 tickets; a forged record after it is a fatal bad_record_mac.
      socket.once('data', () => recorder.connections.at(-1)!.injectToClient(FORGED_RECORD));
      await new Promise((resolve) => socket.on('close', resolve));
      expect(errors).toHaveLength(1);
      expect(String(errors[0])).toMatch(/routines/); // an OpenSSL error: the record did not decrypt
      expect(sessions).toBeGreaterThan(0);
      await cache.drain();
      expect(cache.stats().droppedAfterError).toBe(sessions);
      expect(
        await cache.lookup({
          host: '127.0.0.1',
          port: recorder.port,
          servername: 'localhost',
          rejectUnauthorized: false,
          maxVersion: version,
        }),
      ).toBeUndefined();
      await cachedRun(cache, recorder.port, { maxVersion: version }, undefined, (s) => s.destroy());
      const hello = recorder.connections.at(-1)!.hello;
      expect(hello.preSharedKey).toBeUndefined();
      if (version === 'TLSv1.2') expect(hello.legacySessionId.length).toBe(0);
    },
  );
});
