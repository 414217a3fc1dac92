// A Redis Sentinel failover under real TLS 1.3 handshakes: `serve --store redis+sentinel://…` (the
// built CLI) with a primary, a replica and three sentinels started here; Node TLS clients chain
// resumptions (each connection offers the ticket of the one before, so every resumption is a
// GETDEL on the primary) while the primary is killed (SIGKILL). Proves: 0 failed handshakes (the
// outage is full handshakes), resumption back within the store's and the breaker's documented
// bounds after the replica's promotion. Measures what the failover did to TLS 1.3 single use:
// tickets taken shortly before the kill that resume again on the promoted replica (a take that
// did not replicate: a ticket used twice), and tickets stored shortly before the kill that are gone
// (a set that did not replicate: a lost session). The counts are printed; docs/redis.md has them.
import type { Buffer } from 'node:buffer';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CIRCUIT_BREAKER_DEFAULTS } from '../../src/stores/circuit-breaker.js';
import { REDIS_STORE_DEFAULTS } from '../../src/stores/redis-options.js';
import { cliProcesses } from '../helpers/cli-processes.js';
import { eventually, WAIT_MS } from '../helpers/eventually.js';
import { skipWithoutRedis, sleep } from '../helpers/redis-server.js';
import { startSentinelGroup, type SentinelGroup } from '../helpers/redis-sentinel.js';
import { storeReady, unexpectedStderr } from '../helpers/serve-store.js';

const NO_REDIS = skipWithoutRedis('the serve --store redis+sentinel tests');
const cli = cliProcesses();
afterEach(() => cli.stopAll());

/** Clients chaining resumptions at once (plus one making new sessions only). */
const WORKERS = 3;
/** How far before the kill a take or a set counts as "just before" for the single-use probe. */
const WINDOW_MS = 1000;

interface Handshake {
  ok: boolean;
  reused: boolean;
  /** Tickets received (TLS 1.3: OpenSSL sends two per full handshake, one per resumption). */
  sessions: Buffer[];
  startedAt: number;
  endedAt: number;
  error?: string;
}

/** One TLS 1.3 connection with one HTTP request, offering `session` when given. */
function handshake(port: number, session?: Buffer): Promise<Handshake> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    const sessions: Buffer[] = [];
    let reused = false;
    let secure = false;
    let error: string | undefined;
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      ...(session === undefined ? {} : { session }),
    });
    // A hang detector, not a speed limit (test/helpers/eventually.ts).
    socket.setTimeout(WAIT_MS, () => socket.destroy(new Error(`no answer within ${WAIT_MS} ms`)));
    socket.on('secureConnect', () => {
      secure = true;
      reused = socket.isSessionReused();
      socket.write('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
    });
    socket.on('session', (ticket: Buffer) => sessions.push(ticket));
    socket.on('data', () => undefined);
    socket.on('error', (e) => (error = e.message));
    socket.on('close', () =>
      resolve({
        ok: secure && error === undefined,
        reused,
        sessions,
        startedAt,
        endedAt: performance.now(),
        ...(error === undefined ? {} : { error }),
      }),
    );
  });
}

