// RedisStore on loopback: latency (median, p99) of set/get/take one at a time, and ops/s with many
// operations in flight, against one redis-server and a 3-master Redis Cluster that this script
// starts on free ports and stops again. With --handshakes, also resumed handshakes/s of the built
// `serve` (node dist/cli/main.js serve) with --store redis:// and redis+cluster:// relative to
// --store memory, the server in its own process, driven by Node TLS clients from this one.
//
//   npx tsx bench/redis-store.ts [--quick] [--handshakes] [--json FILE]
//
// The machine is small (2 cores) and shared: read the numbers as orders of magnitude and ratios.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { RedisStore } from '../src/stores/redis-store.js';
import { MemoryStore } from '../src/stores/memory-store.js';
import type { SessionStore } from '../src/stores/store.js';
import { startRedis, startRedisCluster } from '../test/helpers/redis-server.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const handshakes = args.includes('--handshakes');
const jsonIndex = args.indexOf('--json');
const jsonFile = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;

const SEQUENTIAL_OPS = quick ? 2000 : 10_000;
const THROUGHPUT_MS = quick ? 1000 : 3000;
const CONCURRENCY = 64;
// A stored TLS 1.3 session (envelope around ~250 bytes of DER, no client certificate) is a few
// hundred bytes; 512 is on the generous side.
const VALUE = randomBytes(512);
const NS = 'bench/AbCdEfGhIjKlMnOp';

interface OpNumbers {
  medianUs: number;
  p99Us: number;
  opsPerSec: number;
}
type StoreNumbers = Record<'set' | 'get' | 'take', OpNumbers>;

const ids = (count: number, salt: number): Buffer[] =>
  Array.from({ length: count }, (_, i) => {
    const id = randomBytes(32);
    id.writeUInt32BE(i, 0);
    id.writeUInt32BE(salt, 4);
    return id;
  });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** One operation at a time: latency as a caller on the handshake path sees it. */
async function sequential(
  run: (id: Buffer) => unknown,
  keys: Buffer[],
): Promise<{ medianUs: number; p99Us: number }> {
  const samples: number[] = [];
  for (const id of keys) {
    const start = performance.now();
    await run(id);
    samples.push((performance.now() - start) * 1000);
  }
  samples.sort((a, b) => a - b);
  return { medianUs: percentile(samples, 0.5), p99Us: percentile(samples, 0.99) };
}

/** CONCURRENCY operations in flight for THROUGHPUT_MS: what many handshakes at once get. */
async function throughput(run: (id: Buffer) => unknown, keys: Buffer[]): Promise<number> {
  let done = 0;
  let next = 0;
  const end = performance.now() + THROUGHPUT_MS;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        await run(keys[next++ % keys.length]!);
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

async function measureStore(store: SessionStore): Promise<StoreNumbers> {
  const expires = (): number => Date.now() + 600_000;
  const warm = ids(2000, 0);
  for (const id of warm) await store.set(NS, id, VALUE, expires());
  for (const id of warm) await store.take(NS, id);

  const keys = ids(SEQUENTIAL_OPS, 1);
  const set = await sequential((id) => store.set(NS, id, VALUE, expires()), keys);
  const get = await sequential((id) => store.get(NS, id), keys);
  const take = await sequential((id) => store.take(NS, id), keys);

  const many = ids(200_000, 2);
  const setOps = await throughput((id) => store.set(NS, id, VALUE, expires()), many);
  const getOps = await throughput((id) => store.get(NS, id), many);
  // take needs something to take: the sets above stored up to `many.length` ids.
  const takeOps = await throughput((id) => store.take(NS, id), many);
  await store.clear?.();
  return {
    set: { ...set, opsPerSec: setOps },
    get: { ...get, opsPerSec: getOps },
    take: { ...take, opsPerSec: takeOps },
  };
}

// --- resumed handshakes through `serve` ---------------------------------------------------------

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

async function startServe(
  store: string,
  version: '1.2' | '1.3',
): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    // Stateful: every session through the Redis store, which is what this measures.
    [
      CLI,
      'serve',
      '--mode',
      'stateful',
      '--port',
      '0',
      '--tls',
      version,
      '--store',
      store,
      '--session-id-context',
      'b',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const match = /listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (match !== null) resolve({ port: Number(match[1]), child });
    });
    child.once('exit', () => reject(new Error(`serve --store ${store} exited`)));
  });
}

