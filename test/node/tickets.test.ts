// Tickets mode, with real handshakes (Node's tls client): a ticket made by one server resumes on
// another that shares its keys only through the store (SQLite file, real redis-server), in TLS 1.2
// and TLS 1.3; rotation renews tickets under a retired key and refuses them after the overlap (a
// full handshake, never an error); two instances crossing a boundary mint one key; a TLS 1.3 ticket
// is single use across servers; a server that cannot reach the store keeps serving and says so,
// and adopts the shared key when the store is back. The clock of the key schedule is injected:
// nothing here waits for a rotation.
import { constants } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/index.js';
import { onEvent, type TicketKeysEvent } from '../../src/cache/events.js';
import { storeCallbacks } from '../../src/stores/cache-adapter.js';
import { Keyring } from '../../src/stores/encryption/keyring.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { RedisStore } from '../../src/stores/redis-store.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';
import type { SessionStore } from '../../src/stores/store.js';
import {
  TicketKeys,
  openTicketKeys,
  ticketServerOptions,
  statefulServerOptions,
  attach,
  type TicketKeysOptions,
} from '../../src/node/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { makeTestPki } from '../helpers/certs.js';
import { skipWithoutRedis, startRedis, type RedisServer } from '../helpers/redis-server.js';
import {
  connect,
  startServer,
  type ClientResult,
  type TestServer,
  type TlsVersion,
} from '../helpers/tls-server.js';
import { SHARED_STORE_LOOKUP_DEADLINE_MS, eventually } from '../helpers/eventually.js';

