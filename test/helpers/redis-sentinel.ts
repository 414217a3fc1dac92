// A real Redis Sentinel deployment on loopback for the tests: a primary, a replica and three
// sentinels (`redis-server --sentinel`, what the `redis-sentinel` command runs), on free ports, with
// the failure detection made small so that a failover takes seconds. Stopped by their own handles.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { freePort, redisCli, startRedis, type RedisServer } from './redis-server.js';

const HOST = '127.0.0.1';

/** Sentinels this worker started and has not stopped, killed if the worker exits early. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Options of {@link startSentinelGroup}. */
export interface SentinelGroupOptions {
  /** The name the sentinels monitor the primary under. @default 'sessions' */
  masterName?: string;
  /**
   * `sentinel down-after-milliseconds`: how long the primary must not answer before a sentinel
   * thinks it down (SDOWN); with the quorum (2 of 3) agreeing it is ODOWN and a failover starts.
   * @default 1000
   */
  downAfterMs?: number;
  /**
   * `sentinel failover-timeout`: bounds each step of a failover; a failed attempt (e.g. a lost
   * leader election) is retried by another sentinel after twice this.
   * @default 3000
   */
  failoverTimeoutMs?: number;
}

/** A running primary + replica + three sentinels. */
export interface SentinelGroup {
  /** The name the sentinels monitor the primary under. */
  readonly masterName: string;
  /** `redis+sentinel://127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/NAME` */
  readonly url: string;
  /** The data nodes: [the first primary, its replica]. */
  readonly nodes: readonly RedisServer[];
  /** The sentinels' ports. */
  readonly sentinelPorts: readonly number[];
  /** The primary's port, as the first sentinel that answers tells it. */
  masterPort(): Promise<number>;
  /**
   * Waits until every sentinel names the same primary and that node says it is one; its port.
   * After a failover the sentinels learn the new primary one after the other (seconds apart on a
   * loaded machine), so a single sentinel's answer may still name the old one.
   */
  agreedMasterPort(): Promise<number>;
  /** The data node that is the primary now. */
  primary(): Promise<RedisServer>;
  /**
   * Waits until the sentinels name a primary other than `oldPort` and that node says it is one;
   * resolves with its port. (How long it took is the caller's to note, not to bound:
   * sentinels on a loaded machine elect later than their settings suggest.)
   */
  waitForPromotion(oldPort: number): Promise<number>;
  /**
   * Waits until every replica has acknowledged everything the primary has written so far (its
   * `master_repl_offset`).
   */
  waitForReplication(): Promise<void>;
  /** Runs `redis-cli` against the first sentinel that answers; its trimmed stdout. */
  sentinelCli(...args: string[]): Promise<string>;
  /** Stops everything; idempotent. */
  stop(): Promise<void>;
}

