/**
 * The handshake benchmark's load client: N concurrent connection loops against one server, for a
 * fixed duration (or a fixed count) after a warm-up, counting completed handshakes and how many of
 * them were actually resumed.
 *
 *   tsx bench/handshake/client.ts --port N --tls 1.3 --mode resumed --cert-dir DIR
 *       [--concurrency 8] [--warmup 1] [--duration 5 [--min-handshakes N] | --count N] [--http-get PATH]
 *
 * Sessions (mode `resumed`):
 * - TLS 1.2: the session of a full handshake is offered again and again. Node's client keeps a TLS
 *   1.2 session valid for reuse, and a server resuming it issues no new one; a new session (from a
 *   connection that was not resumed after all) replaces it.
 * - TLS 1.3: a ticket is for one use (RFC 8446 §C.4, and a stateful server takes it out of its
 *   cache), so every connection takes a ticket from a pool that every connection's `session` events
 *   feed (two per full handshake; one per resumed one from a stateful server, none from Node's
 *   stateless one). Newest first, so that a ticket is offered while the server still has it.
 *   Mode `resumed-reuse` offers the newest ticket again when the pool is empty.
 * Mode `full` never offers a session. Whether a connection resumed is read from
 * `isSessionReused()`, never assumed: a configuration that fails to resume shows it in the report.
 *
 * With `--http-get PATH` every connection sends `GET PATH HTTP/1.0` once the handshake is done, for
 * servers that wait for a request before they answer and close (`openssl s_server -WWW`, the anchor
 * in `bench/anchors/`); without it the client sends nothing and waits for the server to close.
 *
 * Forked with an IPC channel it sends `window-start`, `window-end` and a {@link ClientResult};
 * otherwise it prints the result as JSON on stdout.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { readCert } from './certs.js';
import {
  MODES,
  cpuMicrosSince,
  latencyHistogram,
  numberOption,
  oneOf,
  parseArgs,
  parseVersion,
  recordSince,
  summarize,
  type ClientMessage,
  type ClientResult,
} from './common.js';

const { values } = parseArgs(process.argv.slice(2), {
  values: [
    ...['port', 'host', 'tls', 'mode', 'cert-dir', 'concurrency', 'warmup', 'duration', 'count'],
    'min-handshakes',
    'http-get',
  ],
  flags: [],
});
const port = numberOption(values, 'port', NaN, { integer: true });
if (Number.isNaN(port)) throw new Error('--port is required');
const host = values.get('host') ?? '127.0.0.1';
const version = parseVersion(values.get('tls') ?? 'TLSv1.3');
const mode = oneOf('mode', values.get('mode') ?? 'resumed', MODES);
const certDir = values.get('cert-dir');
if (certDir === undefined) throw new Error('--cert-dir is required (the CA to trust)');
/**
 * One secure context for every connection. Passing `ca` (or any context option) to `tls.connect()`
 * makes Node build a fresh `SSL_CTX` and parse the certificate on every call: about 0.4 ms of client
 * CPU per connection on the reference machine, more than the server spends on a resumed handshake.
 *
 * What remains is still more than the server's share, mostly in `setSession`: a client-side session
 * holds the server's certificate, and OpenSSL 3.0 decodes its public key through the slow provider
 * decoder on every `d2i_SSL_SESSION` (a third of the client's CPU in `perf`). So on two cores the
 * client saturates first; the report's CPU-per-handshake and event-loop columns show it.
 */
const secureContext = tls.createSecureContext({
  ca: readCert(certDir).cert,
  minVersion: version,
  maxVersion: version,
});
const concurrency = numberOption(values, 'concurrency', 8, { integer: true });
const warmupMs = numberOption(values, 'warmup', 1) * 1000;
const durationMs = numberOption(values, 'duration', 5) * 1000;
const count = values.has('count') ? numberOption(values, 'count', 1, { integer: true }) : undefined;
// A timed window that has counted fewer handshakes stays open until it has: on a loaded machine a
// client can be descheduled for a whole short window (a --smoke case once counted 0 in 0.3 s).
const minHandshakes = numberOption(values, 'min-handshakes', 0, { integer: true });
let overdue = false;
const httpGet = values.get('http-get');
const request = httpGet === undefined ? undefined : `GET ${httpGet} HTTP/1.0\r\n\r\n`;
/** A hung connection must not hang the benchmark; no real handshake here takes a tenth of this. */
const CONNECTION_TIMEOUT_MS = 10_000;
/** TLS 1.3 tickets kept; the oldest are dropped past twice this (they would be offered last). */
const POOL_KEEP = 1024;

