/**
 * OpenSSL's own load client, `openssl s_time`, as the second load client of `npm run bench`:
 *
 *   openssl s_time -connect 127.0.0.1:PORT -tls1_2 -reuse|-new -time S
 *
 * It makes ONE connection at a time for `S` seconds: a handshake, then (without `-www`) it closes
 * the socket at once, without reading or sending `close_notify`. `-reuse` offers the session of its
 * first connection on every later one; `-new` never offers one. It prints a character per
 * connection (`r` = resumed, `*` = full) and two summary lines:
 *
 *   18130 connections in 1.00s; 18130.00 connections/user sec, bytes read 0
 *   18130 connections in 3 real seconds, 0 bytes read per connection
 *
 * "connections/user sec" divides by s_time's own user CPU time, not by the elapsed time, and "real
 * seconds" is whole seconds (it runs from `S` to `S + 1` seconds and prints `S + 1`), so the rate
 * here is the connection count over the wall time of the process, measured by us (which includes
 * its few milliseconds of start-up: a slight underestimate). Whether a connection resumed is read
 * from its `r`/`*` characters, not assumed.
 *
 * Why not TLS 1.3: a TLS 1.3 session arrives in a NewSessionTicket after the handshake, and s_time
 * closes without reading anything, so `-reuse` has nothing resumable to offer (measured with
 * OpenSSL 3.0.19: `s_time -reuse -tls1_3` against `s_server` prints only `*`, no `r`). Our own
 * load client measures TLS 1.3.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { TlsVersion } from '../handshake/common.js';
import { CLIENT_SATURATED, SERVER_SATURATED } from '../handshake/common.js';
import type { Sample, ServerUnderTest } from '../handshake/orchestrator.js';

/** What one `s_time` run printed, parsed. */
export interface STimeResult {
  /** Connections made (the summary line). */
  connections: number;
  /** Of those, how many resumed (`r` characters). */
  resumed: number;
  /** Of those, how many did not (any other progress character). */
  full: number;
  /** The `… connections/user sec` figure: connections per second of s_time's user CPU time. */
  connectionsPerUserSec: number;
  /** The `… in N real seconds` figure (whole seconds). */
  realSeconds: number;
  /** Wall time of the process, measured by us. */
  wallSeconds: number;
  /** `connections / wallSeconds`. */
  handshakesPerSecond: number;
}

/** Parses s_time's standard output (one mode: `-new` or `-reuse`, not both). */
export function parseSTime(output: string, wallSeconds: number): STimeResult {
  const summary = /(\d+) connections in ([\d.]+)s; ([\d.]+) connections\/user sec/.exec(output);
  const real = /(\d+) connections in (\d+) real seconds/.exec(output);
  if (summary === null || real === null) {
    throw new Error(`unexpected s_time output: ${output.slice(-300)}`);
  }
  let resumed = 0;
  let full = 0;
  for (const line of output.split('\n')) {
    // Progress lines: one character per connection (s_time.c: 'r' reused, '*'/'t'/'3' new).
    if (!/^[rt3*]+$/.test(line)) continue;
    for (const ch of line) {
      if (ch === 'r') resumed++;
      else full++;
    }
  }
  const connections = Number(summary[1]);
  return {
    connections,
    resumed,
    full,
    connectionsPerUserSec: Number(summary[3]),
    realSeconds: Number(real[2]),
    wallSeconds,
    handshakesPerSecond: connections / wallSeconds,
  };
}

/** Runs `openssl s_time` against a port. */
export function runSTime(options: {
  port: number;
  version: TlsVersion;
  resumed: boolean;
  seconds: number;
}): Promise<STimeResult> {
  if (options.version !== 'TLSv1.2') {
    throw new Error('s_time cannot resume TLS 1.3 sessions: only TLS 1.2 is measured with it');
  }
  // prettier-ignore
  const args = [
    's_time', '-connect', `127.0.0.1:${options.port}`, '-tls1_2',
    options.resumed ? '-reuse' : '-new', '-time', String(options.seconds),
  ];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const wallSeconds = (performance.now() - started) / 1000;
      const output = Buffer.concat(out).toString('latin1');
      if (code !== 0) {
        const detail = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-3);
        reject(new Error(`openssl s_time exited with ${String(code)}: ${detail.join(' | ')}`));
        return;
      }
      try {
        resolve(parseSTime(output, wallSeconds));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

/**
 * Drives `server` with s_time for one window: the server counts from just before the s_time
 * processes start to just after the last one exits. One s_time makes one connection at a time, so
 * `processes` of them run side by side to load a server that can serve several at once. Returns a
 * {@link Sample} (client-side latency is not known: `NaN`; client CPU is s_time's user time, from
 * its "connections/user sec") and the raw s_time figures, summed.
 */
export async function driveWithSTime(
  server: ServerUnderTest,
  options: { version: TlsVersion; resumed: boolean; seconds: number; processes?: number },
): Promise<{ sample: Sample; sTime: STimeResult }> {
  const n = options.processes ?? 1;
  server.startWindow();
  const runs = await Promise.all(
    Array.from({ length: n }, () =>
      runSTime({
        port: server.port,
        version: options.version,
        resumed: options.resumed,
        seconds: options.seconds,
      }),
    ),
  );
  const window = await server.endWindow();
  const connections = runs.reduce((a, r) => a + r.connections, 0);
  const wallSeconds = Math.max(...runs.map((r) => r.wallSeconds));
  const userSeconds = runs.reduce(
    (a, r) => a + (r.connectionsPerUserSec > 0 ? r.connections / r.connectionsPerUserSec : 0),
    0,
  );
  const sTime: STimeResult = {
    connections,
    resumed: runs.reduce((a, r) => a + r.resumed, 0),
    full: runs.reduce((a, r) => a + r.full, 0),
    connectionsPerUserSec: userSeconds > 0 ? connections / userSeconds : 0,
    realSeconds: Math.max(...runs.map((r) => r.realSeconds)),
    wallSeconds,
    handshakesPerSecond: connections / wallSeconds,
  };
  const handshakes = window.handshakes ?? sTime.connections;
  const serverCpuShare = window.cpuMicros / (wallSeconds * 1e6);
  const clientCpuShare = userSeconds / wallSeconds;
  const sample: Sample = {
    handshakesPerSecond: sTime.handshakesPerSecond,
    resumedFraction: sTime.connections === 0 ? 0 : sTime.resumed / sTime.connections,
    p50Ms: window.latency?.p50Ms ?? NaN,
    p99Ms: window.latency?.p99Ms ?? NaN,
    clientP50Ms: NaN,
    serverCpuUs: handshakes === 0 ? 0 : window.cpuMicros / handshakes,
    clientCpuUs: connections === 0 ? NaN : (userSeconds * 1e6) / connections,
    serverElu: window.elu ?? NaN,
    clientElu: NaN,
    serverCpuShare,
    clientCpuShare,
    errors: window.errors,
    // s_time has no event loop: a process whose user CPU fills its wall time is saturated.
    clientBound: clientCpuShare / n >= CLIENT_SATURATED && !(serverCpuShare >= SERVER_SATURATED),
    clients: n,
    ...(window.report === undefined ? {} : { server: window.report }),
  };
  return { sample, sTime };
}
