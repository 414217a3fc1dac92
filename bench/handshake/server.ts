/**
 * The handshake benchmark's server runner: starts ONE server configuration, prints `ready PORT` on
 * stdout, and measures every handshake from the server's side.
 *
 *   tsx bench/handshake/server.ts --config attach-memory --tls 1.3 [--cert-dir DIR] [--port N]
 *
 * Configurations (see `CONFIGS` in common.ts): the comparison points `node-tickets` (Node's
 * defaults) and `map` (a bare Map on Node's events), and ours, each assembled through
 * `openSessionCache()` as users do: `attach-memory`, `attach-memory-no-reader`, the stores
 * (`attach-memorystore`, `attach-sqlite`, `attach-sqlite-external`, `attach-redis`,
 * `attach-redis-external`) and tickets mode (`attach-tickets`, `attach-tickets-sqlite`). Each server answers a completed handshake by ending the connection at
 * once (close_notify + FIN): the benchmark is about handshakes, and the server closing first keeps
 * the TIME_WAIT sockets on the server's side, so the client never runs out of ephemeral ports.
 *
 * Forked with an IPC channel (by `run.ts`), it takes {@link ServerCommand}s: `reset` starts a
 * measurement window, `report` answers with a {@link ServerReport}, `stop` exits. Run by hand, it
 * prints `report {json}` on stdout when it gets SIGINT/SIGTERM.
 *
 * Latency is measured from the raw TCP `connection` event to `secureConnection`: this is what a
 * client waits for minus the network, and it includes the time `attach()`'s ClientHello reader holds
 * the socket, which a timer started anywhere later would miss.
 *
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import tls from 'node:tls';
import type * as Library from '../../src/index.js';
import type { Attachment, SessionService } from '../../src/index.js';
import { startRedis, type RedisServer } from '../../test/helpers/redis-server.js';
import { generateCert, readCert, removeCert, type BenchCert } from './certs.js';
import {
  CONFIGS,
  CONFIG_VERSIONS,
  cpuMicrosSince,
  latencyHistogram,
  numberOption,
  oneOf,
  parseArgs,
  parseVersion,
  recordSince,
  summarize,
  type ConfigName,
  type ServerCommand,
  type ServerReport,
  type TlsVersion,
} from './common.js';

// The library as users run it: the tsc build in dist/ (`npm run bench` builds first), typed by the
// sources. Loaded through tsx, the sources would carry esbuild's keepNames helper (`__name`, a
// defineProperty per closure created), which a CPU profile shows on every connection of attach().
const lib = (await import(new URL('../../dist/index.js', import.meta.url).href)) as typeof Library;
const { openSessionCache, statefulServerOptions } = lib;

const { values } = parseArgs(process.argv.slice(2), {
  values: ['config', 'tls', 'cert-dir', 'port', 'lookup-deadline'],
  flags: [],
});
const config = oneOf('config', values.get('config'), CONFIGS);
const version = parseVersion(values.get('tls') ?? 'TLSv1.3');
if (!CONFIG_VERSIONS[config].includes(version)) {
  // Not fatal (it is a valid server), but its "resumed" numbers would mean nothing.
  process.stderr.write(`warning: ${config} cannot resume ${version} sessions\n`);
}
/** `lookupDeadlineMs` of our configurations; absent: the product default (what is measured). */
const lookupDeadlineMs = values.has('lookup-deadline')
  ? numberOption(values, 'lookup-deadline', 50, { integer: true })
  : undefined;
let ownCert: BenchCert | undefined;
const certDir = values.get('cert-dir') ?? (ownCert = generateCert()).dir;
const { key, cert } = readCert(certDir);

// --- counters of the current measurement window ---------------------------------------------------

const histogram = latencyHistogram();
let handshakes = 0;
let resumed = 0;
let errors = 0;
let missingStart = 0;
let cpuBase = process.cpuUsage();
let eluBase = performance.eventLoopUtilization();

// --- the configuration under test ---------------------------------------------------------------

interface Setup {
  server: tls.Server;
  attachment?: Attachment;
  map?: Map<string, Buffer>;
  sessions?: SessionService;
}

/** The temp dir of the SQLite configurations' file, removed at stop. */
let storeDir: string | undefined;
let redis: RedisServer | undefined;

/**
 * The application: one byte, then end. The byte matters: a TLS 1.3 server that ends without writing
 * anything gets its session tickets generated (`newSession` fires) but the client never receives
 * them (measured on Node 20 / OpenSSL 3.0), so there would be nothing to resume. Socket errors are
 * counted, not thrown, so that a dying client cannot crash the server.
 */
function application(socket: tls.TLSSocket): void {
  socket.on('error', () => {
    errors++;
  });
  socket.end('x');
}

