// Sessions shared across processes through Redis, for real: two `serve` processes (the built CLI)
// on one redis-server, and on a 3-master Redis Cluster. A session made on A with openssl s_client
// resumes on B, in TLS 1.2 and TLS 1.3; a TLS 1.3 session offered to A and B at the same moment
// resumes at most once (single use across processes, by GETDEL). Each test waits until both
// processes say (--log-events) that their store is ready, rather than assuming it is at `listening`
// (a loaded machine may take longer than startupTimeoutMs to connect: serve then starts degraded).
// A Redis refused at start does not stop serve (it serves full handshakes, says so in one line, and
// resumes once Redis is up); --require-store makes it exit instead.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  SHARED_STORE_LOOKUP_DEADLINE,
  cliProcesses,
  exitOf,
  type Serving,
} from '../helpers/cli-processes.js';
import { eventually } from '../helpers/eventually.js';
import { storeReady, unexpectedStderr } from '../helpers/serve-store.js';
import {
  freePort,
  skipWithoutRedis,
  startRedis,
  startRedisCluster,
  type RedisCluster,
  type RedisServer,
} from '../helpers/redis-server.js';

const NO_REDIS = skipWithoutRedis('the serve --store redis tests');

const cli = cliProcesses();
const { startServe, runCli } = cli;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-cli-redis-'));
});
afterEach(() => cli.stopAll());
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** `openssl s_client` with one HTTP request; its stdout. */
async function sClient(port: number, args: string[]): Promise<string> {
  return (await cli.sClient(port, args)).stdout;
}

const reused = (output: string): boolean => /^Reused, TLSv1\.[23]/m.test(output);
const isNew = (output: string): boolean => /^New, TLSv1\.[23]/m.test(output);

/** Waits until `count()` (keys in Redis) reaches `atLeast`: the store write follows the handshake. */
async function waitForKeys(count: () => Promise<number>, atLeast: number): Promise<void> {
  await eventually(async () => (await count()) >= atLeast, `Redis holding ${atLeast} sessions`);
}

/** The cross-process scenarios, run against one Redis and against a cluster. */
function crossProcessTests(
  name: string,
  setup: () => Promise<{
    url: string;
    keys(): Promise<number>;
    flush(): Promise<void>;
    stop(): Promise<void>;
  }>,
): void {
  describe.skipIf(NO_REDIS)(name, () => {
    let backend: Awaited<ReturnType<typeof setup>>;
    beforeAll(async () => {
      backend = await setup();
    });
    afterAll(async () => {
      await backend?.stop();
    });
    afterEach(async () => {
      await backend.flush();
    });

    const serveBoth = async (version: '1.2' | '1.3'): Promise<[Serving, Serving]> => {
      const args = [
        '--mode',
        'stateful',
        '--tls',
        version,
        '--store',
        backend.url,
        '--session-id-context',
        'same',
        '--log-events',
        ...SHARED_STORE_LOOKUP_DEADLINE,
      ];
      const both = await Promise.all([startServe(args), startServe(args)]);
      await Promise.all(both.map(storeReady));
      return both;
    };

    it.each([
      { version: '1.2', flag: '-tls1_2' },
      { version: '1.3', flag: '-tls1_3' },
    ] as const)('TLS $version: a session made on A resumes on B', async ({ version, flag }) => {
      const [a, b] = await serveBoth(version);
      const file = join(dir, `a-${version}.pem`);
      const first = await sClient(a.port, [flag, '-sess_out', file]);
      expect(isNew(first), first).toBe(true);
      await waitForKeys(backend.keys, 1);
      const second = await sClient(b.port, [flag, '-sess_in', file]);
      expect(reused(second), second).toBe(true);
      if (version === '1.2') {
        // A TLS 1.2 session resumes again, on either process.
        expect(reused(await sClient(a.port, [flag, '-sess_in', file]))).toBe(true);
        expect(reused(await sClient(b.port, [flag, '-sess_in', file]))).toBe(true);
      } else {
        // A TLS 1.3 ticket is single use: taken by B, it resumes nowhere again.
        expect(reused(await sClient(a.port, [flag, '-sess_in', file]))).toBe(false);
      }
      expect(unexpectedStderr(a.stderr())).toEqual([]);
      expect(unexpectedStderr(b.stderr())).toEqual([]);
    });

    it('TLS 1.3: one session offered to A and B at the same moment resumes at most once', async () => {
      const [a, b] = await serveBoth('1.3');
      let resumedRounds = 0;
      for (let round = 0; round < 6; round++) {
        const file = join(dir, `race-${round}.pem`);
        const before = await backend.keys();
        expect(isNew(await sClient(a.port, ['-tls1_3', '-sess_out', file]))).toBe(true);
        await waitForKeys(backend.keys, before + 1);
        const outputs = await Promise.all([
          sClient(a.port, ['-tls1_3', '-sess_in', file]),
          sClient(b.port, ['-tls1_3', '-sess_in', file]),
          sClient(a.port, ['-tls1_3', '-sess_in', file]),
          sClient(b.port, ['-tls1_3', '-sess_in', file]),
        ]);
        const count = outputs.filter(reused).length;
        expect(count, `round ${round}`).toBeLessThanOrEqual(1);
        resumedRounds += count;
      }
      // The race has a winner in (nearly) every round: it is not "never resumes".
      expect(resumedRounds).toBeGreaterThanOrEqual(4);
    });
  });
}

