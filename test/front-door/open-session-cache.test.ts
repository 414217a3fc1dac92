// openSessionCache() end to end, with real TLS handshakes (Node's tls client against tls servers
// made with sessions.serverOptions()): sessions resume through the memory store, a real SQLite file
// with encryption on, and a real redis-server; two services on one SQLite file resume each other's
// TLS 1.2 and TLS 1.3 sessions; one service serves several servers; stats() has one shape;
// internalCache turns the engine's cache on with the memory store (the store unused) and off in
// front of SQLite (every lookup reads the file); and close() detaches, closes the cache, lets
// pending writes land and only then closes the store
// (checked by reading the store afterwards); mode: 'tickets' resumes stateless tickets and TLS 1.2
// session ids across two services sharing the keys through one SQLite file.
import { constants, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openSessionCache, type SessionService } from '../../src/front-door/index.js';
import type { Attachment } from '../../src/node/attach.js';
import { emptyAttachmentStats } from '../../src/node/attachment-stats.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';
import type { SessionStore } from '../../src/stores/store.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { skipWithoutRedis, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { SHARED_STORE_LOOKUP_DEADLINE_MS } from '../helpers/eventually.js';
import { connect, type TlsVersion } from '../helpers/tls-server.js';

const NO_REDIS = skipWithoutRedis('the openSessionCache Redis tests');
// A random key, not a pattern: the leak scan looks for every key in all output, and a key of
// repeated bytes also matches unrelated fixtures (a session id of repeated bytes printed by a CLI test).
const KEY = `k1:${randomBytes(32).toString('hex')}`;
const VERSIONS: TlsVersion[] = ['TLSv1.2', 'TLSv1.3'];