async function setUp(name: ConfigName, tlsVersion: TlsVersion): Promise<Setup> {
  // min = max pins the version: a TLS 1.2 row must not quietly become TLS 1.3.
  const base: tls.TlsOptions = { key, cert, minVersion: tlsVersion, maxVersion: tlsVersion };
  switch (name) {
    case 'node-tickets':
      return { server: tls.createServer(base, application) };
    case 'map': {
      // What users write by hand: unbounded, no expiry, ids as hex strings.
      const server = tls.createServer({ ...base, ...statefulServerOptions() }, application);
      const map = new Map<string, Buffer>();
      server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
        map.set(id.toString('hex'), data);
        done();
      });
      server.on(
        'resumeSession',
        (id: Buffer, done: (err: Error | null, data?: Buffer | null) => void) => {
          done(null, map.get(id.toString('hex')) ?? null);
        },
      );
      return { server, map };
    }
    case 'attach-memory':
    case 'attach-memory-no-reader':
      // The engine's internal cache alone (OpenSSL's default server cache): the floor the stores
      // are compared with.
      return open(base, { internalCache: true, readClientHello: name === 'attach-memory' });
    case 'attach-memorystore':
      // As `serve --store memory` builds it: the MemoryStore is the only cache.
      return open(base, { store: 'memory' });
    case 'attach-sqlite':
    case 'attach-sqlite-external':
      // As `serve --store sqlite:FILE`; `-external` switches the internal cache off.
      return open(base, {
        store: `sqlite:${sqliteFile()}`,
        internalCache: name === 'attach-sqlite',
      });
    case 'attach-redis':
    case 'attach-redis-external':
      // A redis-server of its own on loopback (a separate process, so its CPU is not the
      // server's), flushed by being new: every case starts from an empty store.
      redis = await startRedis();
      return open(base, { store: redis.url, internalCache: name === 'attach-redis' });
    case 'attach-tickets':
      return open(base, { mode: 'tickets' });
    case 'attach-tickets-sqlite':
      // A shared store holds the ticket keys sealed: tickets mode refuses it without a keyring.
      return open(base, {
        mode: 'tickets',
        store: `sqlite:${sqliteFile()}`,
        encryption: { keys: [BENCH_SEAL_KEY] },
      });
  }
}

/**
 * The keyring key sealing the SQLite configuration's ticket keys (and sessions): a fixed bench
 * key in a temp file removed at stop, not a secret.
 */
const BENCH_SEAL_KEY = `bench:${'5a'.repeat(32)}`;

/** A fresh SQLite file in a temp dir removed at stop. */
function sqliteFile(): string {
  storeDir = mkdtempSync(join(tmpdir(), 'tsc-bench-sqlite-'));
  return join(storeDir, 'sessions.db');
}

/** Our configurations, assembled as users do: openSessionCache(), its serverOptions(), attach(). */
async function open(
  base: tls.TlsOptions,
  options: Library.OpenSessionCacheOptions,
): Promise<Setup> {
  const sessions = await openSessionCache(
    lookupDeadlineMs === undefined ? options : { ...options, lookupDeadlineMs },
  );
  const server = tls.createServer({ ...base, ...sessions.serverOptions() }, application);
  return { server, attachment: sessions.attach(server), sessions };
}

const setup = await setUp(config, version);
const { server } = setup;
const acceptedAt = new WeakMap<Socket, number>();

// Registered AFTER setUp on purpose, and *prepended*: attach() removes the server's 'connection'
// listeners and calls them itself once the ClientHello reader is done, so a listener added before
// attach() would fire only then, and the reader's time (waiting for and parsing the ClientHello)
// would go unmeasured. Prepended after attach(), it fires first, at accept time, in every
// configuration alike. A WeakMap keyed by the raw socket needs no cleanup for failed connections.
server.prependListener('connection', (socket: Socket) => {
  acceptedAt.set(socket, performance.now());
});
// Also prepended, so that the timestamp is taken before the application and attach() run their
// own secureConnection listeners.
server.prependListener('secureConnection', (socket: tls.TLSSocket) => {
  // A server-side TLSSocket wraps the raw socket that 'connection' saw and keeps it as `_parent`
  // (undocumented but stable since Node 0.x; attach() relies on it too).
  const raw = (socket as unknown as { _parent?: Socket })._parent;
  const start = raw === undefined ? undefined : acceptedAt.get(raw);
  if (start === undefined) missingStart++;
  else recordSince(histogram, start);
  handshakes++;
  if (socket.isSessionReused()) resumed++;
});
server.on('tlsClientError', () => {
  errors++;
});

function reset(): void {
  histogram.reset();
  handshakes = resumed = errors = missingStart = 0;
  cpuBase = process.cpuUsage();
  eluBase = performance.eventLoopUtilization();
}

function report(): ServerReport {
  const cpu = cpuMicrosSince(cpuBase);
  const r: ServerReport = {
    type: 'report',
    handshakes,
    resumed,
    errors: errors + missingStart,
    latency: summarize(histogram),
    cpuUsPerHandshake: handshakes === 0 ? 0 : cpu / handshakes,
    elu: performance.eventLoopUtilization(eluBase).utilization,
  };
  if (setup.attachment !== undefined) {
    r.attachStats = setup.attachment.stats();
    r.cacheStats = setup.attachment.cache.stats();
  }
  if (setup.map !== undefined) r.mapSize = setup.map.size;
  return r;
}

async function stop(): Promise<void> {
  server.close();
  // Bounded: a store that cannot close must not keep the benchmark waiting.
  const bounded = (p: unknown): Promise<unknown> =>
    Promise.race([Promise.resolve(p).catch(() => undefined), delay(3000)]);
  await bounded(setup.sessions?.close());
  await bounded(redis?.stop());
  if (storeDir !== undefined) rmSync(storeDir, { recursive: true, force: true });
  if (ownCert !== undefined) removeCert(ownCert);
  // Exit now rather than wait for idle sockets: the load is over. A normal exit writes --cpu-prof.
  process.exit(0);
}

// --- control --------------------------------------------------------------------------------------

if (process.send !== undefined) {
  process.on('message', (message: ServerCommand) => {
    if (message.type === 'reset') reset();
    else if (message.type === 'report') process.send!(report());
    else if (message.type === 'stop') void stop();
  });
  // The orchestrator died or finished without saying stop: do not linger.
  process.on('disconnect', () => void stop());
} else {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      process.stdout.write(`report ${JSON.stringify(report())}\n`);
      void stop();
    });
  }
}

const port = numberOption(values, 'port', 0, { integer: true });
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
});
