// Proves that the server examples the docs show (examples/**, whose regions test/docs/code-blocks
// checks against the docs) work as written: each runs as its own Node process — through tsx, with
// `tls-session-cache` resolved as users resolve it (the package's own exports, i.e. the build) —
// in a directory holding key.pem, cert.pem (a CA-signed certificate for localhost) and
// session-keys; a real Node TLS client connects, takes the session it is given and reconnects
// with it, which must resume, over TLS 1.2 and TLS 1.3; SIGTERM must then stop the process through
// the shutdown code the example shows (exit 0). The cluster example must resume on a worker other
// than the one that made the session; the SQLite quick start must resume after a restart; the
// Redis example resumes through a real redis-server; docs/install.md's import and require load the
// package.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeSession } from '../../src/session/decode.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { skipWithoutRedis, startRedis } from '../helpers/redis-server.js';
import { exitOf, stop, type Exit } from '../helpers/cli-processes.js';
import { ROOT } from './doc-blocks.js';

type Version = 'TLSv1.2' | 'TLSv1.3';
const VERSIONS: Version[] = ['TLSv1.2', 'TLSv1.3'];
/** tsx's loader (the package's main export, what `node --import tsx` loads), as a file URL. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const HTTP_GET = 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

let pki: TestPki;
let dir: string;
const running = new Set<ChildProcess>();

beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.cleanup());
afterEach(async () => {
  await Promise.all([...running].map((child) => stop(child)));
  running.clear();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh working directory with the files the examples read. */
function workDir(): string {
  dir = mkdtempSync(join(tmpdir(), 'tsc-examples-'));
  writeFileSync(join(dir, 'key.pem'), pki.serverKey);
  writeFileSync(join(dir, 'cert.pem'), pki.serverCert);
  writeFileSync(join(dir, 'session-keys'), `2026-12:${randomBytes(32).toString('base64')}\n`, {
    mode: 0o600,
  });
  return dir;
}

interface Running {
  child: ChildProcess;
  port: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
}

/** Starts `examples/<file>` with PORT=0 (and `env`); resolves once `listeners` servers printed their port. */
function start(file: string, listeners = 1, env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'examples', file)], {
    cwd: dir,
    env: { ...process.env, ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = exitOf(child);
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    void exited.then((exit) =>
      reject(new Error(`${file} exited (${JSON.stringify(exit)}) before listening: ${stderr}`)),
    );
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const ports = [...stdout.matchAll(/^listening on (\d+)$/gm)].map((m) => Number(m[1]));
      if (ports.length < listeners) return;
      resolve({ child, port: ports[0] ?? 0, stdout: () => stdout, stderr: () => stderr, exited });
    });
  });
}

interface Handshake {
  reused: boolean;
  protocol: string | null;
  /** The newest session the client was given (for TLS 1.3, the last ticket). */
  session: Buffer | undefined;
  data: string;
}

/**
 * One connection: with `request`, sends it and reads until the server closes; without, waits for
 * the first session (the TLS 1.3 ticket) and closes.
 */
function handshake(
  port: number,
  version: Version,
  options: { session?: Buffer | undefined; request?: string; alpn?: string[] } = {},
): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined;
    let data = '';
    let reused = false;
    let protocol: string | null = null;
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: pki.caCert,
      minVersion: version,
      maxVersion: version,
      ...(options.session === undefined ? {} : { session: options.session }),
      ...(options.alpn === undefined ? {} : { ALPNProtocols: options.alpn }),
    });
    socket.on('secureConnect', () => {
      reused = socket.isSessionReused();
      protocol = socket.getProtocol();
      if (options.request !== undefined) socket.write(options.request);
      else if (reused || version === 'TLSv1.2') socket.end();
    });
    socket.on('session', (s: Buffer) => {
      session = s;
      if (options.request === undefined) socket.end();
    });
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ reused, protocol, session, data }));
  });
}

/** A full handshake, then one that offers its session: the second must resume. */
async function expectResumes(
  port: number,
  options: { request?: string; alpn?: string[]; reply?: RegExp } = {},
): Promise<void> {
  for (const version of VERSIONS) {
    const first = await handshake(port, version, options);
    expect(first.protocol).toBe(version);
    expect(first.reused).toBe(false);
    expect(first.session).toBeDefined();
    const second = await handshake(port, version, { ...options, session: first.session });
    expect(second.reused, `${version} resumed`).toBe(true);
    if (options.reply !== undefined) expect(second.data).toMatch(options.reply);
  }
}