const pki = makeTestPki();
const dir = mkdtempSync(join(tmpdir(), 'tickets-'));
afterAll(() => {
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
/**
 * The key schedule's clock, just after the next hour boundary of real time: the stores keep real
 * time, so deadlines the schedule computes must lie ahead of it; the schedule then moves only when
 * a test says so.
 */
const P0 = Math.floor(Date.now() / HOUR) + 1;
const scheduleClock = (offsetMs = 1): ManualClock => new ManualClock(P0 * HOUR + offsetMs);
const keyring = new Keyring([{ id: 'k1', key: Buffer.alloc(32, 7) }]);
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

/** A server in tickets mode: its own cache (on `store`) and its own TicketKeys (on `store`). */
async function ticketServer(
  store: SessionStore,
  clock: ManualClock,
  options: TicketKeysOptions & { maxVersion?: TlsVersion } = {},
): Promise<{ server: TestServer; tickets: TicketKeys }> {
  const { maxVersion, ...ticketOptions } = options;
  const tickets = await openTicketKeys(store, {
    keyring: store.kind === 'memory' ? undefined : keyring,
    clock: clock.now,
    refreshMs: 0,
    ...ticketOptions,
  });
  const cache = new SessionCache({
    ...storeCallbacks(store).callbacks,
    lookupDeadlineMs: SHARED_STORE_LOOKUP_DEADLINE_MS,
  });
  const server = await startServer(pki, {
    ...(maxVersion === undefined ? {} : { maxVersion }),
    cache,
    attach: { tickets },
    tls: ticketServerOptions({ sessionIdContext: 'test' }),
  });
  cleanups.push(
    () => server.close(),
    () => tickets.close(),
  );
  return { server, tickets };
}

/**
 * The client's newest session: the last ticket received (TLS 1.3 sends two; either resumes), or,
 * for TLS 1.2, where Node emits no 'session' for a ticket renewed on resumption, the session the
 * connection ended with.
 */
const lastOf = (result: ClientResult & { final?: Buffer }): Buffer => {
  const last = result.sessions[result.sessions.length - 1] ?? result.final;
  expect(last).toBeDefined();
  return last!;
};

async function sqlitePair(): Promise<[SqliteStore, SqliteStore]> {
  const path = join(dir, `s-${Math.random().toString(36).slice(2)}.db`);
  const a = await SqliteStore.open({ path });
  const b = await SqliteStore.open({ path });
  cleanups.push(
    () => a.close(),
    () => b.close(),
  );
  return [a, b];
}

describe.each(['TLSv1.2', 'TLSv1.3'] as const)('tickets mode across servers, %s', (version) => {
  it('a ticket made on A resumes on B, which shares only the SQLite file', async () => {
    const clock = scheduleClock();
    const [storeA, storeB] = await sqlitePair();
    const a = await ticketServer(storeA, clock);
    const b = await ticketServer(storeB, clock);
    expect(a.tickets.stats().state).toBe('shared');
    expect(a.tickets.stats().minted + b.tickets.stats().minted).toBe(2); // current and next
    const first = await connect(a.server.port, { maxVersion: version });
    expect(first.error).toBeUndefined();
    expect(first.reused).toBe(false);
    const second = await connect(b.server.port, {
      maxVersion: version,
      session: lastOf(first),
    });
    expect(second.error).toBeUndefined();
    expect(second.protocol).toBe(version);
    expect(second.reused).toBe(true);
    expect(b.tickets.stats().accepted).toBe(1);
    // TLS 1.3 sessions are the tickets: nothing of them in the store's session namespaces.
    if (version === 'TLSv1.3') {
      const namespaces: string[] = [];
      for await (const entry of storeA.list()) namespaces.push(entry.namespace);
      // The two keys (current and next) and the ticket's first-use record: no session.
      // Keys live under the tenant ('') and the period length (6 h by default).
      expect(namespaces.sort()).toEqual([
        'ticket-keys//21600000',
        'ticket-keys//21600000',
        'ticket-uses/',
      ]);
    }
  });

  it('a ticket under a retired key resumes and is renewed; after the overlap, a full handshake', async () => {
    const clock = scheduleClock();
    const [storeA, storeB] = await sqlitePair();
    const options = { rotateEveryMs: HOUR, acceptForMs: 2 * HOUR };
    const a = await ticketServer(storeA, clock, options);
    const b = await ticketServer(storeB, clock, options);
    const first = await connect(a.server.port, { maxVersion: version });
    const old = lastOf(first);
    // Two rotations later the key is retired but accepted (acceptFor 2 h).
    clock.advance(2 * HOUR);
    await Promise.all([a.tickets.sync(), b.tickets.sync()]);
    const renewed = await connect(b.server.port, { maxVersion: version, session: old });
    expect(renewed.error).toBeUndefined();
    expect(renewed.reused).toBe(true);
    expect(b.tickets.stats().renewed).toBe(1);
    // The renewed ticket is under the current key: accepted without renewal on A.
    const again = await connect(a.server.port, {
      maxVersion: version,
      session: lastOf(renewed),
    });
    expect(again.reused).toBe(true);
    expect(a.tickets.stats().accepted).toBe(1);
    expect(a.tickets.stats().renewed).toBe(0);
    // Past the old key's accept window (end of its period + 2 h): erased, a full handshake.
    clock.advance(1 * HOUR);
    await Promise.all([a.tickets.sync(), b.tickets.sync()]);
    expect(b.tickets.stats().erased).toBeGreaterThan(0);
    const late = await connect(b.server.port, { maxVersion: version, session: old });
    expect(late.error).toBeUndefined();
    expect(late.data).toBe('hello');
    expect(late.reused).toBe(false);
    expect(b.tickets.stats().unknownKey).toBe(1);
  });
});

describe('tickets mode: coordination through the store', () => {
  it('two instances crossing boundaries together mint exactly one key per period (SQLite)', async () => {
    const clock = scheduleClock(HOUR - 1);
    const [storeA, storeB] = await sqlitePair();
    const events: TicketKeysEvent[] = [];
    cleanups.push(onEvent('ticketKeys', (e) => events.push(e)));
    const options = {
      rotateEveryMs: HOUR,
      acceptForMs: HOUR,
      clock: clock.now,
      keyring,
      refreshMs: 0,
    };
    const [a, b] = await Promise.all([
      openTicketKeys(storeA, options),
      openTicketKeys(storeB, options),
    ]);
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    for (let round = 0; round < 5; round++) {
      clock.advance(HOUR);
      await Promise.all([a.sync(), b.sync()]);
    }
    const minted = events.filter((e) => e.event === 'minted').map((e) => e.period);
    // Periods P0 … P0 + 6: each minted once, by one of the two.
    expect(minted.sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6].map((p) => P0 + p));
    expect(a.stats().minted + b.stats().minted).toBe(7);
    expect(a.stats().state).toBe('shared');
    expect(b.stats().state).toBe('shared');
  });

  it('keys are sealed in the store: the stored bytes hold no key, and a wrong keyring cannot open them', async () => {
    const clock = scheduleClock();
    const [storeA, storeB] = await sqlitePair();
    const a = await openTicketKeys(storeA, { keyring, clock: clock.now, refreshMs: 0 });
    const other = new Keyring([{ id: 'k1', key: Buffer.alloc(32, 9) }]);
    const b = await openTicketKeys(storeB, { keyring: other, clock: clock.now, refreshMs: 0 });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    expect(b.stats().undecodableKeys).toBeGreaterThan(0);
    expect(b.stats().state).toBe('local');
    expect(JSON.stringify(a)).not.toMatch(/hmac|aes/i);
  });

  it('refuses a shared store without a keyring, unknown options, and a server without tickets', async () => {
    const [store] = await sqlitePair();
    expect(() => new TicketKeys(store)).toThrow(/keyring/);
    expect(() => new TicketKeys(new MemoryStore(), { rotateEvery: 5 } as never)).toThrow(
      /unknown option "rotateEvery"/,
    );
    expect(() => new TicketKeys(new MemoryStore(), { rotateEveryMs: 10 })).toThrow(RangeError);
    const tickets = await openTicketKeys(new MemoryStore(), { refreshMs: 0 });
    cleanups.push(() => tickets.close());
    const server = tls.createServer({
      key: pki.serverKey,
      cert: pki.serverCert,
      ...statefulServerOptions(),
    });
    expect(() => tickets.attachTo(server)).toThrow(/SSL_OP_NO_TICKET/);
    expect(() => attach(server, new SessionCache(), { tickets })).toThrow(/SSL_OP_NO_TICKET/);
  });
});

describe('tickets mode: TLS 1.2 clients without ticket support', () => {
  it('resume through session ids in the store, across servers', async () => {
    const clock = scheduleClock();
    const [storeA, storeB] = await sqlitePair();
    const a = await ticketServer(storeA, clock);
    const b = await ticketServer(storeB, clock);
    const noTickets = { maxVersion: 'TLSv1.2' as const, secureOptions: constants.SSL_OP_NO_TICKET };
    const first = await connect(a.server.port, noTickets);
    expect(first.reused).toBe(false);
    const second = await connect(b.server.port, { ...noTickets, session: lastOf(first) });
    expect(second.reused).toBe(true);
    // Resumed from the store, not from a ticket.
    expect(b.tickets.stats().accepted + b.tickets.stats().renewed).toBe(0);
    expect(b.server.cache.stats().hits).toBe(1);
  });
});

describe('tickets mode: TLS 1.3 single use, fleet-wide', () => {
  it('a ticket resumes once; offered again, on any server, it is a full handshake', async () => {
    const clock = scheduleClock();
    const [storeA, storeB] = await sqlitePair();
    const a = await ticketServer(storeA, clock);
    const b = await ticketServer(storeB, clock);
    const first = await connect(a.server.port, { maxVersion: 'TLSv1.3' });
    const ticket = lastOf(first);
    const used = await connect(b.server.port, { maxVersion: 'TLSv1.3', session: ticket });
    expect(used.reused).toBe(true);
    for (const port of [a.server.port, b.server.port]) {
      const replay = await connect(port, { maxVersion: 'TLSv1.3', session: ticket });
      expect(replay.error).toBeUndefined();
      expect(replay.data).toBe('hello');
      expect(replay.reused).toBe(false);
    }
    expect(a.tickets.stats().replaysRefused + b.tickets.stats().replaysRefused).toBe(2);
    expect(b.tickets.stats().firstUses).toBe(1);
  });

  it('each resumption hands the client a fresh ticket, so a chain of resumptions never breaks', async () => {
    const clock = scheduleClock();
    const [storeA, storeB] = await sqlitePair();
    const servers = [await ticketServer(storeA, clock), await ticketServer(storeB, clock)];
    let session = lastOf(await connect(servers[0]!.server.port, { maxVersion: 'TLSv1.3' }));
    for (let i = 0; i < 6; i++) {
      const next = await connect(servers[i % 2]!.server.port, { maxVersion: 'TLSv1.3', session });
      expect(next.reused, `resumption ${i}`).toBe(true);
      // OpenSSL sends a TLS 1.3 ticket after a resumption only when the key callback renews.
      expect(next.sessions.length, `resumption ${i}`).toBeGreaterThan(0);
      session = lastOf(next);
    }
  });

  it('with singleUse: false the same ticket resumes again', async () => {
    const clock = scheduleClock();
    const a = await ticketServer(new MemoryStore(), clock, { singleUse: false });
    const first = await connect(a.server.port, { maxVersion: 'TLSv1.3' });
    const ticket = lastOf(first);
    for (let i = 0; i < 2; i++) {
      expect(
        (await connect(a.server.port, { maxVersion: 'TLSv1.3', session: ticket })).reused,
      ).toBe(true);
    }
  });
});

const NO_REDIS = skipWithoutRedis('the tickets-mode Redis tests');

describe.skipIf(NO_REDIS)('tickets mode on Redis', () => {
  let redis: RedisServer;
  const open = (prefix: string): Promise<RedisStore> =>
    RedisStore.create({ url: redis.url, keyPrefix: prefix, requireStore: true });

  it('a ticket made on A resumes on B (TLS 1.3 and 1.2), one key minted per period', async () => {
    redis = await startRedis();
    cleanups.push(() => redis.stop());
    const clock = scheduleClock();
    const storeA = await open('t1:');
    const storeB = await open('t1:');
    cleanups.push(
      () => storeA.close(),
      () => storeB.close(),
    );
    const a = await ticketServer(storeA, clock);
    const b = await ticketServer(storeB, clock);
    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      const first = await connect(a.server.port, { maxVersion: version });
      const second = await connect(b.server.port, {
        maxVersion: version,
        session: lastOf(first),
      });
      expect(second.reused).toBe(true);
    }
    clock.advance(6 * HOUR);
    await Promise.all([a.tickets.sync(), b.tickets.sync()]);
    expect(a.tickets.stats().minted + b.tickets.stats().minted).toBe(3);
  });

  it('store down: a new server serves on a local key and says so; it adopts the shared key when Redis is back', async () => {
    redis = await startRedis();
    cleanups.push(() => redis.stop());
    const clock = scheduleClock();
    const storeA = await open('t2:');
    cleanups.push(() => storeA.close());
    const a = await ticketServer(storeA, clock);
    const port = redis.port;
    await redis.stop();
    const storeB = await RedisStore.create({
      url: `redis://127.0.0.1:${port}`,
      keyPrefix: 't2:',
      startupTimeoutMs: 0,
    });
    cleanups.push(() => storeB.close());
    const events: TicketKeysEvent[] = [];
    cleanups.push(onEvent('ticketKeys', (e) => events.push(e)));
    const b = await ticketServer(storeB, clock);
    expect(b.tickets.stats()).toMatchObject({ state: 'local', storeReachable: false });
    expect(events.some((e) => e.event === 'local')).toBe(true);
    // Still serving: full handshakes, and its own tickets resume on it (TLS 1.2: no single-use record needed).
    const first = await connect(b.server.port, { maxVersion: 'TLSv1.2' });
    expect(first.data).toBe('hello');
    const again = await connect(b.server.port, {
      maxVersion: 'TLSv1.2',
      session: lastOf(first),
    });
    expect(again.reused).toBe(true);
    // TLS 1.3 tickets cannot be recorded as used: a full handshake, counted.
    const t13 = await connect(b.server.port, { maxVersion: 'TLSv1.3' });
    const t13again = await connect(b.server.port, {
      maxVersion: 'TLSv1.3',
      session: lastOf(t13),
    });
    expect(t13again.data).toBe('hello');
    expect(t13again.reused).toBe(false);
    expect(b.tickets.stats().singleUseUnavailable).toBe(1);
    // Redis is back (same port, empty: A's keys are gone with it): both converge on one key.
    redis = await startRedis({ port });
    cleanups.push(() => redis.stop());
    await waitFor(async () => {
      await b.tickets.sync();
      return b.tickets.stats().storeReachable;
    });
    // A's own store reconnects on its own schedule: until it has, A still holds the key it had
    // before Redis restarted. Once both reach the store, a sync of each leaves both on its one key.
    await waitFor(async () => {
      await a.tickets.sync();
      return a.tickets.stats().storeReachable;
    });
    await b.tickets.sync();
    await a.tickets.sync();
    expect(b.tickets.stats().state).toBe('shared');
    expect(a.tickets.stats().state).toBe('shared');
    const fromB = await connect(b.server.port, { maxVersion: 'TLSv1.3' });
    const onA = await connect(a.server.port, {
      maxVersion: 'TLSv1.3',
      session: lastOf(fromB),
    });
    expect(onA.reused).toBe(true);
  });
});

/** Polls `done` (real time) until true: {@link eventually}, every 50 ms. */
function waitFor(done: () => Promise<boolean>): Promise<void> {
  return eventually(done, 'the tickets state', { everyMs: 50 });
}
