// Real redis-server processes for the Redis tests: one per test file (or a 3-master cluster), on
// free loopback ports, with no persistence, stopped by their own handles. Never a fixed or shared
// port: several test files (and several checkouts) run at the same time on one machine.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, WAIT_MS } from './eventually.js';

const HOST = '127.0.0.1';

/** Whether `redis-server` and `redis-cli` can be started on this machine (checked once). */
export const redisAvailable: boolean = (() => {
  const server = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  const cli = spawnSync('redis-cli', ['--version'], { stdio: 'ignore' });
  return server.status === 0 && cli.status === 0;
})();

/**
 * Whether the Redis tests of a file must be skipped, for `describe.skipIf(...)`. With `CI=true` a
 * missing redis-server throws, which fails the test file (CI must run these tests: `.ci/run`
 * installs redis-server); elsewhere it returns true after a loud warning saying how to get it.
 * (No vitest import here, so that benchmarks can start servers with this module too.)
 */
export function skipWithoutRedis(what: string): boolean {
  if (redisAvailable) return false;
  const reason = 'redis-server/redis-cli not found on PATH (apt-get install -y redis-server)';
  if (process.env.CI === 'true') throw new Error(`CI=true but ${reason}: ${what} cannot run`);
  console.warn(`\n*** SKIPPING ${what}: ${reason} ***\n`);
  return true;
}

/** A running redis-server started by {@link startRedis}. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:PORT` (no credentials). */
  readonly url: string;
  readonly process: ChildProcess;
  /** SIGSTOP: the server keeps its socket open and answers nothing (a "paused" Redis). */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  /** Stops the server (SIGTERM, SIGKILL after 5 s) and removes its directory; idempotent. */
  stop(): Promise<void>;
  /**
   * Kills the server (SIGKILL, as a crash or a lost host) and keeps its directory, so that
   * {@link restart} brings the same node back (a cluster node keeps its `nodes.conf`).
   */
  kill(): Promise<void>;
  /**
   * Starts the server again on the same port, with the same arguments and directory, once it was
   * killed; resolves with the new handle (which then owns the directory) once it answers PING.
   */
  restart(): Promise<RedisServer>;
  /** Runs `redis-cli` against this server and returns its trimmed stdout. */
  cli(...args: string[]): Promise<string>;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** `--requirepass`: the default user needs this password. */
  password?: string;
  /** More `redis-server` arguments, e.g. `['--cluster-enabled', 'yes']`. */
  args?: string[];
  /**
   * This port rather than a free one (to restart a stopped server where its clients look for
   * it); fails if it is taken meanwhile.
   */
  port?: number;
  /**
   * Serve TLS only (`--port 0 --tls-port PORT`), with these PEM files. With `clientCert` the
   * server requires a client certificate (`--tls-auth-clients yes`), else it asks for none.
   */
  tls?: {
    certFile: string;
    keyFile: string;
    caFile: string;
    clientCertFile?: string;
    clientKeyFile?: string;
  };
}

/** Every server this worker started and has not stopped yet, killed if the worker exits early. */
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

/**
 * A free loopback port: bind port 0, read the port, close. Another process may take it before
 * redis-server binds it, which {@link startRedis} detects (the server exits) and retries.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Starts a redis-server on a free loopback port; resolves once it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  if (options.port !== undefined) return startOn(options.port, options);
  let lastError: unknown;
  for (let attempt = 0; attempt < 8; attempt++) {
    const port = await freePort();
    try {
      return await startOn(port, options);
    } catch (error) {
      lastError = error;
      if (!(error instanceof PortTakenError)) throw error;
    }
  }
  throw new Error(`could not start redis-server on a free port: ${String(lastError)}`);
}

class PortTakenError extends Error {}

async function startOn(
  port: number,
  options: StartRedisOptions,
  reuseDir?: string,
): Promise<RedisServer> {
  const dir = reuseDir ?? mkdtempSync(join(tmpdir(), 'tsc-redis-'));
  /** Whether this handle still owns the directory (a restart hands it over). */
  let ownsDir = true;
  const tlsArgs =
    options.tls === undefined
      ? ['--port', String(port)]
      : [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          options.tls.certFile,
          '--tls-key-file',
          options.tls.keyFile,
          '--tls-ca-cert-file',
          options.tls.caFile,
          '--tls-auth-clients',
          options.tls.clientCertFile === undefined ? 'no' : 'yes',
        ];
  const args = [
    ...tlsArgs,
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(options.password === undefined ? [] : ['--requirepass', options.password]),
    ...(options.args ?? []),
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  exited.then(
    () => running.delete(child),
    () => undefined,
  );

  let stopped = false;
  const server: RedisServer = {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    process: child,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async stop() {
      if (!stopped) {
        stopped = true;
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGCONT'); // a paused server cannot handle SIGTERM
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        if (ownsDir) rmSync(dir, { recursive: true, force: true });
      }
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    async restart() {
      await server.kill();
      ownsDir = false;
      stopped = true;
      return startOn(port, options, dir);
    },
    cli: (...cliArgs) =>
      redisCli(port, [
        ...(options.password === undefined ? [] : ['--no-auth-warning', '-a', options.password]),
        ...(options.tls === undefined
          ? []
          : [
              '--tls',
              '--cacert',
              options.tls.caFile,
              ...(options.tls.clientCertFile === undefined
                ? []
                : ['--cert', options.tls.clientCertFile, '--key', options.tls.clientKeyFile ?? '']),
            ]),
        ...cliArgs,
      ]),
  };

  let answered = false;
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) return true;
        answered = await answersPing(port, options.tls);
        return answered;
      },
      `redis-server on port ${port} answering PING`,
      { everyMs: 20 },
    );
  } catch (error) {
    await server.stop();
    throw new Error(`${(error as Error).message}: ${output}`);
  }
  if (answered) return server;
  await server.stop();
  if (/already in use|Could not create server TCP/i.test(output)) throw new PortTakenError(output);
  throw new Error(`redis-server exited at start: ${output.trim()}`);
}