/** SIGTERM, then the example's own shutdown must end the process with exit code 0. */
async function expectCleanStop(server: Running): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exited, server.stderr()).toEqual({ code: 0, signal: null });
}

describe('server examples (README and docs)', () => {
  it('quick-start.ts: HTTPS with an encrypted SQLite store resumes, also after a restart', async () => {
    workDir();
    const server = await start('server/quick-start.ts');
    await expectResumes(server.port, { request: HTTP_GET, reply: /^HTTP\/1\.1 200[\s\S]*hello/ });
    const kept = await handshake(server.port, 'TLSv1.2', { request: HTTP_GET });
    await expectCleanStop(server);
    // Encrypted at rest: the session's id (a key, in clear) is in the SQLite file or its WAL, its
    // master secret is not.
    const decoded = decodeSession(kept.session ?? Buffer.alloc(0));
    const disk = Buffer.concat(
      ['sessions.db', 'sessions.db-wal']
        .filter((name) => existsSync(join(dir, name)))
        .map((name) => readFileSync(join(dir, name))),
    );
    expect(disk.includes(decoded.sessionId)).toBe(true);
    expect(disk.includes(decoded.masterSecret())).toBe(false);

    const restarted = await start('server/quick-start.ts');
    const again = await handshake(restarted.port, 'TLSv1.2', {
      request: HTTP_GET,
      session: kept.session,
    });
    expect(again.reused, 'a session from before the restart resumes').toBe(true);
    await expectCleanStop(restarted);
  });

  it('express.ts: Express behind node:https resumes', async () => {
    workDir();
    const server = await start('server/express.ts');
    await expectResumes(server.port, { request: HTTP_GET, reply: /^HTTP\/1\.1 200[\s\S]*hello/ });
    await expectCleanStop(server);
  });

  it('fastify.ts: Fastify with https resumes', async () => {
    workDir();
    const server = await start('server/fastify.ts');
    await expectResumes(server.port, { request: HTTP_GET, reply: /^HTTP\/1\.1 200[\s\S]*hello/ });
    await expectCleanStop(server);
  });

  it('http2.ts: http2.createSecureServer resumes over h2 and HTTP/1.1', async () => {
    workDir();
    const server = await start('server/http2.ts');
    await expectResumes(server.port, { alpn: ['h2'] });
    await expectResumes(server.port, { request: HTTP_GET, reply: /^HTTP\/1\.1 200[\s\S]*hello/ });
    await expectCleanStop(server);
  });

  it('tls.ts: tls.createServer resumes', async () => {
    workDir();
    const server = await start('server/tls.ts');
    await expectResumes(server.port, { request: '', reply: /^hello\n$/ });
    await expectCleanStop(server);
  });

  it('cluster.ts: a session made by one worker resumes on the others', async () => {
    workDir();
    const workers = os.availableParallelism();
    const server = await start('server/cluster.ts', workers);
    for (const version of VERSIONS) {
      let session = (await handshake(server.port, version, { request: HTTP_GET })).session;
      const pids = new Set<string>();
      for (let i = 0; i < 2 * workers + 2; i++) {
        const next = await handshake(server.port, version, { request: HTTP_GET, session });
        expect(next.reused, `${version} connection ${i} resumed`).toBe(true);
        pids.add(/hello from (\d+)/.exec(next.data)?.[1] ?? '?');
        session = next.session ?? session;
      }
      expect(pids.size).toBe(Math.min(workers, 2 * workers + 2));
    }
    await expectCleanStop(server);
  });

  it('events.ts: events reach a stream as JSON lines and a logger without the newline', async () => {
    workDir();
    const server = await start('server/events.ts');
    await expectResumes(server.port, { request: '' });
    await expectCleanStop(server);
    const streamed = server.stderr().split('\n');
    expect(streamed.at(-1)).toBe('');
    const events = streamed.slice(0, -1).map((line) => JSON.parse(line) as { event: string });
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['new', 'resume']));
    const logged = server
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('INFO '));
    expect(logged.length).toBe(events.length);
    for (const line of logged) expect(() => JSON.parse(line.slice(5)) as unknown).not.toThrow();
    expect(server.stdout()).not.toMatch(/\n\n/);
  });
});

