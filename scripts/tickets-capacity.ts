/**
 * `npm run tickets:capacity`: server CPU per resumed handshake in tickets mode against Node's
 * default tickets and against stateful mode (issue 14 item 6), until `npm run bench` has the
 * `attach-tickets` cases. Each configuration runs in its own server process (its CPU time measured
 * there, so the client's work never counts); clients resume again and again with their newest
 * session, half TLS 1.2 and half TLS 1.3; rounds are interleaved so that a busy neighbour on a
 * shared machine slows every configuration alike; the median round is reported.
 * `--handshakes N` (per round and configuration) `--rounds N`. Redis cases need redis-server.
 *
 * @module
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateSelfSigned } from '../src/cli/self-signed.js';
import { startRedis, type RedisServer } from '../test/helpers/redis-server.js';
import type { CapacityConfig } from './lib/capacity-server.js';
import { connect } from '../test/helpers/tls-server.js';

/** One line of the report on stdout. */
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const { values } = parseArgs({
  options: {
    handshakes: { type: 'string', default: '600' },
    rounds: { type: 'string', default: '3' },
  },
});
const handshakes = Number(values.handshakes);
const rounds = Number(values.rounds);
const SERVER = fileURLToPath(new URL('./lib/capacity-server.ts', import.meta.url));
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const configs: CapacityConfig[] = [
  'node-default-tickets',
  'tickets-callback-only',
  'attach-tickets',
  'attach-tickets-no-single-use',
  'attach-tickets-sqlite',
  ...(hasRedis ? (['attach-tickets-redis'] as const) : []),
  'stateful',
];

const dir = mkdtempSync(join(tmpdir(), 'capacity-'));
const pair = await generateSelfSigned();
let redis: RedisServer | undefined;
if (hasRedis) redis = await startRedis();
const children = new Map<CapacityConfig, { child: ChildProcess; port: number }>();
try {
  for (const config of configs) {
    const child = fork(SERVER, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    const port = await new Promise<number>((resolve) => {
      child.on('message', (m: { type: string; port?: number }) => {
        if (m.type === 'ready') resolve(m.port!);
      });
      child.send({
        type: 'start',
        config,
        key: pair.key.toString(),
        cert: pair.cert,
        path: join(dir, `${config}.db`),
        ...(redis === undefined ? {} : { redisUrl: redis.url }),
      });
    });
    children.set(config, { child, port });
  }
  const perHandshake = new Map<CapacityConfig, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const config of configs) {
      const { child, port } = children.get(config)!;
      await mark(child);
      const resumed = await load(port, handshakes);
      const us = await mark(child);
      (perHandshake.get(config) ?? perHandshake.set(config, []).get(config)!).push(us / handshakes);
      if (resumed < handshakes * 0.95) say(`${config}: only ${resumed} of ${handshakes} resumed`);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const base = median(perHandshake.get('node-default-tickets')!);
  say(
    `server CPU per resumed handshake (median of ${rounds} rounds of ${handshakes}; half TLS 1.2, half TLS 1.3)`,
  );
  for (const config of configs) {
    const us = median(perHandshake.get(config)!);
    say(
      `${config.padEnd(30)} ${us.toFixed(0).padStart(5)} µs   capacity ${(base / us).toFixed(3)}× Node's default tickets`,
    );
  }
} finally {
  for (const { child } of children.values()) child.kill();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
}

function mark(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: { type: string; us?: number }): void => {
      if (m.type !== 'cpu') return;
      child.off('message', on);
      resolve(m.us!);
    };
    child.on('message', on);
    child.send({ type: 'mark' });
  });
}

/** `count` handshakes from 8 clients, each resuming its newest session; how many resumed. */
async function load(port: number, count: number): Promise<number> {
  let started = 0;
  let resumed = 0;
  const client = async (index: number): Promise<void> => {
    const version = index % 2 === 0 ? 'TLSv1.2' : 'TLSv1.3';
    // A first full handshake, not counted, gives each client a session to resume.
    let session = (await handshake(port, version, undefined)).session;
    while (started < count) {
      started++;
      const result = await handshake(port, version, session);
      if (result.reused) resumed++;
      session = result.session ?? session;
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, i) => client(i)));
  return resumed;
}

async function handshake(
  port: number,
  version: 'TLSv1.2' | 'TLSv1.3',
  session: Buffer | undefined,
): Promise<{ reused: boolean; session?: Buffer }> {
  const result = await connect(port, {
    minVersion: version,
    maxVersion: version,
    ...(session === undefined ? {} : { session }),
  });
  const newest = result.sessions.at(-1) ?? result.final;
  return { reused: result.reused, ...(newest === undefined ? {} : { session: newest }) };
}