/**
 * Whether something speaking RESP answers PING on the port: `+PONG`, or `-NOAUTH` from a server
 * that wants a password (it is up all the same).
 */
function answersPing(port: number, secure?: StartRedisOptions['tls']): Promise<boolean> {
  return new Promise((resolve) => {
    const socket =
      secure === undefined
        ? net.connect(port, HOST)
        : tls.connect({
            port,
            host: HOST,
            ca: readFileSync(secure.caFile),
            ...(secure.clientCertFile === undefined
              ? {}
              : {
                  cert: readFileSync(secure.clientCertFile),
                  key: readFileSync(secure.clientKeyFile ?? ''),
                }),
          });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once(secure === undefined ? 'connect' : 'secureConnect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}

/** Runs `redis-cli -h 127.0.0.1 -p PORT ARGS…`; resolves with trimmed stdout. */
export function redisCli(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      ['-h', HOST, '-p', String(port), ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        // redis-cli exits 0 after an error reply; its output then starts with the error code.
        if (error || /^(ERR|WRONGTYPE|NOPERM|NOAUTH|WRONGPASS)\b/.test(stdout)) {
          reject(
            new Error(`redis-cli ${args[0] ?? ''} failed: ${stderr || stdout || error?.message}`),
          );
        } else resolve(stdout.trim());
      },
    );
  });
}

/** A running Redis Cluster of masters started by {@link startRedisCluster}. */
export interface RedisCluster {
  /** The nodes now (a {@link restart} replaces the handles). */
  readonly nodes: readonly RedisServer[];
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,…` */
  readonly url: string;
  /** Stops every node; idempotent. */
  stop(): Promise<void>;
  /** Kills every node (SIGKILL), keeping their directories: the cluster is down, ports refused. */
  kill(): Promise<void>;
  /**
   * Restarts every killed node on its port and waits until the cluster is `ok` again.
   * @returns when (`performance.now()`) the cluster was `ok` again: serving every slot
   */
  restart(): Promise<number>;
}

/**
 * Starts `masters` redis-server instances with cluster mode on, joins them with
 * `redis-cli --cluster create … --cluster-replicas 0`, and waits until every node reports
 * `cluster_state:ok`.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      // The cluster config file lives in the node's own --dir (a relative name resolves there).
      nodes.push(
        await startRedis({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '5000',
          ],
        }),
      );
    }
    const addresses = nodes.map((node) => `${node.host}:${node.port}`);
    const first = nodes[0];
    if (first === undefined) throw new Error('a cluster needs at least one node');
    await first.cli(
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    );
    await clusterOk(nodes);
    return {
      nodes,
      url: `redis+cluster://${addresses.join(',')}`,
      stop,
      kill: async () => {
        await Promise.all(nodes.map((node) => node.kill()));
      },
      restart: async () => {
        const restarted = await Promise.all(nodes.map((node) => node.restart()));
        nodes.splice(0, nodes.length, ...restarted);
        await clusterOk(nodes);
        return performance.now();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits until every node reports `cluster_state:ok` with every slot served. */
async function clusterOk(nodes: readonly RedisServer[]): Promise<void> {
  let infos: string[] = [];
  await eventually(
    async () => {
      infos = await Promise.all(nodes.map((node) => node.cli('cluster', 'info')));
      return infos.every(
        (info) => /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info),
      );
    },
    'every cluster node ok',
    { everyMs: 50 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${infos.join('\n')}`);
  });
}

/** A TCP server that accepts connections and never reads or answers: a blackholed Redis. */
export interface Blackhole {
  /** How many connections it accepted. */
  accepted(): number;
  /** Closes it and every connection it holds. */
  close(): Promise<void>;
}

/** Listens on `port` (loopback) as a {@link Blackhole}. */
export async function blackhole(port: number): Promise<Blackhole> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve());
  });
  return {
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * RedisStore options for a test that needs the store connected before its first command: failing
 * open, `create` waits until Redis answers (ioredis retrying a slow first attempt), up to a hang's
 * length. Not `requireStore`: that gives up at the first failed attempt — on a loaded machine, a
 * connection's ready check slower than commandTimeoutMs, well within startupTimeoutMs.
 */
export const CONNECTED = { startupTimeoutMs: WAIT_MS } as const;

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