describe('low-level examples (docs/cache-semantics.md, docs/stores.md, docs/security.md)', () => {
  it('attach.ts: SessionCache + attach resume; the stats printed at shutdown count the hits', async () => {
    workDir();
    const server = await start('low-level/attach.ts');
    await expectResumes(server.port, { request: HTTP_GET });
    await expectCleanStop(server);
    const stats = JSON.parse(
      server
        .stdout()
        .split('\n')
        .find((l) => l.startsWith('{')) ?? '{}',
    ) as {
      hits?: number;
    };
    expect(stats.hits).toBe(2);
  });

  it('sqlite-store.ts: a store plugged in by hand resumes; adapter stats show store reads', async () => {
    workDir();
    const server = await start('low-level/sqlite-store.ts');
    await expectResumes(server.port, { request: HTTP_GET });
    await expectCleanStop(server);
    const stats = JSON.parse(
      server
        .stdout()
        .split('\n')
        .find((l) => l.startsWith('{')) ?? '{}',
    ) as {
      writes?: number;
      found?: number;
      decodeErrors?: number;
    };
    expect(stats.writes).toBeGreaterThanOrEqual(3);
    expect(stats.found).toBeGreaterThanOrEqual(1); // the TLS 1.3 ticket, taken from the store
    expect(stats.decodeErrors).toBe(0);
  });

  it('metrics.ts: GET /metrics shows the resumed handshakes and store latency', async () => {
    workDir();
    const server = await start('server/metrics.ts');
    await expectResumes(server.port, { request: HTTP_GET });
    const scrape = await handshake(server.port, 'TLSv1.3', {
      request: 'GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    });
    expect(scrape.data).toMatch(
      /^tls_session_cache_resumed_handshakes_total\{protocol="TLSv1\.2"\} 1$/m,
    );
    expect(scrape.data).toMatch(
      /^tls_session_cache_resumed_handshakes_total\{protocol="TLSv1\.3"\} 1$/m,
    );
    expect(scrape.data).toMatch(
      /^tls_session_cache_store_operation_duration_seconds_count\{operation="take"\} [1-9]/m,
    );
    expect(scrape.data).toMatch(/^process_cpu_user_seconds_total /m);
    await expectCleanStop(server);
  });

  it('keyring.ts: every way of giving keys is accepted; the key file turns encryption on', async () => {
    workDir();
    const child = spawn(
      process.execPath,
      ['--import', TSX, join(ROOT, 'examples/low-level/keyring.ts')],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    running.add(child);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    expect(await exitOf(child)).toEqual({ code: 0, signal: null });
    expect(out).toBe('encrypted\n');
  });
});

describe.skipIf(skipWithoutRedis('the docs/redis.md example'))(
  'Redis example (docs/redis.md)',
  () => {
    it('stores/redis.ts: a RedisStore plugged in by hand resumes through a real redis-server', async () => {
      workDir();
      const redis = await startRedis();
      try {
        const server = await start('stores/redis.ts', 1, { SESSION_REDIS_URL: redis.url });
        await expectResumes(server.port, { request: HTTP_GET });
        await expectCleanStop(server);
        const stats = JSON.parse(
          server
            .stdout()
            .split('\n')
            .find((l) => l.startsWith('{')) ?? '{}',
        ) as { writes?: number; found?: number; decodeErrors?: number };
        expect(stats.found).toBeGreaterThanOrEqual(1); // read back from Redis, not from memory
        expect(stats.decodeErrors).toBe(0);
        // The TLS 1.2 sessions are still in Redis (the TLS 1.3 tickets were taken once).
        expect(Number(await redis.cli('DBSIZE'))).toBeGreaterThan(0);
      } finally {
        await redis.stop();
      }
    });
  },
);

describe('install examples (docs/install.md)', () => {
  it.each(['install/import.mjs', 'install/require.cjs'])(
    '%s loads the package and prints the types of what it imported',
    async (file) => {
      const child = spawn(process.execPath, [join(ROOT, 'examples', file)], {
        cwd: workDir(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      // 'close', not 'exit': all of stdout has been read by then.
      const exit = await new Promise<Exit>((resolve) =>
        child.once('close', (code, signal) => resolve({ code, signal })),
      );
      expect(exit, stderr).toEqual({ code: 0, signal: null });
      expect(stdout).toBe('function function\n');
    },
  );
});
