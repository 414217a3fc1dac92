import https from 'node:https';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { Command } from 'commander';
import type { SessionCacheStats } from '../../cache/index.js';
import type { AttachmentStats } from '../../node/index.js';
import type { StoreAdapterStats } from '../../stores/cache-adapter.js';
import { startHttpsServer, type RunningHttpsServer } from '../https-server.js';
import { createProgress, type Progress } from '../progress.js';
import { SUPPORTED_STORES, parseStoreUrl, type StoreUrl } from '../../stores/store-url.js';
import type { Keyring } from '../../stores/encryption/keyring.js';
import { KEYS_ENV_VAR } from '../../stores/encryption/key-source.js';
import { keyringOption, openStoreOption } from './serve.js';

/** Connections per protocol unless `--connections` says otherwise. */
export const DEFAULT_DEMO_CONNECTIONS = 40;

/** Every this-many-th connection is a forced full handshake, the baseline to compare with. */
const FULL_EVERY = 4;

/** A connection that has not finished by then fails the demo rather than hanging it. */
const CONNECTION_TIMEOUT_MS = 5000;

/** The two protocols the demo compares. */
export type DemoProtocol = 'TLSv1.2' | 'TLSv1.3';

/** What the demo measured for one protocol. */
export interface ProtocolReport {
  protocol: DemoProtocol;
  /** Connections made, each a full HTTPS request. */
  connections: number;
  /** Connections that offered a session from an earlier connection. */
  resumeAttempts: number;
  /** Connections the client saw resumed (`isSessionReused()`); the server agreed on each. */
  resumed: number;
  /** `resumed / resumeAttempts` in percent, one decimal. */
  resumedPercent: number;
  /** Median handshake time of the connections that were not resumed, ms. */
  fullMedianMs: number | null;
  /** Median handshake time of the resumed connections, ms. */
  resumedMedianMs: number | null;
  /** `fullMedianMs / resumedMedianMs`, two decimals. */
  speedup: number | null;
}

/** The whole demo's result, as `demo --json` prints it. */
export interface DemoReport {
  /** The in-process server the demo talked to. */
  url: string;
  /**
   * How sessions resumed: always `stateful` (unlike `serve`, whose default is tickets): the demo
   * shows the session cache and its store at work, every session written to and taken from it.
   */
  mode: 'stateful';
  /** The kind of store behind the cache: `memory` (the embedded default), `sqlite`, … */
  store: string;
  /** How stored sessions were protected: `aes-256-gcm` (with a key) or `none`. */
  encryption: 'aes-256-gcm' | 'none';
  /** One entry per protocol, TLS 1.2 first. */
  protocols: ProtocolReport[];
  /** `cache.stats()` after the run. */
  cache: SessionCacheStats;
  /** `attachment.stats()` after the run. */
  attachment: AttachmentStats;
  /** The store adapter's counters after the run: writes, reads, errors. */
  storeAdapter: StoreAdapterStats;
  /** Wall time of the whole run, server start to close, ms. */
  elapsedMs: number;
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /**
   * Connections per protocol.
   * @default 40
   */
  connections?: number;
  /** Where progress goes; none when absent. */
  progress?: Progress;
  /**
   * The store behind the cache.
   * @default { kind: 'memory' }
   */
  store?: StoreUrl;
  /**
   * Keys to encrypt the stored sessions with.
   * @default undefined (stored in plain text)
   */
  encryption?: Keyring | undefined;
}

