/**
 * Real handshakes for the leak and soak runs: a `tls.Server` assembled through `openSessionCache()`
 * as users do (its `serverOptions()`, then `attach()`; stateful, TLS 1.2 and 1.3), and a load client that keeps several connections in flight,
 * mixing TLS 1.2 and 1.3, full and resumed handshakes (TLS 1.2 session ids reused, TLS 1.3 stateful
 * tickets used once each). Shared by `npm run soak:handshakes`, `npm run soak` and the CI-sized test.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { SessionCache } from '../../src/cache/session-cache.js';
import {
  openSessionCache,
  type OpenSessionCacheOptions,
  type SessionService,
} from '../../src/front-door/index.js';
import type { Attachment } from '../../src/node/attach.js';

/** A self-signed ECDSA P-256 certificate for `localhost`, made with the `openssl` CLI. */
export function makeCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-load-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    // prettier-ignore
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A running server under load. */
export interface LoadServer {
  server: tls.Server;
  sessions: SessionService;
  cache: SessionCache;
  attachment: Attachment;
  port: number;
  /** TLS errors the server reported for client connections. */
  clientErrors: number;
  /** Open server-side connections (`server.getConnections`). */
  connections(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts the server on 127.0.0.1. `options` go to `openSessionCache()`; by default the engine's
 * internal cache alone (`internalCache: true` with the memory store), so that `cache.stats()`
 * counts every session the server holds and `cache.clear()` empties it.
 */
export async function startLoadServer(
  credentials: { key: string; cert: string },
  options: OpenSessionCacheOptions = {},
): Promise<LoadServer> {
  const sessions = await openSessionCache({
    internalCache: true,
    sessionIdContext: 'load',
    ...options,
  });
  const server = tls.createServer({
    ...credentials,
    ...sessions.serverOptions(),
    ALPNProtocols: ['http/1.1'],
  });
  const { cache } = sessions;
  const attachment = sessions.attach(server);
  const state = { clientErrors: 0 };
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    socket.on('error', () => {});
    socket.end('ok\n');
  });
  server.on('tlsClientError', (_error: Error, socket: tls.TLSSocket) => {
    state.clientErrors++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    sessions,
    cache,
    attachment,
    port,
    get clientErrors() {
      return state.clientErrors;
    },
    connections: () =>
      new Promise<number>((resolve, reject) =>
        server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
      ),
    close: async () => {
      // Detaches, empties the cache, lets pending writes land and closes the store.
      await sessions.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type Version = 'TLSv1.2' | 'TLSv1.3';

/** Counters of a {@link LoadClient}. */
export interface LoadStats {
  handshakes: number;
  full: Record<Version, number>;
  resumed: Record<Version, number>;
  /** Resumption attempts (a session was offered). */
  attempts: Record<Version, number>;
  errors: number;
  errorSamples: string[];
  /** Each completed handshake's time from connect to close, in ms (with `recordLatency` only). */
  latencyMs: number[];
}

interface Outcome {
  reused: boolean;
  sessions: Buffer[];
}

/** One connection: handshake, read the server's answer until it closes, collect the tickets. */
function connectOnce(
  port: number,
  version: Version,
  session: Buffer | undefined,
  timeoutMs: number,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const options: tls.ConnectionOptions = {
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      minVersion: version,
      maxVersion: version,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    };
    if (session !== undefined) options.session = session;
    const socket = tls.connect(options);
    const sessions: Buffer[] = [];
    let reused = false;
    let failure: Error | undefined;
    const timer = setTimeout(() => {
      failure = new Error(`no close within ${timeoutMs} ms`);
      socket.destroy();
    }, timeoutMs);
    socket.on('session', (s: Buffer) => sessions.push(s));
    socket.on('secureConnect', () => {
      reused = socket.isSessionReused();
    });
    socket.on('error', (error) => {
      failure ??= error;
    });
    socket.resume();
    socket.on('close', () => {
      clearTimeout(timer);
      if (failure !== undefined) reject(failure);
      else resolve({ reused, sessions });
    });
  });
}

/** Options of a {@link LoadClient}. */
export interface LoadOptions {
  /** Connections in flight at once. Default 8. */
  concurrency?: number;
  /** Share of handshakes that offer a session when one is available. Default 0.6. */
  resumeShare?: number;
  /** Share of TLS 1.3 handshakes. Default 0.5. */
  tls13Share?: number;
  /** Per-connection time limit. Default 10 000 ms. */
  timeoutMs?: number;
  /** Keep every handshake's duration in `stats.latencyMs`. Default false. */
  recordLatency?: boolean;
}

/**
 * Drives handshakes against a port. A deterministic round-robin decides version and full/resumed,
 * so runs are comparable.
 */
export class LoadClient {
  readonly stats: LoadStats = {
    handshakes: 0,
    full: { 'TLSv1.2': 0, 'TLSv1.3': 0 },
    resumed: { 'TLSv1.2': 0, 'TLSv1.3': 0 },
    attempts: { 'TLSv1.2': 0, 'TLSv1.3': 0 },
    errors: 0,
    errorSamples: [],
    latencyMs: [],
  };
  private readonly tls12: Buffer[] = [];
  private readonly tls13: Buffer[] = [];
  private counter = 0;
  private stopping = false;
  private readonly options: Required<LoadOptions>;

  constructor(
    private readonly port: number,
    options: LoadOptions = {},
  ) {
    this.options = {
      concurrency: options.concurrency ?? 8,
      resumeShare: options.resumeShare ?? 0.6,
      tls13Share: options.tls13Share ?? 0.5,
      timeoutMs: options.timeoutMs ?? 10_000,
      recordLatency: options.recordLatency ?? false,
    };
  }

  /** Runs `count` handshakes (or until {@link stop}), `concurrency` at a time. */
  async run(count: number = Infinity): Promise<void> {
    this.stopping = false;
    let started = 0;
    const worker = async (): Promise<void> => {
      while (!this.stopping && started < count) {
        started++;
        await this.one();
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency }, worker));
  }

  /** Asks running workers to finish their current connection and stop. */
  stop(): void {
    this.stopping = true;
  }

  private async one(): Promise<void> {
    const n = this.counter++;
    // Golden-ratio sequences: evenly mixed, deterministic.
    const version: Version = (n * 0.618034) % 1 < this.options.tls13Share ? 'TLSv1.3' : 'TLSv1.2';
    const wantResume = (n * 0.414214) % 1 < this.options.resumeShare;
    const pool = version === 'TLSv1.3' ? this.tls13 : this.tls12;
    // TLS 1.3 tickets are single use: take the newest. TLS 1.2 session ids may be reused.
    const session = wantResume
      ? version === 'TLSv1.3'
        ? pool.pop()
        : pool[pool.length - 1]
      : undefined;
    if (session !== undefined) this.stats.attempts[version]++;
    try {
      const started = performance.now();
      const outcome = await connectOnce(this.port, version, session, this.options.timeoutMs);
      if (this.options.recordLatency) this.stats.latencyMs.push(performance.now() - started);
      this.stats.handshakes++;
      if (outcome.reused) this.stats.resumed[version]++;
      else this.stats.full[version]++;
      for (const s of outcome.sessions) pool.push(s);
      if (pool.length > 64) pool.splice(0, pool.length - 64);
    } catch (error) {
      this.stats.errors++;
      if (this.stats.errorSamples.length < 5) this.stats.errorSamples.push(String(error));
    }
  }
}

/** Waits until `check` is true, polling every 10 ms, for at most `ms`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  ms: number,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return check();
}

/** Lets pending close/cleanup callbacks run (a few event-loop turns). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
}
