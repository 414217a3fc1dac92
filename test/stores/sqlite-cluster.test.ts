// A Node `cluster` of 2 workers with stateful resumption (SSL_OP_NO_TICKET) and one SqliteStore:
// reconnects resume whichever worker takes them. With Node's default stateless tickets each worker
// has its own ticket keys and only about half would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAIT_MS } from '../helpers/eventually.js';

const PRIMARY = fileURLToPath(new URL('./fixtures/sqlite-cluster.ts', import.meta.url));
const RECONNECTS = 200;

let dir: string;
let primary: ChildProcess;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-cluster-'));
  primary = spawn(process.execPath, ['--import', 'tsx', PRIMARY, join(dir, 'sessions.db')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  primary.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`cluster did not start: ${stderr}`)), WAIT_MS);
    primary.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const match = /^ready (\d+)$/m.exec(stdout);
      if (match === null) return;
      clearTimeout(timer);
      resolve(Number(match[1]));
    });
    primary.once('exit', (code) => reject(new Error(`cluster exited (${code}): ${stderr}`)));
  });
});

afterAll(async () => {
  if (primary.exitCode === null) {
    const exited = new Promise((resolve) => primary.once('exit', resolve));
    primary.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  reused: boolean;
  worker: string;
  sessions: Buffer[];
}

function connect(version: 'TLSv1.2' | 'TLSv1.3', session: Buffer | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sessions: Buffer[] = [];
    let data = '';
    let reused = false;
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
      minVersion: version,
      maxVersion: version,
      ...(session === undefined ? {} : { session }),
    });
    socket.on('secureConnect', () => (reused = socket.isSessionReused()));
    socket.on('session', (s: Buffer) => sessions.push(s));
    socket.on('data', (d: Buffer) => (data += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ reused, worker: data.trim(), sessions }));
  });
}

describe('a cluster of 2 workers sharing one SqliteStore', () => {
  it.each(['TLSv1.2', 'TLSv1.3'] as const)(
    `%s: ≥ 99 %% of ${RECONNECTS} reconnects resume, on whichever worker takes them`,
    async (version) => {
      const first = await connect(version, undefined);
      expect(first.reused).toBe(false);
      let session = first.sessions.at(-1);
      let resumed = 0;
      const byWorker = new Map<string, { total: number; resumed: number }>();
      for (let i = 0; i < RECONNECTS; i++) {
        const answer = await connect(version, session);
        const counts = byWorker.get(answer.worker) ?? { total: 0, resumed: 0 };
        counts.total++;
        if (answer.reused) {
          counts.resumed++;
          resumed++;
        }
        byWorker.set(answer.worker, counts);
        // TLS 1.2: the same session again and again (a resumed handshake makes no new one);
        // TLS 1.3: each ticket once, the newest from the last connection.
        session = answer.sessions.at(-1) ?? session;
      }
      expect(resumed / RECONNECTS, JSON.stringify([...byWorker])).toBeGreaterThanOrEqual(0.99);
      // Both workers took a fair share, and resumed sessions the other one made.
      expect([...byWorker.keys()].sort()).toEqual(['worker 1', 'worker 2']);
      for (const [, counts] of byWorker) {
        expect(counts.total).toBeGreaterThanOrEqual(RECONNECTS * 0.3);
        expect(counts.resumed / counts.total).toBeGreaterThanOrEqual(0.98);
      }
    },
    60_000,
  );
});