/**
 * Starts the HTTPS server in-process on a free port with a session cache on `options.store` (the
 * embedded MemoryStore by default), makes
 * `connections` HTTPS requests per protocol with Node's https client — every fourth one a full
 * handshake, the others offering a session from an earlier connection (TLS 1.3: a ticket, each used
 * once) — and measures each handshake on the client, from TCP connect to `secureConnect`.
 *
 * @throws Error if a connection fails, or client and server disagree on whether it resumed.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const connections = options.connections ?? DEFAULT_DEMO_CONNECTIONS;
  const began = performance.now();
  // The demo shows resumption through the store: without it there would be nothing to show.
  const store = await openStoreOption(options.store ?? { kind: 'memory' }, { requireStore: true });
  const running = await startHttpsServer({
    host: '127.0.0.1',
    port: 0,
    tls: 'both',
    store,
    encryption: options.encryption,
    // Stated, not defaulted: the demo's report is the session cache's and the store's counters.
    mode: 'stateful',
  });
  try {
    const protocols: ProtocolReport[] = [];
    for (const protocol of ['TLSv1.2', 'TLSv1.3'] as const) {
      options.progress?.start(protocol, connections);
      let report: ProtocolReport;
      try {
        report = await runProtocol(running, protocol, connections, options.progress);
      } catch (error) {
        // A terminal bar left running would keep the cursor hidden after the error.
        options.progress?.stop('failed');
        throw error;
      }
      options.progress?.stop(
        `${report.connections} connections, ${report.resumed} of ${report.resumeAttempts} resumed`,
      );
      protocols.push(report);
    }
    return {
      url: running.url,
      mode: 'stateful',
      store: running.store.kind,
      encryption: options.encryption === undefined ? 'none' : 'aes-256-gcm',
      protocols,
      cache: running.cache.stats(),
      attachment: running.attachment.stats(),
      storeAdapter: running.storeAdapter.stats(),
      elapsedMs: round(performance.now() - began, 1),
    };
  } finally {
    await running.close();
  }
}

async function runProtocol(
  running: RunningHttpsServer,
  protocol: DemoProtocol,
  connections: number,
  progress: Progress | undefined,
): Promise<ProtocolReport> {
  // Sessions not yet offered, newest last. TLS 1.2 resumes one session id again and again; a TLS 1.3
  // ticket is single use (the server takes it out of the cache), so each one is offered once.
  const unused: Buffer[] = [];
  const full: number[] = [];
  const resumedTimes: number[] = [];
  let resumeAttempts = 0;
  for (let i = 0; i < connections; i++) {
    const forceFull = i % FULL_EVERY === 0;
    if (!forceFull) resumeAttempts++;
    const session = forceFull ? undefined : protocol === 'TLSv1.2' ? unused.at(-1) : unused.pop();
    let result: ConnectionResult;
    try {
      result = await request(running, protocol, session);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`demo: ${protocol} connection ${i + 1} failed: ${message}`);
    }
    if (result.reused !== result.serverSaysResumed) {
      throw new Error(
        `demo: ${protocol} connection ${i + 1}: client and server disagree on resumption`,
      );
    }
    if (protocol === 'TLSv1.2') {
      // A resumed TLS 1.2 connection announces no new session: keep offering the one it resumed.
      if (result.sessions.length > 0) unused.splice(0, unused.length, ...result.sessions.slice(-1));
    } else {
      unused.push(...result.sessions);
    }
    (result.reused ? resumedTimes : full).push(result.handshakeMs);
    progress?.increment();
  }
  const fullMedianMs = median(full);
  const resumedMedianMs = median(resumedTimes);
  return {
    protocol,
    connections,
    resumeAttempts,
    resumed: resumedTimes.length,
    resumedPercent:
      resumeAttempts === 0 ? 0 : round((100 * resumedTimes.length) / resumeAttempts, 1),
    fullMedianMs: fullMedianMs === null ? null : round(fullMedianMs, 3),
    resumedMedianMs: resumedMedianMs === null ? null : round(resumedMedianMs, 3),
    speedup:
      fullMedianMs === null || resumedMedianMs === null || resumedMedianMs === 0
        ? null
        : round(fullMedianMs / resumedMedianMs, 2),
  };
}

interface ConnectionResult {
  /** What the client saw: `isSessionReused()`. */
  reused: boolean;
  /** What the server answered in the body. */
  serverSaysResumed: boolean;
  handshakeMs: number;
  /** Sessions the server gave this connection (TLS 1.3: one per ticket). */
  sessions: Buffer[];
}

