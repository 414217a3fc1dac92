/**
 * Store outages under real load (issue 5, "fail open, bounded"): a `tls.Server` from
 * `openSessionCache()` whose only cache is a `RedisStore` (`internalCache: false`, circuit breaker on),
 * a real `redis-server`, and a load client in another process making TLS 1.2 and 1.3 handshakes
 * (new and resumption attempts) at high concurrency. Then Redis fails in one of three ways while the
 * load runs:
 *
 * - `refused`: redis-server is stopped; its port is closed (connection refused);
 * - `blackholed`: a plain TCP server takes Redis's port, accepts connections and never answers;
 * - `paused`: redis-server gets `SIGSTOP` (its socket stays open, nothing answers).
 *
 * and comes back (restarted on the same port, or `SIGCONT`) while the load still runs. The report
 * says whether every handshake completed, how long each session lookup took on the server during
 * the outage (the added delay, bounded by the lookup deadline), what the breaker and the counters
 * did, and how soon after the store came back resumption did. Shared by `npm run outage` (full
 * size) and `test/hardening/store-outage.test.ts` (CI size).
 *
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { LookupResult } from '../../src/cache/types.js';
import { onEvent } from '../../src/cache/events.js';
import type { StoreAdapter, StoreAdapterStats } from '../../src/stores/cache-adapter.js';
import { RedisStore } from '../../src/stores/redis-store.js';
import {
  blackhole,
  type Blackhole,
  startRedis,
  type RedisServer,
} from '../../test/helpers/redis-server.js';
import { makeCertificate, startLoadServer, type LoadServer, type LoadStats } from './handshakes.js';
import type { LoadCommand, LoadDone } from './load-process.js';

/** How the store fails. */
export type OutageKind = 'refused' | 'blackholed' | 'paused';

/** The three outage kinds, in the order the script and the test run them. */
export const OUTAGE_KINDS: readonly OutageKind[] = ['refused', 'blackholed', 'paused'];

/** Options of {@link runOutage}. */
export interface OutageOptions {
  /** Handshakes during the outage. */
  handshakes: number;
  /** Connections in flight at once. */
  concurrency: number;
  /** Handshakes with a healthy store before the outage (resumption must work then). */
  warmup?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** How long to wait for resumption after the store is back before giving up, ms. */
  recoveryLimitMs?: number;
  /**
   * Connections in flight while the store comes back. Lower than `concurrency` (default 20) so that
   * the time to the first resumption measures the server (breaker, reconnection), not how long a
   * client waits in a queue of 100 handshakes on 2 cores for its turn to offer a fresh session.
   */
  recoveryConcurrency?: number;
}

/** Percentiles of a list of durations, ms. */
export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** What {@link runOutage} measured. */
export interface OutageReport {
  kind: OutageKind;
  concurrency: number;
  /** The cache's lookup deadline (ms): the bound on the added delay per handshake. */
  lookupDeadlineMs: number;
  /** Healthy phase: handshakes, resumption attempts and how many resumed. */
  warmup: {
    handshakes: number;
    attempts: number;
    resumed: number;
    errors: number;
    /** Lookups the cache gave up on at its deadline although the store was healthy (a busy loop). */
    lookupTimeouts: number;
  };
  /** The outage phase. */
  outage: {
    handshakes: number;
    /** Client-side errors (connection reset, timeout, TLS alert): must be 0. */
    errors: number;
    errorSamples: string[];
    /** TLS errors the server saw (`tlsClientError`): must be 0. */
    serverErrors: number;
    attempts: number;
    resumed: number;
    full: number;
    durationMs: number;
    /** Client handshake durations (connect to close), ms. */
    clientLatency: Summary;
    /** Server-side session lookups: time from Node's `resumeSession` to the answer, ms. */
    lookups: Summary;
    /** Lookups that waited for the store at all (took ≥ 1 ms). */
    lookupsWaited: number;
    /** The server's event-loop delay meanwhile (how late any timer could fire), ms. */
    eventLoopDelay: Summary;
    /** The adapter's counters at the end of the outage. */
    adapter: StoreAdapterStats;
    /** Most writes pending in the adapter at any sample (every 5 ms). */
    maxInFlightWrites: number;
    /** Most Redis commands pending at any sample. */
    maxPendingCommands: number;
  };
  /** After the store came back (times from the moment it was brought back). */
  recovery: {
    /** Connections in flight meanwhile. */
    concurrency: number;
    /** The breaker closed, ms (undefined if it never did within the limit). */
    breakerClosedMs: number | undefined;
    /** The first handshake resumed from the store, ms. */
    firstResumeMs: number | undefined;
    handshakes: number;
    errors: number;
    resumed: number;
  };
  /** Breaker state changes, ms from the outage's start. */
  breakerEvents: { state: string; atMs: number }[];
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
const LOAD_PROCESS = `${HERE}load-process.ts`;

/** The load client process; `phase()` sends a command and resolves with its result. */
class LoadProcess {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<string, (done: LoadDone) => void>();
  readonly ready: Promise<void>;

