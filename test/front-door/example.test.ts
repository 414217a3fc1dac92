// The README's first server example (examples/sqlite-encrypted-server.ts, importing the built
// package by its name) runs as written: two processes of it on one SQLite file with a key file
// resume each other's TLS 1.2 and TLS 1.3 sessions, and on SIGTERM each closes its session cache and
// reports its counters. Needs dist/ (`npm test` builds it first).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { exitOf } from '../helpers/cli-processes.js';

const EXAMPLE = join(import.meta.dirname, '../../examples/sqlite-encrypted-server.ts');

let pki: TestPki;
let dir: string;
beforeAll(() => {
  pki = makeTestPki();
  dir = mkdtempSync(join(tmpdir(), 'tsc-example-'));
});
afterAll(() => {
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  port: number;
  /** Lines printed after `listening on`. */
  lines: string[];
}

async function start(db: string, keyFile: string): Promise<Running> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', EXAMPLE, db, keyFile, pki.files.serverCert, pki.files.serverKey],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: string[] = [];
  const reader = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    reader.on('line', (line) => {
      const match = /^listening on (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
      else lines.push(line);
    });
    child.once('exit', (code) => reject(new Error(`example exited (${code}): ${stderr}`)));
  });
  return { child, port, lines };
}

/** One HTTP/1.0 request over TLS: whether it resumed, the body, and every session received. */
function request(
  port: number,
  options: { maxVersion: 'TLSv1.2' | 'TLSv1.3'; session?: Buffer },
): Promise<{ reused: boolean; body: string; sessions: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const sessions: Buffer[] = [];
    let reused = false;
    let data = '';
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: pki.caCert,
      ...options,
    });
    socket.on('secureConnect', () => {
      reused = socket.isSessionReused();
      socket.write('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
    });
    socket.on('session', (session: Buffer) => sessions.push(session));
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ reused, body: data.split('\r\n\r\n')[1] ?? '', sessions }));
  });
}

describe('examples/sqlite-encrypted-server.ts (the README example)', () => {
  it('two processes on one SQLite file resume each other’s sessions, TLS 1.2 and 1.3', async () => {
    const db = join(dir, 'sessions.db');
    const keyFile = join(dir, 'session-keys');
    writeFileSync(keyFile, `2026-12:${'5a'.repeat(32)}\n`, { mode: 0o600 });
    const a = await start(db, keyFile);
    const b = await start(db, keyFile);
    try {
      for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
        const first = await request(a.port, { maxVersion: version });
        expect(first.body).toBe('ok\n');
        expect(first.reused).toBe(false);
        const second = await request(b.port, {
          maxVersion: version,
          session: first.sessions.at(-1)!,
        });
        expect(second.body).toBe('ok\n');
        expect(second.reused).toBe(true);
      }
    } finally {
      for (const running of [a, b]) running.child.kill('SIGTERM');
    }
    const exits = await Promise.all([exitOf(a.child), exitOf(b.child)]);
    expect(exits.map((exit) => exit.code)).toEqual([0, 0]);
    const reportOf = (running: Running) =>
      JSON.parse(running.lines.at(-1)!) as { hits: number; writes: number; resumed: number };
    expect(reportOf(a)).toMatchObject({ resumed: 0 });
    expect(reportOf(a).writes).toBeGreaterThanOrEqual(2);
    expect(reportOf(b)).toMatchObject({ hits: 2, resumed: 2 });
  });
});