async function stopServe(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * One connection offering `session`: resolves with whether it resumed and the newest session the
 * server sent (TLS 1.3 sends tickets after the handshake, so one request is made and read).
 */
function connectOnce(
  port: number,
  session: Buffer | undefined,
): Promise<{ reused: boolean; session: Buffer | undefined }> {
  return new Promise((resolve, reject) => {
    let latest: Buffer | undefined;
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
      ...(session === undefined ? {} : { session }),
    });
    let reused = false;
    socket.on('session', (s: Buffer) => (latest = s));
    socket.once('secureConnect', () => {
      // Asked now: once the connection is gone, Node no longer knows.
      reused = socket.isSessionReused();
      socket.end('GET / HTTP/1.0\r\n\r\n');
    });
    socket.on('data', () => undefined);
    socket.once('error', reject);
    socket.once('close', () => resolve({ reused, session: latest }));
  });
}

async function resumedPerSecond(
  store: string,
  version: '1.2' | '1.3',
): Promise<{ perSec: number; resumedFraction: number }> {
  const { port, child } = await startServe(store, version);
  try {
    const clients = 8;
    const sessions: (Buffer | undefined)[] = [];
    for (let i = 0; i < clients; i++) sessions.push((await connectOnce(port, undefined)).session);
    const durationMs = quick ? 1500 : 4000;
    const warmupEnd = performance.now() + 500;
    const end = warmupEnd + durationMs;
    let done = 0;
    let resumed = 0;
    await Promise.all(
      sessions.map(async (first) => {
        let session = first;
        while (performance.now() < end) {
          const result = await connectOnce(port, session);
          // TLS 1.2 resumes one session again and again; a TLS 1.3 ticket is single use.
          if (version === '1.3' || !result.reused) session = result.session ?? session;
          if (performance.now() >= warmupEnd) {
            done++;
            if (result.reused) resumed++;
          }
        }
      }),
    );
    return { perSec: resumed / (durationMs / 1000), resumedFraction: resumed / done };
  } finally {
    await stopServe(child);
  }
}

// --- main ---------------------------------------------------------------------------------------

const results: Record<string, unknown> = {};
const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function printStore(name: string, numbers: StoreNumbers): void {
  for (const op of ['set', 'get', 'take'] as const) {
    const n = numbers[op];
    console.log(
      `| ${name} | ${op} | ${fmt(n.medianUs)} µs | ${fmt(n.p99Us)} µs | ${fmt(n.opsPerSec)} |`,
    );
  }
}

const single = await startRedis();
const cluster = await startRedisCluster(3);
try {
  console.log(
    `RedisStore on loopback, ${VALUE.length}-byte values, ${CONCURRENCY} in flight for ops/s`,
  );
  console.log('| store | op | median (1 at a time) | p99 | ops/s (64 in flight) |');
  console.log('|---|---|---|---|---|');
  const memory = new MemoryStore();
  results.memory = await measureStore(memory);
  await memory.close();
  printStore('MemoryStore (reference)', results.memory as StoreNumbers);
  const redisStore = await RedisStore.create({ url: single.url });
  results.redis = await measureStore(redisStore);
  await redisStore.close();
  printStore('RedisStore, 1 server', results.redis as StoreNumbers);
  const clusterStore = await RedisStore.create({ url: cluster.url });
  results.cluster = await measureStore(clusterStore);
  await clusterStore.close();
  printStore('RedisStore, 3-master cluster', results.cluster as StoreNumbers);

  if (handshakes) {
    console.log(
      '\nResumed handshakes/s of `serve` (8 clients in this process), relative to memory',
    );
    console.log('| TLS | store | resumed/s | resumed fraction | × memory |');
    console.log('|---|---|---|---|---|');
    const rates: Record<string, unknown> = {};
    for (const version of ['1.2', '1.3'] as const) {
      const memoryRate = await resumedPerSecond('memory', version);
      for (const [name, url] of [
        ['memory', 'memory'],
        ['redis', single.url],
        ['redis-cluster', cluster.url],
      ] as const) {
        const rate = name === 'memory' ? memoryRate : await resumedPerSecond(url, version);
        rates[`${version}/${name}`] = { ...rate, relative: rate.perSec / memoryRate.perSec };
        console.log(
          `| ${version} | ${name} | ${fmt(rate.perSec)} | ${fmt(rate.resumedFraction, 3)} | ${fmt(rate.perSec / memoryRate.perSec, 2)} |`,
        );
      }
    }
    results.handshakes = rates;
  }
} finally {
  await cluster.stop();
  await single.stop();
}
if (jsonFile !== undefined) writeFileSync(jsonFile, JSON.stringify(results, null, 2));