  constructor() {
    this.#child = fork(LOAD_PROCESS, [], {
      // tsx resolved from the working directory (the repository), as the other forked helpers do.
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise((resolve, reject) => {
      this.#child.once('error', reject);
      this.#child.once('exit', (code) => reject(new Error(`load process exited (${code})`)));
      this.#child.on('message', (message: LoadDone | { type: 'ready' }) => {
        if (message.type === 'ready') resolve();
        else this.#waiting.get(message.phase)?.(message);
      });
    });
  }

  /** Sends a run/start command; resolves with the phase's stats when it ends. */
  phase(command: LoadCommand & { phase: string }): Promise<LoadStats> {
    const done = new Promise<LoadStats>((resolve) =>
      this.#waiting.set(command.phase, (message) => {
        this.#waiting.delete(command.phase);
        resolve(message.stats);
      }),
    );
    this.#child.send(command);
    return done;
  }

  stop(): void {
    this.#child.send({ type: 'stop' } satisfies LoadCommand);
  }

  close(): void {
    if (this.#child.connected) this.#child.disconnect();
    this.#child.kill();
  }
}

/** p50/p99/max of `values`. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

const sum = (record: Record<string, number>): number =>
  Object.values(record).reduce((a, b) => a + b, 0);

/** Runs one outage scenario end to end and reports what happened; starts and stops everything. */
export async function runOutage(kind: OutageKind, options: OutageOptions): Promise<OutageReport> {
  const log = options.log ?? (() => undefined);
  const warmupCount = options.warmup ?? 1000;
  const recoveryLimitMs = options.recoveryLimitMs ?? 10_000;
  const concurrency = options.concurrency;

  let redis: RedisServer | undefined = await startRedis();
  const port = redis.port;
  let hole: Blackhole | undefined;
  let store: RedisStore | undefined;
  let adapter: StoreAdapter | undefined;
  let server: LoadServer | undefined;
  let client: LoadProcess | undefined;
  const unsubscribe: (() => void)[] = [];
  try {
    client = new LoadProcess();
    // Opened here rather than from the URL: the report reads its pendingCommands.
    store = await RedisStore.create({ url: redis.url });
    // The store is the only cache (internalCache: false): every lookup asks it, so every handshake
    // of the outage depends on it (with an internal cache in front, TLS 1.2 sessions this process
    // has seen would still resume from memory). The session cache owns the store from here on.
    server = await startLoadServer(makeCertificate(), { store, internalCache: false });
    adapter = server.sessions.adapter;
    const cache = server.cache;
    const lookupDeadlineMs = cache.lookupDeadlineMs;

    // Time every lookup the wiring makes: from Node's resumeSession to the answer. Wrapped here
    // because no public event marks a lookup's start (`resume`/`miss` mark only its end); the
    // wrapper is the session cache's public `lookup`, replaced on this instance only.
    const lookupTimes: number[] = [];
    let timing = false;
    const lookup = cache.lookup.bind(cache);
    cache.lookup = (id, lookupOptions): LookupResult | Promise<LookupResult> => {
      if (!timing) return lookup(id, lookupOptions);
      const started = performance.now();
      const result = lookup(id, lookupOptions);
      if (!(result instanceof Promise)) {
        lookupTimes.push(performance.now() - started);
        return result;
      }
      return result.then((answer) => {
        lookupTimes.push(performance.now() - started);
        return answer;
      });
    };

    let outageStart = performance.now();
    const breakerEvents: { state: string; atMs: number }[] = [];
    let restoredAt = Infinity;
    let breakerClosedAt: number | undefined;
    let firstResumeAt: number | undefined;
    unsubscribe.push(
      onEvent('breaker', (event) => {
        if (event.store !== 'redis') return;
        const now = performance.now();
        breakerEvents.push({ state: event.state, atMs: Math.round(now - outageStart) });
        if (event.state === 'closed' && now >= restoredAt) breakerClosedAt ??= now;
      }),
      onEvent('resume', (event) => {
        const now = performance.now();
        if (event.source === 'external' && now >= restoredAt) firstResumeAt ??= now;
      }),
    );

    await client.ready;
    const warm = await client.phase({
      type: 'run',
      phase: 'warmup',
      port: server.port,
      count: warmupCount,
      concurrency,
    });
    await adapter.drain();
    const warmupTimeouts = cache.stats().getTimeouts;
    log(
      `${kind}: healthy: ${warm.handshakes} handshakes, ${sum(warm.resumed)} of ${sum(warm.attempts)} attempts resumed (${warmupTimeouts} lookups past the deadline), ${warm.errors} errors`,
    );

    // --- the outage -------------------------------------------------------------------------------
    const serverErrorsBefore = server.clientErrors;
    if (kind === 'paused') redis.pause();
    else {
      await redis.stop();
      redis = undefined;
      if (kind === 'blackholed') hole = await blackhole(port);
    }
    outageStart = performance.now();
    timing = true;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    let maxInFlight = 0;
    let maxPending = 0;
    const sampler = setInterval(() => {
      maxInFlight = Math.max(maxInFlight, adapter!.stats().inFlight);
      maxPending = Math.max(maxPending, store!.pendingCommands);
    }, 5);
    const outage = await client.phase({
      type: 'run',
      phase: 'outage',
      port: server.port,
      count: options.handshakes,
      concurrency,
    });
    const outageMs = performance.now() - outageStart;
    clearInterval(sampler);
    loop.disable();
    timing = false;
    const adapterStats = adapter.stats();
    const serverErrors = server.clientErrors - serverErrorsBefore;
    log(
      `${kind}: outage: ${outage.handshakes} handshakes in ${(outageMs / 1000).toFixed(1)} s, ${outage.errors} errors, ${sum(outage.resumed)} resumed; breaker opened ${adapterStats.breakerOpens}×`,
    );

    // --- recovery: the load keeps running while the store comes back -----------------------------
    const recoveryRun = client.phase({
      type: 'start',
      phase: 'recovery',
      port: server.port,
      concurrency: options.recoveryConcurrency ?? 20,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    restoredAt = performance.now();
    if (kind === 'paused') redis!.resume();
    else {
      await hole?.close();
      hole = undefined;
      redis = await startRedis({ port });
    }
    const limit = restoredAt + recoveryLimitMs;
    while (firstResumeAt === undefined && performance.now() < limit) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    client.stop();
    const recovery = await recoveryRun;
    const since = (at: number | undefined): number | undefined =>
      at === undefined ? undefined : Math.round(at - restoredAt);
    const report: OutageReport = {
      kind,
      concurrency,
      lookupDeadlineMs,
      warmup: {
        handshakes: warm.handshakes,
        attempts: sum(warm.attempts),
        resumed: sum(warm.resumed),
        errors: warm.errors,
        lookupTimeouts: warmupTimeouts,
      },
      outage: {
        handshakes: outage.handshakes,
        errors: outage.errors,
        errorSamples: outage.errorSamples,
        serverErrors,
        attempts: sum(outage.attempts),
        resumed: sum(outage.resumed),
        full: sum(outage.full),
        durationMs: Math.round(outageMs),
        clientLatency: summarize(outage.latencyMs),
        lookups: summarize(lookupTimes),
        lookupsWaited: lookupTimes.filter((ms) => ms >= 1).length,
        eventLoopDelay: {
          count: loop.count,
          p50: loop.percentile(50) / 1e6,
          p99: loop.percentile(99) / 1e6,
          max: loop.max / 1e6,
        },
        adapter: adapterStats,
        maxInFlightWrites: maxInFlight,
        maxPendingCommands: maxPending,
      },
      recovery: {
        concurrency: options.recoveryConcurrency ?? 20,
        breakerClosedMs: since(breakerClosedAt),
        firstResumeMs: since(firstResumeAt),
        handshakes: recovery.handshakes,
        errors: recovery.errors,
        resumed: sum(recovery.resumed),
      },
      breakerEvents,
    };
    log(
      `${kind}: back: breaker closed after ${report.recovery.breakerClosedMs} ms, first resumption after ${report.recovery.firstResumeMs} ms`,
    );
    return report;
  } finally {
    for (const stop of unsubscribe) stop();
    client?.close();
    // Closes the adapter and the store too.
    await server?.close();
    await hole?.close();
    if (redis !== undefined) {
      redis.resume();
      await redis.stop();
    }
  }
}

/** The report as a few readable lines. */
export function outageLines(report: OutageReport): string[] {
  const o = report.outage;
  const ms = (n: number): string => n.toFixed(1);
  const a = o.adapter;
  const w = report.warmup;
  return [
    `${report.kind}: healthy store first: ${w.handshakes} handshakes, ${w.resumed} of ${w.attempts} resumption attempts resumed, ${w.lookupTimeouts} lookups past the deadline, ${w.errors} errors`,
    `${report.kind}: ${o.handshakes} handshakes during the outage at ${report.concurrency} concurrent connections in ${(o.durationMs / 1000).toFixed(1)} s: ${o.errors} client errors, ${o.serverErrors} server TLS errors, ${o.full} full, ${o.resumed} resumed (${o.attempts} resumption attempts)`,
    `  lookups on the server: ${o.lookups.count}, p50 ${ms(o.lookups.p50)} ms, p99 ${ms(o.lookups.p99)} ms, max ${ms(o.lookups.max)} ms (deadline ${report.lookupDeadlineMs} ms); ${o.lookupsWaited} waited ≥ 1 ms; event-loop delay p99 ${ms(o.eventLoopDelay.p99)} ms, max ${ms(o.eventLoopDelay.max)} ms`,
    `  client handshake time: p50 ${ms(o.clientLatency.p50)} ms, p99 ${ms(o.clientLatency.p99)} ms`,
    `  adapter: breaker ${a.breakerState}, opened ${a.breakerOpens}×, ${a.breakerRejectedReads} reads refused at once, ${a.reads} reads sent (${a.readErrors} errors, ${a.readTimeouts} timeouts), ${a.writes} writes sent (${a.writeErrors} errors, ${a.writeTimeouts} timeouts), ${a.droppedWrites} writes dropped; most writes pending ${o.maxInFlightWrites}, most Redis commands pending ${o.maxPendingCommands}`,
    `  breaker: ${report.breakerEvents.map((e) => `${e.state}@${e.atMs}`).join(' ')}`,
    `  store back: breaker closed after ${report.recovery.breakerClosedMs ?? '—'} ms, first resumption from the store after ${report.recovery.firstResumeMs ?? '—'} ms (${report.recovery.concurrency} connections at a time: ${report.recovery.handshakes} handshakes, ${report.recovery.resumed} resumed, ${report.recovery.errors} errors)`,
  ];
}

/** Bound on resumption's return after the store is back, for {@link outageProblems} (≈1 s expected). */
export const RECOVERY_BOUND_MS = 3000;

/**
 * What is wrong with a report, per the requirement (empty when all is well): every handshake
 * completed, as a full one; no lookup took longer than the deadline plus the time the event loop
 * itself was late (timers cannot fire earlier than the loop gets to them); the breaker opened;
 * writes were dropped, and pending work stayed under its bounds; resumption worked before and
 * returned within {@link RECOVERY_BOUND_MS} of the store's return, without a failed handshake.
 */
export function outageProblems(report: OutageReport, handshakes: number): string[] {
  const problems: string[] = [];
  const o = report.outage;
  const r = report.recovery;
  const check = (ok: boolean, problem: string): void => {
    if (!ok) problems.push(`${report.kind}: ${problem}`);
  };
  check(
    report.warmup.errors === 0 && report.warmup.resumed > 0,
    'resumption did not work before the outage',
  );
  check(o.handshakes === handshakes, `${o.handshakes} of ${handshakes} handshakes completed`);
  check(o.errors === 0, `${o.errors} client errors (${o.errorSamples.join('; ')})`);
  check(o.serverErrors === 0, `${o.serverErrors} server TLS errors`);
  check(o.resumed === 0, `${o.resumed} handshakes resumed while the store was out`);
  check(o.attempts > 0, 'no resumption was attempted during the outage');
  // A timer fires no earlier than the event loop gets to it: the deadline, plus however long the
  // busiest turn of the loop (full handshakes of 100 connections) kept it from doing so.
  const bound = report.lookupDeadlineMs + o.eventLoopDelay.max + 5;
  check(
    o.lookups.max <= bound,
    `a lookup took ${o.lookups.max.toFixed(1)} ms (> ${bound.toFixed(1)})`,
  );
  const p99Bound = report.lookupDeadlineMs + o.eventLoopDelay.p99 + 5;
  check(
    o.lookups.p99 <= p99Bound,
    `lookup p99 ${o.lookups.p99.toFixed(1)} ms (> ${p99Bound.toFixed(1)})`,
  );
  check(o.adapter.breakerOpens >= 1, 'the breaker never opened');
  check(o.adapter.breakerRejectedReads > 0, 'the open breaker refused no read');
  check(o.adapter.droppedWrites > 0, 'no write was dropped');
  check(o.maxInFlightWrites <= 1024, `${o.maxInFlightWrites} writes pending (> maxInFlightWrites)`);
  check(o.maxPendingCommands <= 10_000, `${o.maxPendingCommands} Redis commands pending`);
  check(
    r.breakerClosedMs !== undefined && r.breakerClosedMs <= RECOVERY_BOUND_MS,
    `the breaker closed after ${r.breakerClosedMs ?? 'never'} ms (bound ${RECOVERY_BOUND_MS})`,
  );
  check(
    r.firstResumeMs !== undefined && r.firstResumeMs <= RECOVERY_BOUND_MS,
    `resumption returned after ${r.firstResumeMs ?? 'never'} ms (bound ${RECOVERY_BOUND_MS})`,
  );
  check(r.errors === 0, `${r.errors} client errors while the store came back`);
  return problems;
}