describe.skipIf(NO_REDIS)('serve --store redis+sentinel:// through a failover', () => {
  let group: SentinelGroup;
  beforeAll(async () => {
    group = await startSentinelGroup({ downAfterMs: 1000, failoverTimeoutMs: 3000 });
  });
  afterAll(async () => {
    await group?.stop();
  });

  it('TLS 1.3: no handshake fails, resumption returns after the promotion; single use measured', async () => {
    const serving = await cli.startServe([
      '--mode',
      'stateful',
      '--tls',
      '1.3',
      '--store',
      group.url,
      '--log-events',
    ]);
    await storeReady(serving);

    const all: Handshake[] = [];
    /** Tickets a resumption consumed (taken from the store), with when. */
    const taken: { ticket: Buffer; at: number }[] = [];
    /** Tickets received and never offered (the second of a full handshake's two), with when. */
    const spares: { ticket: Buffer; at: number }[] = [];
    let running = true;
    const worker = async (): Promise<void> => {
      let ticket: Buffer | undefined;
      while (running) {
        const result = await handshake(serving.port, ticket);
        all.push(result);
        if (result.reused && ticket !== undefined) taken.push({ ticket, at: result.endedAt });
        const [first, ...rest] = result.sessions.reverse();
        for (const spare of rest) spares.push({ ticket: spare, at: result.endedAt });
        ticket = first ?? ticket;
      }
    };
    /** Full handshakes only: every ticket it receives is a new session, stored and never offered. */
    const maker = async (): Promise<void> => {
      while (running) {
        const result = await handshake(serving.port);
        all.push(result);
        for (const spare of result.sessions) spares.push({ ticket: spare, at: result.endedAt });
      }
    };
    const workers = [...Array.from({ length: WORKERS }, () => worker()), maker()];
    const resumedSince = (since: number): number =>
      all.filter((h) => h.reused && h.startedAt >= since).length;

    // Healthy first: resumptions chain through the primary.
    const warm = performance.now();
    await eventually(() => resumedSince(warm) >= 40, '40 resumptions before the kill');
    // Every ticket in play is now old enough to have replicated; sample from here on.
    const old = await group.primary();
    const killedAt = performance.now();
    await old.kill();
    const promotedPort = await group.waitForPromotion(old.port);
    const promotedAt = performance.now();
    try {
      await eventually(() => resumedSince(promotedAt) > 0, 'a resumption after the promotion');
    } catch (error) {
      // What serve saw, for the failure message: its store's states and its breaker's.
      const seen = serving.stderr().split('\n');
      console.log(seen.filter((line) => /store-state|breaker|serve:/.test(line)).join('\n'));
      throw error;
    }
    const firstResumedAt = Math.min(
      ...all.filter((h) => h.reused && h.startedAt >= promotedAt).map((h) => h.endedAt),
    );
    // A little more load after the return, then stop.
    await sleep(500);
    running = false;
    await Promise.all(workers);

    // Single use across the failover, measured on the promoted replica:
    // - a ticket taken in the last WINDOW_MS before the kill must not resume again; if it does,
    //   its GETDEL did not reach the replica before the primary died;
    // - a ticket stored in that window and never offered should resume once; if not, its SET did
    //   not reach the replica (the session is lost: a full handshake, no harm).
    const inWindow = (at: number): boolean => at >= killedAt - WINDOW_MS && at < killedAt;
    const takenJustBefore = taken.filter((t) => inWindow(t.at));
    const storedJustBefore = spares.filter((s) => inWindow(s.at));
    let resumedTwice = 0;
    for (const { ticket } of takenJustBefore) {
      if ((await handshake(serving.port, ticket)).reused) resumedTwice++;
    }
    let lost = 0;
    for (const { ticket } of storedJustBefore) {
      if (!(await handshake(serving.port, ticket)).reused) lost++;
    }

    const failed = all.filter((h) => !h.ok);
    const longest = Math.max(...all.map((h) => h.endedAt - h.startedAt));
    const report = {
      handshakes: all.length,
      failed: failed.length,
      resumed: all.filter((h) => h.reused).length,
      killToPromotionMs: Math.round(promotedAt - killedAt),
      promotionToFirstResumptionMs: Math.round(firstResumedAt - promotedAt),
      longestHandshakeMs: Math.round(longest),
      takenJustBefore: takenJustBefore.length,
      resumedTwice,
      storedJustBefore: storedJustBefore.length,
      lostSessions: lost,
    };
    console.log(`sentinel failover under TLS 1.3 handshakes: ${JSON.stringify(report)}`);

    expect(failed.map((h) => h.error)).toEqual([]);
    expect(promotedPort).not.toBe(old.port);
    // Back after the promotion within: the store's reconnection bound, the breaker's cool-down
    // (its probe), and two handshakes (a full one that stores a ticket, then its resumption).
    const bound =
      REDIS_STORE_DEFAULTS.maxReconnectDelayMs +
      REDIS_STORE_DEFAULTS.connectTimeoutMs +
      REDIS_STORE_DEFAULTS.commandTimeoutMs +
      CIRCUIT_BREAKER_DEFAULTS.cooldownMs +
      CIRCUIT_BREAKER_DEFAULTS.cooldownJitterMs +
      2 * longest;
    expect(report.promotionToFirstResumptionMs).toBeLessThanOrEqual(bound);
    // The probe had something to measure.
    expect(takenJustBefore.length).toBeGreaterThan(0);
    expect(storedJustBefore.length).toBeGreaterThan(0);
    // serve said it lost the store and that it was back, and nothing else went to stderr.
    expect(serving.stderr()).toMatch(
      /serve: store redis \(master sessions of sentinels .*\) degraded/,
    );
    expect(serving.stderr()).toMatch(/serve: store redis .* ready again after/);
    expect(unexpectedStderr(serving.stderr())).toEqual([]);
  });
});
