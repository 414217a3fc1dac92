/**
 * `npm run tickets:single-use-cost`: what TLS 1.3 single use adds to each resumption in tickets
 * mode — one `setIfAbsent` of the ticket's 32-byte head before Node sees the ClientHello — timed
 * per store (memory, SQLite file, Redis if redis-server is installed): mean and p99 wall time of
 * the call, which the connection waits for, and event-loop CPU per call.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../src/stores/memory-store.js';
import { RedisStore } from '../src/stores/redis-store.js';
import { SqliteStore } from '../src/stores/sqlite-store.js';
import type { SessionStore } from '../src/stores/store.js';
import { startRedis } from '../test/helpers/redis-server.js';

/** One line of the report on stdout. */
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const CALLS = 3000;
const dir = mkdtempSync(join(tmpdir(), 'single-use-'));
const redis =
  spawnSync('redis-server', ['--version']).status === 0 ? await startRedis() : undefined;
try {
  const stores: SessionStore[] = [
    new MemoryStore(),
    await SqliteStore.open({ path: join(dir, 'uses.db') }),
    ...(redis === undefined ? [] : [await RedisStore.create({ url: redis.url })]),
  ];
  say(`one first-use record (setIfAbsent of a 32-byte ticket head), ${CALLS} calls, one at a time`);
  for (const store of stores) {
    const heads = Array.from({ length: CALLS }, () => randomBytes(32));
    const times: number[] = [];
    const cpu = process.cpuUsage();
    for (const head of heads) {
      const start = process.hrtime.bigint();
      await store.setIfAbsent!('ticket-uses/', head, Uint8Array.of(1), Date.now() + 300_000);
      times.push(Number(process.hrtime.bigint() - start) / 1000);
    }
    const used = process.cpuUsage(cpu);
    times.sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    say(
      `${store.kind.padEnd(7)} mean ${mean.toFixed(1)} µs, p99 ${times[Math.floor(times.length * 0.99)]!.toFixed(1)} µs wall; ${((used.user + used.system) / CALLS).toFixed(1)} µs CPU of this process per call`,
    );
    await store.close();
  }
} finally {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
}