crossProcessTests('serve --store redis:// (two processes, one Redis)', async () => {
  const redis: RedisServer = await startRedis();
  return {
    url: redis.url,
    keys: async () => Number(await redis.cli('DBSIZE')),
    flush: async () => void (await redis.cli('FLUSHALL')),
    stop: () => redis.stop(),
  };
});

crossProcessTests('serve --store redis+cluster:// (two processes, 3-master cluster)', async () => {
  const cluster: RedisCluster = await startRedisCluster(3);
  return {
    url: cluster.url,
    keys: async () => {
      const sizes = await Promise.all(cluster.nodes.map((node) => node.cli('DBSIZE')));
      return sizes.reduce((sum, size) => sum + Number(size), 0);
    },
    flush: async () => {
      await Promise.all(cluster.nodes.map((node) => node.cli('FLUSHALL')));
    },
    stop: () => cluster.stop(),
  };
});

describe.skipIf(NO_REDIS)('serve --store redis: a Redis down at start', () => {
  it('serves full handshakes, says so in one line, and resumes once Redis is up', async () => {
    const port = await freePort();
    const url = `redis://:hunter2-pw@127.0.0.1:${port}`;
    const serving = await startServe(['--mode', 'stateful', '--tls', '1.3', '--store', url]);
    // Listening although Redis refuses: a handshake completes (full), and one line says why.
    const file = join(dir, 'down-at-start.pem');
    expect(isNew(await sClient(serving.port, ['-tls1_3', '-sess_out', file]))).toBe(true);
    expect(reused(await sClient(serving.port, ['-tls1_3', '-sess_in', file]))).toBe(false);
    const lines = (): string[] =>
      serving
        .stderr()
        .split('\n')
        .filter((line) => line !== '');
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatch(
      /^tls-session-cache: serve: store redis \(127\.0\.0\.1:\d+\) degraded: .*ECONNREFUSED/,
    );
    let redis: RedisServer;
    try {
      redis = await startRedis({ port, password: 'hunter2-pw' });
    } catch {
      return; // the port was taken meanwhile
    }
    try {
      // Ready again, and resuming again (the breaker probes after its cool-down); how soon is
      // noted, not asserted: it is another process's I/O (redis-startup.test.ts bounds it).
      const answered = performance.now();
      await eventually(() => lines().length >= 2, 'serve saying its store is ready again');
      const readyMs = performance.now() - answered;
      expect(lines()[1]).toMatch(/^tls-session-cache: serve: store redis .* ready again after/);
      await eventually(async () => {
        const made = join(dir, 'after.pem');
        await sClient(serving.port, ['-tls1_3', '-sess_out', made]);
        return reused(await sClient(serving.port, ['-tls1_3', '-sess_in', made]));
      }, 'a resumption after Redis came up');
      const firstResumeMs = performance.now() - answered;
      console.log(
        `serve, Redis refused at start: store ready ${Math.round(readyMs)} ms and first resumption ${Math.round(firstResumeMs)} ms after Redis answered`,
      );
      expect(serving.stderr()).not.toContain('hunter2');
    } finally {
      await redis.stop();
    }
  });
});

describe.skipIf(NO_REDIS)('serve --store redis: errors', () => {
  it('--require-store: a Redis that does not answer is one line on stderr and exit code 1', async () => {
    const port = await freePort();
    const result = await runCli([
      'serve',
      '--port',
      '0',
      '--mode',
      'stateful',
      '--require-store',
      '--store',
      `redis://:hunter2-pw@127.0.0.1:${port}`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.stderr).toMatch(/--store: .*127\.0\.0\.1:\d+.*ECONNREFUSED/);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('a wrong password is one line without the password', async () => {
    const redis = await startRedis({ password: 'right-pw-8d1e' });
    try {
      const result = await runCli([
        'serve',
        '--port',
        '0',
        '--mode',
        'stateful',
        '--store',
        `redis://:wrong-pw-51aa@127.0.0.1:${redis.port}`,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr.split('\n')).toHaveLength(2);
      expect(result.stderr).toMatch(/WRONGPASS|invalid username-password/);
      expect(result.stderr).not.toContain('wrong-pw');
      expect(result.stderr).not.toContain('right-pw');
    } finally {
      await redis.stop();
    }
  });
});

describe('RedisStore without ioredis installed', () => {
  it('names the optional dependency and the fix', async () => {
    // A resolve hook that hides ioredis, as on a machine where it was never installed.
    const hook = `data:text/javascript,${encodeURIComponent(`
      import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(\`
        export async function resolve(specifier, context, next) {
          if (specifier === 'ioredis') {
            const error = new Error('Cannot find package ioredis');
            error.code = 'ERR_MODULE_NOT_FOUND';
            throw error;
          }
          return next(specifier, context);
        }\`));
    `)}`;
    const store = fileURLToPath(new URL('../../dist/stores/redis-store.js', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--import',
        hook,
        '--input-type=module',
        '-e',
        `const { RedisStore } = await import(${JSON.stringify(store)});
         await RedisStore.create({ port: 1 }).then(() => console.log('opened?!'), (e) => console.log(e.message));`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    cli.track(child);
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    await exitOf(child);
    expect(stdout.trim()).toBe(
      'RedisStore needs the optional dependency ioredis: npm install ioredis',
    );
  });
});
