/**
 * Client-side session cache: time to first byte of N sequential short-lived Node processes that
 * each make one HTTPS GET to the same local server, with and without the persistent (SQLite)
 * client cache, side by side in one run.
 *
 *   npm run bench:client [-- --runs 20] [-- --rtt-ms 0] [-- --json results.json]
 *
 * The server is our CLI `serve` (stateful resumption, self-signed ECDSA certificate) in its own
 * process, offering TLS 1.2 and 1.3. Each client process (bench/client-ttfb-child.mjs, plain JS on
 * dist/, so `npm run build` first) runs `https.get` once and exits: without a cache through a plain
 * `https.Agent`; with one through `SessionCachingAgent` on a `ClientSessionCache` over a
 * `SqliteStore` file that every run of that arm shares. The arms alternate run by run (so load
 * drifts hit both), one warm-up pair per TLS version first. Reported per arm: the median, over the
 * runs, of the time from the request to its first response byte, and from the process's start to
 * that byte (which includes loading the library and opening the SQLite file: the whole cost of the
 * cache), plus the parent's spawn-to-exit wall time.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberOption, parseArgs } from './handshake/common.js';

const { values, flags } = parseArgs(process.argv.slice(2), {
  values: ['runs', 'json', 'rtt-ms'],
  flags: ['help'],
});
if (flags.has('help')) {
  console.log('npm run bench:client [-- --runs N] [-- --rtt-ms MS] [-- --json FILE]');
  process.exit(0);
}
const runs = numberOption(values, 'runs', 20, { integer: true });
const rttMs = numberOption(values, 'rtt-ms', 0);
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const CHILD = fileURLToPath(new URL('./client-ttfb-child.mjs', import.meta.url));

interface ChildResult {
  sinceStartMs: number;
  requestMs: number;
  reused: boolean;
  wallMs: number;
}

function startServe(): Promise<{ port: number; stop(): void }> {
  // Stateful, as docs/client.md reports it (serve's default is tickets mode).
  const args = ['serve', '--mode', 'stateful', '--port', '0', '--tls', 'both'];
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const match = /listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (match) resolve({ port: Number(match[1]), stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
}

function runChild(args: string[]): Promise<ChildResult> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`client exited with ${code}`));
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      resolve({ ...(JSON.parse(out) as Omit<ChildResult, 'wallMs'>), wallMs });
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * A TCP proxy on loopback that delays every chunk by half the round-trip time in each direction:
 * a stand-in for a server some distance away (loopback's own round trip is ~0.05 ms, which hides
 * the round trip TLS 1.2 resumption saves). Traffic stays on this machine.
 */
async function startDelayProxy(
  targetPort: number,
  oneWayMs: number,
): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const pipeDelayed = (from: net.Socket, to: net.Socket): void => {
    from.on('data', (chunk: Buffer) => setTimeout(() => to.writable && to.write(chunk), oneWayMs));
    from.on('end', () => setTimeout(() => to.end(), oneWayMs));
    from.on('error', () => to.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect({ port: targetPort, host: '127.0.0.1', noDelay: true });
    client.setNoDelay(true);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    pipeDelayed(client, upstream);
    pipeDelayed(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'tsc-bench-client-'));
const server = await startServe();
const proxy = rttMs > 0 ? await startDelayProxy(server.port, rttMs / 2) : undefined;
const url = `https://127.0.0.1:${proxy?.port ?? server.port}/`;
const loadBefore = loadavg()[0]!;
const rows: Record<string, unknown>[] = [];
try {
  for (const version of ['TLSv1.3', 'TLSv1.2']) {
    const db = join(dir, `client-${version}.db`);
    const arms = { none: [] as ChildResult[], sqlite: [] as ChildResult[] };
    // Warm-up: the OS page cache, the server's JIT, and the first session in the file.
    await runChild([url, version, 'none']);
    await runChild([url, version, 'sqlite', db]);
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? (['none', 'sqlite'] as const) : (['sqlite', 'none'] as const);
      for (const arm of order) arms[arm].push(await runChild([url, version, arm, db]));
    }
    for (const arm of ['none', 'sqlite'] as const) {
      const r = arms[arm];
      rows.push({
        tls: version,
        client: arm === 'none' ? 'https.Agent, no cache' : 'SessionCachingAgent + SqliteStore',
        runs: r.length,
        resumed: r.filter((x) => x.reused).length,
        requestTtfbMs: median(r.map((x) => x.requestMs)),
        startToFirstByteMs: median(r.map((x) => x.sinceStartMs)),
        wallMs: median(r.map((x) => x.wallMs)),
      });
    }
  }
} finally {
  proxy?.close();
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (n: unknown): string => (n as number).toFixed(2);
console.log(
  `client TTFB: ${runs} sequential processes per arm, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ` +
    `Node ${process.version}, added round trip ${rttMs} ms, 1-min load ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after`,
);
console.log('');
console.log(
  '| TLS | client | resumed | request → first byte, median ms | process start → first byte, median ms | spawn → exit, median ms |',
);
console.log('|---|---|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${String(r.tls).replace('TLSv', '')} | ${String(r.client)} | ${String(r.resumed)}/${String(r.runs)} | ${fmt(r.requestTtfbMs)} | ${fmt(r.startToFirstByteMs)} | ${fmt(r.wallMs)} |`,
  );
}
console.log('');
for (const version of ['TLSv1.3', 'TLSv1.2']) {
  const [none, sqlite] = rows.filter((r) => r.tls === version);
  const ratio = (k: string) => ((none![k] as number) / (sqlite![k] as number)).toFixed(2);
  console.log(
    `${version}: no cache ÷ SQLite cache = ${ratio('requestTtfbMs')}× (request → first byte), ` +
      `${ratio('startToFirstByteMs')}× (process start → first byte), ${ratio('wallMs')}× (spawn → exit)`,
  );
}
const jsonPath = values.get('json');
if (jsonPath !== undefined) writeFileSync(jsonPath, JSON.stringify({ runs, rows }, null, 2));