/** One HTTPS GET on a fresh connection of `protocol`, offering `session` if given. */
function request(
  running: RunningHttpsServer,
  protocol: DemoProtocol,
  session: Buffer | undefined,
): Promise<ConnectionResult> {
  return new Promise((resolve, reject) => {
    const sessions: Buffer[] = [];
    let connectedAt = Number.NaN;
    let handshakeMs = Number.NaN;
    let reused = false;
    let body = '';
    // Our own socket, not an Agent's, so that the clock starts before the ClientHello is written
    // and the session offered is exactly the one chosen above.
    const socket = tls.connect({
      host: running.host,
      port: running.port,
      servername: 'localhost',
      // The demo made the certificate, so it can verify it properly instead of switching checks off.
      ca: running.cert,
      minVersion: protocol,
      maxVersion: protocol,
      ...(session === undefined ? {} : { session }),
    });
    // Prepended: tls.connect() has already queued its handshake start on 'connect'; run first.
    socket.prependOnceListener('connect', () => {
      connectedAt = performance.now();
    });
    socket.once('secureConnect', () => {
      handshakeMs = performance.now() - connectedAt;
      reused = socket.isSessionReused();
    });
    socket.on('session', (data: Buffer) => sessions.push(data));
    socket.setTimeout(CONNECTION_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
    let failed = false;
    const fail = (error: Error): void => {
      failed = true;
      reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => {
      if (failed) return;
      if (!body.startsWith('ok\n')) {
        reject(new Error('no valid response'));
        return;
      }
      resolve({
        reused,
        serverSaysResumed: /^resumed: yes$/m.test(body),
        handshakeMs,
        sessions,
      });
    });
    const req = https.request(
      {
        createConnection: () => socket,
        host: running.host,
        port: running.port,
        path: '/',
        headers: { connection: 'close' },
      },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

/** Registers `demo`, the README's main job: resumption at work, measured, on the embedded default. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'show resumption at work: full and resumed HTTPS connections over TLS 1.2 and 1.3 to an in-process server with a session cache (in memory by default), timed',
    )
    .option('--store <store>', `where sessions live: ${SUPPORTED_STORES.join(', ')}`, 'memory')
    .option(
      '--connections <n>',
      'connections per protocol (every 4th a forced full handshake)',
      String(DEFAULT_DEMO_CONNECTIONS),
    )
    .option(
      '--key-file <file>',
      `encrypt stored sessions with the keys of this file, one ID:KEY per line (default: the ${KEYS_ENV_VAR} environment variable, else none)`,
    )
    .option('--json', 'print the results as JSON instead of a table')
    .showHelpAfterError(false)
    .addHelpText(
      'after',
      `
The demo runs in stateful mode (every session through the cache and its store, which its
statistics show), whatever serve's default; "serve" shows tickets mode.
Exits 1 if no session of a protocol was resumed, so it doubles as a smoke test.
Progress goes to stderr, the results to stdout.

Examples:
  $ tls-session-cache demo
  $ tls-session-cache demo --json --connections 100
  $ tls-session-cache demo --store sqlite:/tmp/sessions.db`,
    )
    .action(
      async (raw: { connections: string; json?: boolean; store: string; keyFile?: string }) => {
        let store: StoreUrl;
        try {
          store = parseStoreUrl(raw.store);
        } catch (error) {
          throw new Error(`--store: ${(error as Error).message}`);
        }
        const connections = /^\d{1,6}$/.test(raw.connections)
          ? Number(raw.connections)
          : Number.NaN;
        if (!(connections >= FULL_EVERY && connections <= 100_000)) {
          throw new Error(
            `--connections: must be a whole number from ${FULL_EVERY} to 100000, got ${JSON.stringify(raw.connections)}`,
          );
        }
        const encryption = keyringOption(raw.keyFile);
        const report = await runDemo({
          connections,
          store,
          encryption,
          progress: createProgress('demo'),
        });
        process.stdout.write(
          raw.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatDemoReport(report),
        );
        const failed = report.protocols.filter((p) => p.resumed === 0).map((p) => p.protocol);
        if (failed.length > 0) {
          throw new Error(
            `demo: resumption did not work: no ${failed.join(' or ')} session resumed`,
          );
        }
      },
    );
}

/** The human-readable form of a {@link DemoReport}: a table per protocol, then the statistics. */
export function formatDemoReport(report: DemoReport): string {
  const lines: string[] = [];
  lines.push(
    `tls-session-cache demo: ${report.url}, ${report.mode} mode, ${report.store} store${report.encryption === 'none' ? '' : ` (${report.encryption.toUpperCase()})`}, ECDSA P-256 certificate`,
  );
  lines.push('');
  const header = [
    'protocol',
    'connections',
    'resumed',
    '%',
    'full median',
    'resumed median',
    'speed-up',
  ];
  const rows = report.protocols.map((p) => [
    p.protocol,
    String(p.connections),
    `${p.resumed}/${p.resumeAttempts}`,
    `${p.resumedPercent.toFixed(1)}%`,
    ms(p.fullMedianMs),
    ms(p.resumedMedianMs),
    p.speedup === null ? '-' : `${p.speedup.toFixed(2)}x`,
  ]);
  lines.push(...table(header, rows));
  lines.push('');
  lines.push(
    `Every ${ordinal(FULL_EVERY)} connection is a forced full handshake; the others offer a session from an earlier one`,
  );
  lines.push(
    '(TLS 1.3: a stateful ticket, each used once). Handshake: TCP connect to secureConnect, client side.',
  );
  lines.push('');
  lines.push('cache.stats()');
  lines.push(...grid(report.cache as unknown as Record<string, number>));
  lines.push('');
  lines.push('attachment.stats()');
  lines.push(...grid(report.attachment as unknown as Record<string, number>));
  lines.push('');
  lines.push('store adapter stats()');
  lines.push(...grid(report.storeAdapter as unknown as Record<string, number>));
  lines.push('');
  lines.push(`done in ${(report.elapsedMs / 1000).toFixed(2)} s`);
  return `${lines.join('\n')}\n`;
}

/** Left-aligned first column, right-aligned others, two spaces apart. */
function table(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => (row[c] ?? '').length)));
  return all.map((row) =>
    row
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** `name value` pairs, three to a line, aligned. */
function grid(values: Record<string, number>, perLine = 3): string[] {
  const entries = Object.entries(values);
  const nameWidth = Math.max(...entries.map(([name]) => name.length));
  const valueWidth = Math.max(...entries.map(([, value]) => String(value).length));
  const lines: string[] = [];
  for (let i = 0; i < entries.length; i += perLine) {
    lines.push(
      `  ${entries
        .slice(i, i + perLine)
        .map(([name, value]) => `${name.padEnd(nameWidth)} ${String(value).padStart(valueWidth)}`)
        .join('   ')}`,
    );
  }
  return lines;
}

function ms(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(2)} ms`;
}

function ordinal(n: number): string {
  return n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