/** Starts a primary, a replica of it, and three sentinels; resolves once they all know each other. */
export async function startSentinelGroup(
  options: SentinelGroupOptions = {},
): Promise<SentinelGroup> {
  const masterName = options.masterName ?? 'sessions';
  const downAfterMs = options.downAfterMs ?? 1000;
  const failoverTimeoutMs = options.failoverTimeoutMs ?? 3000;
  const nodes: RedisServer[] = [];
  const sentinels: { child: ChildProcess; port: number; dir: string }[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      sentinels.splice(0).map(async ({ child, dir }) => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      }),
    );
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    const primary = await startRedis();
    nodes.push(primary);
    nodes.push(await startRedis({ args: ['--replicaof', HOST, String(primary.port)] }));
    for (let i = 0; i < 3; i++) {
      sentinels.push(await startSentinel(masterName, primary.port, downAfterMs, failoverTimeoutMs));
    }
    const ports = sentinels.map((sentinel) => sentinel.port);
    // Ready when every sentinel sees the replica and the two other sentinels (they find each
    // other through the primary's hello channel, every 2 s).
    let views: string[] = [];
    await eventually(
      async () => {
        views = await Promise.all(
          ports.map((port) => redisCli(port, ['SENTINEL', 'MASTER', masterName]).catch(() => '')),
        );
        return views.every(
          (view) =>
            /(^|\n)num-slaves\n1(\n|$)/.test(view) &&
            /(^|\n)num-other-sentinels\n2(\n|$)/.test(view),
        );
      },
      'every sentinel seeing the replica and the others',
      { everyMs: 50 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${views.join('\n---\n')}`);
    });
    const masterPort = async (): Promise<number> => {
      for (const port of ports) {
        const reply = await redisCli(port, [
          'SENTINEL',
          'GET-MASTER-ADDR-BY-NAME',
          masterName,
        ]).catch(() => '');
        const found = /\n(\d+)$/.exec(reply);
        if (found !== null) return Number(found[1]);
      }
      throw new Error('no sentinel names a primary');
    };
    const agreedMasterPort = async (): Promise<number> => {
      let agreed = 0;
      await eventually(
        async () => {
          const answers = await Promise.all(
            ports.map((port) =>
              redisCli(port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName]).catch(() => ''),
            ),
          );
          const named = new Set(answers.map((reply) => /\n(\d+)$/.exec(reply)?.[1]));
          if (named.size !== 1) return false;
          const [port] = [...named];
          if (port === undefined) return false;
          const role = await redisCli(Number(port), ['ROLE']).catch(() => '');
          agreed = Number(port);
          return role.startsWith('master');
        },
        'every sentinel naming one primary that says it is one',
        { everyMs: 50 },
      );
      return agreed;
    };
    return {
      masterName,
      url: `redis+sentinel://${ports.map((port) => `${HOST}:${port}`).join(',')}/${masterName}`,
      nodes,
      sentinelPorts: ports,
      masterPort,
      agreedMasterPort,
      primary: async () => {
        const port = await agreedMasterPort();
        const node = nodes.find((candidate) => candidate.port === port);
        if (node === undefined) throw new Error(`the primary on port ${port} is not ours`);
        return node;
      },
      waitForPromotion: async (oldPort) => {
        let promoted = oldPort;
        await eventually(
          async () => {
            const port = await masterPort().catch(() => oldPort);
            if (port === oldPort) return false;
            const role = await redisCli(port, ['ROLE']).catch(() => '');
            promoted = port;
            return role.startsWith('master');
          },
          'a replica promoted',
          { everyMs: 20 },
        );
        return promoted;
      },
      waitForReplication: async () => {
        const master = await agreedMasterPort();
        const info = await redisCli(master, ['INFO', 'replication']);
        const target = Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? NaN);
        await eventually(
          async () => {
            const now = await redisCli(master, ['INFO', 'replication']);
            const acked = [...now.matchAll(/^slave\d+:.*offset=(\d+)/gm)].map((m) => Number(m[1]));
            return acked.length > 0 && acked.every((offset) => offset >= target);
          },
          'every replica acknowledging the primary',
          { everyMs: 20 },
        );
      },
      sentinelCli: async (...args) => {
        let lastError: unknown;
        for (const port of ports) {
          try {
            return await redisCli(port, args);
          } catch (error) {
            lastError = error;
          }
        }
        throw lastError;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** One sentinel (`redis-server CONFIG --sentinel`) on a free port; resolves once it answers PING. */
async function startSentinel(
  masterName: string,
  masterPort: number,
  downAfterMs: number,
  failoverTimeoutMs: number,
): Promise<{ child: ChildProcess; port: number; dir: string }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'tsc-sentinel-'));
    // The sentinel rewrites its config file as it learns the deployment: it must be its own.
    const config = join(dir, 'sentinel.conf');
    writeFileSync(
      config,
      [
        `port ${port}`,
        `bind ${HOST}`,
        `dir ${dir}`,
        'daemonize no',
        'loglevel warning',
        `sentinel monitor ${masterName} ${HOST} ${masterPort} 2`,
        `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
        `sentinel failover-timeout ${masterName} ${failoverTimeoutMs}`,
        `sentinel parallel-syncs ${masterName} 1`,
        '',
      ].join('\n'),
    );
    const child = spawn('redis-server', [config, '--sentinel'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let answered = false;
    try {
      await eventually(
        async () => {
          if (child.exitCode !== null || child.signalCode !== null) return true;
          answered = (await redisCli(port, ['PING']).catch(() => '')) === 'PONG';
          return answered;
        },
        `sentinel on port ${port} answering PING`,
        { everyMs: 20 },
      );
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}: ${output}`);
    }
    if (answered) return { child, port, dir };
    rmSync(dir, { recursive: true, force: true });
    if (attempt >= 7 || !/already in use|Could not create server TCP/i.test(output)) {
      throw new Error(`redis-server --sentinel exited at start: ${output.trim()}`);
    }
  }
}