const send = (message: ClientMessage): void => {
  process.send?.(message);
};

// --- sessions ---------------------------------------------------------------------------------------

let tls12Session: Buffer | undefined;
/** Unused TLS 1.3 tickets, newest last. */
const ticketPool: Buffer[] = [];
/** The newest TLS 1.3 ticket received, for `resumed-reuse`. */
let lastTicket: Buffer | undefined;

function takeSession(): Buffer | undefined {
  if (mode === 'full') return undefined;
  if (version === 'TLSv1.2') return tls12Session;
  return ticketPool.pop() ?? (mode === 'resumed-reuse' ? lastTicket : undefined);
}

function keepSession(session: Buffer): void {
  if (mode === 'full') return;
  if (version === 'TLSv1.2') {
    tls12Session = session;
  } else {
    ticketPool.push(session);
    lastTicket = session;
    if (ticketPool.length > 2 * POOL_KEEP) ticketPool.splice(0, ticketPool.length - POOL_KEEP);
  }
}

// --- measurement ------------------------------------------------------------------------------------

type Phase = 'warmup' | 'window' | 'drain';
let phase: Phase = 'warmup';
let handshakes = 0;
let resumed = 0;
let offered = 0;
let errors = 0;
const sampleErrors: string[] = [];
const histogram = latencyHistogram();
let windowStart = 0;
let windowEnd = 0;
let cpuBase = process.cpuUsage();
let eluBase = performance.eventLoopUtilization();
let cpuMicros = 0;
let elu = 0;

function startWindow(): void {
  phase = 'window';
  histogram.reset();
  cpuBase = process.cpuUsage();
  eluBase = performance.eventLoopUtilization();
  windowStart = performance.now();
  send({ type: 'window-start' });
}

function endWindow(): void {
  if (phase !== 'window') return;
  windowEnd = performance.now();
  cpuMicros = cpuMicrosSince(cpuBase);
  elu = performance.eventLoopUtilization(eluBase).utilization;
  phase = 'drain';
  send({ type: 'window-end' });
}

/** One connection: handshake, collect sessions, read until the server closes. */
function connectOnce(): Promise<void> {
  return new Promise((resolve) => {
    const session = takeSession();
    const measured = phase === 'window';
    if (measured && session !== undefined) offered++;
    const start = performance.now();
    const socket = tls.connect({
      host,
      port,
      servername: 'localhost',
      secureContext,
      minVersion: version,
      maxVersion: version,
      ...(session === undefined ? {} : { session }),
    });
    socket.setTimeout(CONNECTION_TIMEOUT_MS, () => socket.destroy(new Error('timeout')));
    socket.once('secureConnect', () => {
      // Counted if the handshake completes inside the window, wherever it started: in a steady
      // state that is exactly the completion rate.
      if (phase !== 'window') return;
      recordSince(histogram, start);
      handshakes++;
      if (socket.isSessionReused()) resumed++;
      if (
        (count !== undefined && handshakes >= count) ||
        (overdue && handshakes >= minHandshakes)
      ) {
        endWindow();
      }
    });
    if (request !== undefined) socket.once('secureConnect', () => socket.write(request));
    socket.on('session', keepSession);
    socket.on('error', (error: Error) => {
      if (phase !== 'window') return;
      errors++;
      if (sampleErrors.length < 5) sampleErrors.push(error.message);
    });
    socket.on('close', () => resolve());
    // Consume the (empty) stream so that the server's close_notify/FIN is read and 'close' comes.
    socket.resume();
  });
}

async function loop(): Promise<void> {
  while (phase !== 'drain') await connectOnce();
}

// A first full handshake, so that resumption can start with the first connections of the loops.
await connectOnce();
setTimeout(startWindow, warmupMs);
if (count === undefined) {
  setTimeout(() => {
    if (handshakes >= minHandshakes) endWindow();
    else overdue = true;
  }, warmupMs + durationMs);
}
await Promise.all(Array.from({ length: concurrency }, loop));

const windowSeconds = (windowEnd - windowStart) / 1000;
const result: ClientResult = {
  type: 'result',
  handshakes,
  resumed,
  errors,
  offered,
  windowSeconds,
  handshakesPerSecond: handshakes / windowSeconds,
  resumedFraction: handshakes === 0 ? 0 : resumed / handshakes,
  latency: summarize(histogram),
  cpuUsPerHandshake: handshakes === 0 ? 0 : cpuMicros / handshakes,
  elu,
  sampleErrors,
};
if (process.send !== undefined) {
  send(result);
  process.disconnect();
} else {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
