/**
 * The native anchor: `openssl s_server` with OpenSSL's own internal session cache, as a
 * {@link ServerUnderTest} that either load client can drive.
 *
 *   openssl s_server -accept 127.0.0.1:0 -cert … -key … -WWW -no_ticket -tls1_2|-tls1_3
 *
 * - `-no_ticket`: TLS 1.2 resumes by session id from the internal cache, and TLS 1.3 issues
 *   stateful tickets (references into the same cache): the stateful model this library brings to
 *   Node. `s_server` keeps at most 128 sessions (`SSL_CTX_sess_set_cache_size(ctx, 128)`), plenty
 *   here: the load client offers the newest ones.
 * - `-WWW`: answers `GET /x HTTP/1.0` with the file `x` (two bytes) and closes, like our Node
 *   servers that write one byte and end. `s_time` sends no request and closes first; `s_server`
 *   then reads end-of-file and moves on. (`-www` would render a status page of several KB for
 *   every request.)
 * - It serves ONE connection at a time (accept, handshake, request, close), so with several
 *   concurrent clients the others wait in the listen backlog: that is `s_server`'s design, not a
 *   limit of the machine.
 * - Its server-side handshake latency is not measured (it is not instrumented); its CPU time is
 *   read from `/proc/PID/stat` at the start and the end of the window.
 *
 * @module
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CERT_FILE, KEY_FILE } from '../handshake/certs.js';
import type { TlsVersion } from '../handshake/common.js';
import { exited, type ServerUnderTest } from '../handshake/orchestrator.js';

/** The document `-WWW` serves (from the certificate directory) and the path clients ask for. */
export const S_SERVER_DOCUMENT = 'x';
export const S_SERVER_PATH = `/${S_SERVER_DOCUMENT}`;

let clockTicks: number | undefined;

/** `sysconf(_SC_CLK_TCK)`: the unit of `/proc/PID/stat`'s CPU times (100 on Linux). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      clockTicks = 100;
    }
    if (!Number.isFinite(clockTicks) || clockTicks <= 0) clockTicks = 100;
  }
  return clockTicks;
}

/**
 * CPU time (user + system) of a running process in µs, from `/proc/PID/stat` (fields 14 and 15,
 * in clock ticks: 10 ms resolution, so a window needs a few hundred ms of server CPU to be exact
 * to a few percent).
 */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`cannot read CPU times of process ${pid}`);
  }
  return ((utime + stime) * 1e6) / ticksPerSecond();
}

/** The `openssl` binary's own version line, e.g. `OpenSSL 3.0.19 27 Jan 2026 (Library: …)`. */
export function opensslVersion(): string {
  return execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
}

/**
 * Starts `openssl s_server` on a free loopback port with the benchmark's certificate (ECDSA P-256
 * from `bench/handshake/certs.ts`) and waits until it listens.
 */
export async function startSServer(options: {
  certDir: string;
  version: TlsVersion;
}): Promise<ServerUnderTest & { readonly pid: number }> {
  const { certDir, version } = options;
  writeFileSync(join(certDir, S_SERVER_DOCUMENT), 'x\n');
  // prettier-ignore
  const args = [
    's_server', '-accept', '127.0.0.1:0', '-cert', join(certDir, CERT_FILE),
    '-key', join(certDir, KEY_FILE), '-WWW', '-no_ticket',
    version === 'TLSv1.2' ? '-tls1_2' : '-tls1_3',
  ];
  const child = spawn('openssl', args, { cwd: certDir, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = exited(child, 's_server');
  done.catch(() => undefined); // it is stopped by a signal; observed in stop()
  // Lines like `…:error:0A000126:SSL routines::unexpected eof while reading` (counted in the
  // report's error column).
  let errors = 0;
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (/error/i.test(line)) errors++;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = /^ACCEPT .*:(\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
      // Later lines (there should be none with -WWW) are read and dropped, so that a full pipe
      // never blocks the server.
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`openssl s_server exited (${String(code)}) before it listened`)),
    );
  });
  const pid = child.pid!;
  let cpuBase = processCpuMicros(pid);
  let errorBase = errors;
  return {
    port,
    pid,
    startWindow: () => {
      cpuBase = processCpuMicros(pid);
      errorBase = errors;
    },
    endWindow: () =>
      Promise.resolve({
        handshakes: undefined,
        resumed: undefined,
        errors: errors - errorBase,
        latency: undefined,
        cpuMicros: processCpuMicros(pid) - cpuBase,
        elu: undefined,
      }),
    stop: async () => {
      child.kill('SIGTERM');
      await done.catch(() => undefined);
    },
  };
}