let pki: TestPki;
let dir: string;
beforeAll(() => {
  pki = makeTestPki();
  dir = mkdtempSync(join(tmpdir(), 'tsc-front-door-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Served {
  server: tls.Server;
  attachment: Attachment;
  port: number;
  close(): Promise<void>;
}

/** A tls.Server made the way the README says (serverOptions, then attach), listening. */
async function serve(sessions: SessionService, maxVersion: TlsVersion): Promise<Served> {
  const server = tls.createServer(
    { key: pki.serverKey, cert: pki.serverCert, maxVersion, ...sessions.serverOptions() },
    (socket) => socket.end('hello'),
  );
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  const attachment = sessions.attach(server);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    attachment,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** A full handshake on `a`, then a resumption attempt with its session on `b`. */
async function madeOnAResumedOnB(a: Served, b: Served, version: TlsVersion): Promise<boolean> {
  const first = await connect(a.port, { maxVersion: version });
  expect(first.error).toBeUndefined();
  expect(first.reused).toBe(false);
  expect(first.protocol).toBe(version);
  const session = first.sessions.at(-1);
  expect(session).toBeDefined();
  const second = await connect(b.port, { maxVersion: version, session: session! });
  expect(second.error).toBeUndefined();
  expect(second.data).toBe('hello');
  return second.reused;
}

describe('openSessionCache: internalCache', () => {
  for (const version of VERSIONS) {
    it(`memory with internalCache: true: ${version} resumes from the engine's cache alone`, async () => {
      const sessions = await openSessionCache({
        internalCache: true,
        sessionIdContext: 'front-door',
      });
      const a = await serve(sessions, version);
      try {
        expect(await madeOnAResumedOnB(a, a, version)).toBe(true);
        const stats = sessions.stats();
        expect(stats.cache.hits).toBe(1);
        expect(stats.cache.number).toBeGreaterThanOrEqual(1);
        // The store is never used: no second copy of any session.
        expect(stats.store.writes).toBe(0);
        expect(stats.store.reads).toBe(0);
      } finally {
        await a.close();
        await sessions.close();
      }
    });

    it(`SQLite with internalCache: false: ${version} resumes, every lookup reads the file`, async () => {
      const sessions = await openSessionCache({
        store: `sqlite:${join(dir, `external-${version}.db`)}`,
        internalCache: false,
        sessionIdContext: 'front-door',
      });
      const a = await serve(sessions, version);
      try {
        expect(await madeOnAResumedOnB(a, a, version)).toBe(true);
        const stats = sessions.stats();
        expect(stats.cache.number).toBe(0);
        expect(stats.store.writes).toBeGreaterThanOrEqual(1);
        expect(stats.store.reads).toBeGreaterThanOrEqual(1);
      } finally {
        await a.close();
        await sessions.close();
      }
    });
  }
});

describe('openSessionCache: one service, each store', () => {
  for (const version of VERSIONS) {
    it(`memory (default): ${version} resumes; the store is the only cache`, async () => {
      const sessions = await openSessionCache({ sessionIdContext: 'front-door' });
      const a = await serve(sessions, version);
      try {
        expect(await madeOnAResumedOnB(a, a, version)).toBe(true);
        const stats = sessions.stats();
        expect(stats.storeKind).toBe('memory');
        expect(stats.cache.hits).toBe(1);
        // External-only: every session went to the store, none into the internal cache.
        expect(stats.store.writes).toBeGreaterThanOrEqual(1);
        expect(stats.cache.number).toBe(0);
        expect(stats.attachments.resumed).toBe(1);
      } finally {
        await a.close();
        await sessions.close();
      }
    });

    it(`SQLite file with encryption: ${version} resumes; the values are sealed`, async () => {
      const file = join(dir, `enc-${version}.db`);
      const sessions = await openSessionCache({
        store: `sqlite:${file}`,
        encryption: { keys: [KEY] },
        sessionIdContext: 'front-door',
      });
      const a = await serve(sessions, version);
      try {
        expect(await madeOnAResumedOnB(a, a, version)).toBe(true);
        expect(sessions.stats().store.decodeErrors).toBe(0);
      } finally {
        await a.close();
        await sessions.close();
      }
      // The same file read without the key: a value is there, and it does not decode (sealed).
      const plain = await openSessionCache({
        store: `sqlite:${file}`,
        sessionIdContext: 'front-door',
      });
      const b = await serve(plain, version);
      try {
        const first = await connect(b.port, { maxVersion: version });
        expect(first.reused).toBe(false);
      } finally {
        await b.close();
        await plain.close();
      }
      const store = await SqliteStore.open({ path: file });
      try {
        expect((await store.stats()).entries).toBeGreaterThan(0);
      } finally {
        store.close();
      }
    });
  }

  describe.skipIf(NO_REDIS)('real redis-server', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    for (const version of VERSIONS) {
      it(`redis://, encryption on, two services: ${version} made on A resumes on B`, async () => {
        const options = {
          store: redis.url,
          // Connected before the first handshake (failing open, it could still be connecting).
          requireStore: true,
          encryption: { keys: [KEY] },
          sessionIdContext: `redis-${version}`,
          // A loaded 2-core machine: a slow answer is only a miss, which would fail here.
          lookupDeadlineMs: SHARED_STORE_LOOKUP_DEADLINE_MS,
        };
        const one = await openSessionCache(options);
        const two = await openSessionCache(options);
        const a = await serve(one, version);
        const b = await serve(two, version);
        try {
          const first = await connect(a.port, { maxVersion: version });
          // The write is in the background: wait for it to land before B looks.
          await one.adapter.drain();
          const second = await connect(b.port, {
            maxVersion: version,
            session: first.sessions.at(-1)!,
          });
          expect(second.reused).toBe(true);
          expect(two.stats().storeKind).toBe('redis');
          expect(two.stats().storeState).toBe('ready');
          expect(two.stats().store.found).toBe(1);
        } finally {
          await Promise.all([a.close(), b.close()]);
          await Promise.all([one.close(), two.close()]);
        }
      });
    }

    it('resolves with its revocation subscription in force, so the first lookup cannot be overtaken by it', async () => {
      const sessions = await openSessionCache({
        store: redis.url,
        requireStore: true,
        sessionIdContext: 'subscribed-at-start',
      });
      try {
        // The subscription announces `{}` ("everything") when it comes into force, which makes a
        // read in flight a miss (a stale read): it must have happened before open resolved.
        expect(sessions.stats().store.revocations).toBe(1);
        expect(sessions.stats().store.staleReads).toBe(0);
      } finally {
        await sessions.close();
      }
    });

    it('storeState: degraded once Redis stops answering; the handshake completes as a full one', async () => {
      const own = await startRedis();
      const sessions = await openSessionCache({
        store: own.url,
        sessionIdContext: 'degraded',
        // One failure opens the breaker, so that one handshake shows the state change.
        breaker: { failureThreshold: 1 },
      });
      const a = await serve(sessions, 'TLSv1.3');
      try {
        const first = await connect(a.port, { maxVersion: 'TLSv1.3' });
        await sessions.adapter.drain();
        expect(sessions.stats().storeState).toBe('ready');
        await own.stop();
        // TLS 1.3 lookups always go to the store (its take keeps tickets single use).
        const second = await connect(a.port, {
          maxVersion: 'TLSv1.3',
          session: first.sessions.at(-1)!,
        });
        expect(second.error).toBeUndefined();
        expect(second.data).toBe('hello');
        expect(second.reused).toBe(false);
        // The failed call is counted when it fails or when its read timeout (lookupDeadlineMs)
        // passes; wait for that, bounded far above it.
        await vi.waitFor(() => expect(sessions.stats().storeState).toBe('degraded'), {
          timeout: 10_000,
          interval: 20,
        });
      } finally {
        await a.close();
        await sessions.close();
        await own.stop();
      }
    });

    it('close(): a write still pending when close() is called lands before the store closes', async () => {
      const sessions = await openSessionCache({
        store: redis.url,
        requireStore: true,
        sessionIdContext: 'close-order',
      });
      const a = await serve(sessions, 'TLSv1.2');
      const before = Number(await redis.cli('DBSIZE'));
      try {
        await connect(a.port, { maxVersion: 'TLSv1.2' });
      } finally {
        await a.close();
      }
      // No drain(): close() itself must wait for the write.
      await sessions.close();
      expect(sessions.stats().storeState).toBe('closed');
      expect(Number(await redis.cli('DBSIZE'))).toBe(before + 1);
    });
  });
});

describe('openSessionCache: two services on one SQLite file (two processes of one host)', () => {
  for (const version of VERSIONS) {
    it(`${version}: a session made by service A resumes on service B`, async () => {
      const file = join(dir, `shared-${version}.db`);
      const options = {
        store: `sqlite:${file}`,
        encryption: { keys: [KEY] },
        sessionIdContext: 'shared',
      } as const;
      const one = await openSessionCache(options);
      const two = await openSessionCache(options);
      const a = await serve(one, version);
      const b = await serve(two, version);
      try {
        expect(await madeOnAResumedOnB(a, b, version)).toBe(true);
        expect(two.stats().cache.hits).toBe(1);
        expect(one.stats().attachments.resumed).toBe(0);
        expect(two.stats().attachments.resumed).toBe(1);
      } finally {
        await Promise.all([a.close(), b.close()]);
        await Promise.all([one.close(), two.close()]);
      }
    });
  }

  it('another sessionIdContext on the same file does not resume', async () => {
    const file = join(dir, 'contexts.db');
    const one = await openSessionCache({ store: `sqlite:${file}`, sessionIdContext: 'one' });
    const two = await openSessionCache({ store: `sqlite:${file}`, sessionIdContext: 'two' });
    const a = await serve(one, 'TLSv1.2');
    const b = await serve(two, 'TLSv1.2');
    try {
      expect(await madeOnAResumedOnB(a, b, 'TLSv1.2')).toBe(false);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describe('openSessionCache: several servers, stats(), close()', () => {
  it('one service attached to two servers: a session made on one resumes on the other', async () => {
    const sessions = await openSessionCache({ sessionIdContext: 'two-servers' });
    const a = await serve(sessions, 'TLSv1.3');
    const b = await serve(sessions, 'TLSv1.3');
    try {
      expect(sessions.stats().servers).toBe(2);
      expect(await madeOnAResumedOnB(a, b, 'TLSv1.3')).toBe(true);
      const { attachments } = sessions.stats();
      // Summed over both servers: one full handshake on A, one resumed on B.
      expect(attachments.connections).toBe(2);
      expect(attachments.handshakes).toBe(2);
      expect(attachments.resumed).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await sessions.close();
    }
    expect(sessions.stats().servers).toBe(0);
    // close() detached both: the servers' listeners are gone.
    expect(a.server.listenerCount('resumeSession')).toBe(0);
    expect(b.server.listenerCount('newSession')).toBe(0);
  });

  it("an attachment's own detach() leaves the others attached; counters stay summed", async () => {
    const sessions = await openSessionCache();
    const a = await serve(sessions, 'TLSv1.2');
    const b = await serve(sessions, 'TLSv1.2');
    try {
      await connect(a.port, { maxVersion: 'TLSv1.2' });
      a.attachment.detach();
      expect(sessions.stats().servers).toBe(1);
      expect(a.server.listenerCount('newSession')).toBe(0);
      expect(b.server.listenerCount('newSession')).toBe(1);
      // A's handshake still counts: counters never go down.
      expect(sessions.stats().attachments.handshakes).toBe(1);
      // A detached server may be attached again.
      sessions.attach(a.server);
      expect(sessions.stats().servers).toBe(2);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await sessions.close();
    }
  });

  it('stats() has exactly the documented fields, each of the documented type', async () => {
    const sessions = await openSessionCache({ store: `sqlite:${join(dir, 'stats.db')}` });
    try {
      const stats = sessions.stats();
      expect(Object.keys(stats).sort()).toEqual(
        [
          'attachments',
          'cache',
          'mode',
          'servers',
          'store',
          'storeKind',
          'storeState',
          'tickets',
        ].sort(),
      );
      expect(stats.mode).toBe('stateful');
      expect(stats.tickets).toBeUndefined();
      expect(stats.storeKind).toBe('sqlite');
      expect(stats.storeState).toBe('ready');
      expect(stats.servers).toBe(0);
      expect(stats.attachments).toEqual(emptyAttachmentStats());
      expect(stats.cache).toEqual(sessions.cache.stats());
      expect(stats.store).toEqual(sessions.adapter.stats());
    } finally {
      await sessions.close();
    }
  });

  it('close() order: detach, cache closed, pending writes landed, then store closed; idempotent', async () => {
    const file = join(dir, 'close-order.db');
    const events: string[] = [];
    let release: (() => void) | undefined;
    // A real SQLite store whose writes are held back until the test releases them: the write is
    // pending when close() is called, as a networked store's would be.
    const wrapStore = (store: SessionStore): SessionStore =>
      new Proxy(store, {
        get(target, property) {
          if (property === 'set') {
            return (...args: Parameters<SessionStore['set']>) =>
              new Promise<boolean>((resolve) => {
                release = () => {
                  events.push('write landed');
                  resolve(target.set(...args) as boolean);
                };
              });
          }
          if (property === 'close') {
            return () => {
              events.push('store closed');
              return target.close();
            };
          }
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
        },
      });
    const sessions = await openSessionCache({ store: `sqlite:${file}`, wrapStore });
    const a = await serve(sessions, 'TLSv1.2');
    await connect(a.port, { maxVersion: 'TLSv1.2' });
    await a.close();
    expect(sessions.cache.stats().number).toBe(1);
    expect(sessions.stats().store.inFlight).toBe(1);
    const closed = sessions.close();
    expect(sessions.close()).toBe(closed);
    // Detached and cache closed synchronously, at the call.
    expect(a.server.listenerCount('newSession')).toBe(0);
    expect(sessions.cache.stats().number).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual([]);
    release!();
    await closed;
    expect(events).toEqual(['write landed', 'store closed']);
    const store = await SqliteStore.open({ path: file });
    try {
      expect((await store.stats()).entries).toBe(1);
    } finally {
      store.close();
    }
  });
});

describe("openSessionCache({ mode: 'tickets' })", () => {
  it.each(VERSIONS)(
    '%s: a ticket made by one service resumes on another sharing the SQLite file',
    async (version) => {
      const file = join(dir, `tickets-${version}.db`);
      const options = {
        store: `sqlite:${file}`,
        mode: 'tickets' as const,
        encryption: { keys: [KEY] },
      };
      const [sessionsA, sessionsB] = [
        await openSessionCache(options),
        await openSessionCache(options),
      ];
      const [a, b] = [await serve(sessionsA, version), await serve(sessionsB, version)];
      try {
        // Tickets mode leaves tickets on: serverOptions() no longer sets SSL_OP_NO_TICKET.
        expect(sessionsA.serverOptions().secureOptions & constants.SSL_OP_NO_TICKET).toBe(0);
        expect(await madeOnAResumedOnB(a, b, version)).toBe(true);
        const stats = sessionsB.stats();
        expect(stats.mode).toBe('tickets');
        expect(stats.tickets).toMatchObject({ state: 'shared' });
      } finally {
        await Promise.all([a.close(), b.close()]);
        await Promise.all([sessionsA.close(), sessionsB.close()]);
      }
    },
  );

  it('TLS 1.2 clients that offer no ticket still resume session ids through the store', async () => {
    const file = join(dir, 'tickets-ids.db');
    const options = {
      store: `sqlite:${file}`,
      mode: 'tickets' as const,
      encryption: { keys: [KEY] },
    };
    const [sessionsA, sessionsB] = [
      await openSessionCache(options),
      await openSessionCache(options),
    ];
    const [a, b] = [await serve(sessionsA, 'TLSv1.2'), await serve(sessionsB, 'TLSv1.2')];
    try {
      // SSL_OP_NO_TICKET on the client: it neither asks for nor accepts a ticket.
      const first = await connect(a.port, {
        maxVersion: 'TLSv1.2',
        secureOptions: constants.SSL_OP_NO_TICKET,
      });
      expect(first.reused).toBe(false);
      await sessionsA.adapter.drain();
      const second = await connect(b.port, {
        maxVersion: 'TLSv1.2',
        secureOptions: constants.SSL_OP_NO_TICKET,
        session: first.sessions.at(-1)!,
      });
      expect(second.reused).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([sessionsA.close(), sessionsB.close()]);
    }
  });

  it('wrapStore without setIfAbsent: keys and first-use records bypass it, so TLS 1.3 single use holds', async () => {
    const calls: string[] = [];
    // A wrapper as a user writes one: the five methods the cache uses, forwarded and counted; no
    // setIfAbsent. Were the tickets routed through it, single use could not be recorded.
    const wrapStore = (store: SessionStore): SessionStore => ({
      kind: store.kind,
      maxValueBytes: store.maxValueBytes,
      get: (namespace, id) => (calls.push(`get ${namespace}`), store.get(namespace, id)),
      set: (namespace, id, value, expiresAtMs) => (
        calls.push(`set ${namespace}`),
        store.set(namespace, id, value, expiresAtMs)
      ),
      take: (namespace, id) => (calls.push(`take ${namespace}`), store.take(namespace, id)),
      delete: (namespace, id) => (calls.push(`delete ${namespace}`), store.delete(namespace, id)),
      close: () => store.close(),
    });
    const sessions = await openSessionCache({
      store: `sqlite:${join(dir, 'tickets-wrapped.db')}`,
      mode: 'tickets',
      encryption: { keys: [KEY] },
      wrapStore,
    });
    const [tls13, tls12] = [await serve(sessions, 'TLSv1.3'), await serve(sessions, 'TLSv1.2')];
    try {
      expect(sessions.store.setIfAbsent).toBeUndefined();
      const first = await connect(tls13.port, { maxVersion: 'TLSv1.3' });
      expect(first.reused).toBe(false);
      const ticket = first.sessions.at(-1)!;
      expect((await connect(tls13.port, { maxVersion: 'TLSv1.3', session: ticket })).reused).toBe(
        true,
      );
      // The same ticket again: refused, its first use recorded in the store as opened.
      expect((await connect(tls13.port, { maxVersion: 'TLSv1.3', session: ticket })).reused).toBe(
        false,
      );
      expect(sessions.stats().tickets).toMatchObject({ firstUses: 1, replaysRefused: 1 });
      expect(calls.filter((call) => / ticket-/.test(call))).toEqual([]);
      // A TLS 1.2 client without tickets: its session id goes through the wrapper.
      await connect(tls12.port, {
        maxVersion: 'TLSv1.2',
        secureOptions: constants.SSL_OP_NO_TICKET,
      });
      await sessions.adapter.drain();
      expect(calls.some((call) => call.startsWith('set '))).toBe(true);
    } finally {
      await Promise.all([tls13.close(), tls12.close()]);
      await sessions.close();
    }
  });

  it('refuses the tickets-only options in stateful mode, naming them', async () => {
    await expect(openSessionCache({ rotateEveryMs: 60_000 })).rejects.toThrow(
      /rotateEveryMs is an option of mode: 'tickets', but mode is 'stateful'/,
    );
    await expect(openSessionCache({ refreshMs: 1000 })).rejects.toThrow(
      /refreshMs is an option of mode: 'tickets', but mode is 'stateful'/,
    );
  });

  it('hands refreshMs to the ticket keys, which check it', async () => {
    await expect(openSessionCache({ mode: 'tickets', refreshMs: -1 })).rejects.toThrow(/refreshMs/);
    const sessions = await openSessionCache({ mode: 'tickets', refreshMs: 0 });
    await sessions.close();
  });
});
