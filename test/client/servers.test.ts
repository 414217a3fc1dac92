// The client cache against servers it does not control the code of: `openssl s_server` (stateless
// tickets and its own session cache), and our CLI `serve` in a subprocess, resumed by a second
// short-lived process from the session a first one saved in a SQLite file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientSessionCache } from '../../src/client/client-session-cache.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { cliProcesses, exitOf } from '../helpers/cli-processes.js';
import { startHelloRecorder } from '../helpers/hello-recorder.js';
import { cachedRun } from './helpers.js';

let pki: TestPki;
let dir: string;
const processes = cliProcesses();
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(() => {
  pki = makeTestPki();
  dir = mkdtempSync(join(tmpdir(), 'tsc-client-'));
});
afterAll(() => {
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await processes.stopAll();
});

/** `openssl s_server -www` for `connections` connections; resolves with its port. */
async function startSServer(args: string[], connections: number): Promise<number> {
  const child = processes.track(
    spawn(
      'openssl',
      [
        's_server',
        '-accept',
        '127.0.0.1:0',
        '-naccept',
        String(connections),
        '-www',
        '-cert',
        pki.files.serverCert,
        '-key',
        pki.files.serverKey,
        ...args,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    ),
  ) as ChildProcess;
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`s_server did not start: ${out}`)), 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ACCEPT .*:(\d+)/.exec(out);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  });
}

const GET = 'GET / HTTP/1.0\r\n\r\n';

describe.each([
  ['TLSv1.2', ['-tls1_2']],
  ['TLSv1.2', ['-tls1_2', '-no_ticket']],
  ['TLSv1.3', ['-tls1_3']],
  ['TLSv1.3', ['-tls1_3', '-no_ticket']],
] as const)('against openssl s_server (%s %j)', (version, args) => {
  it('resumes, and s_server reports the reused session', async () => {
    const port = await startSServer([...args], 4);
    const recorder = await startHelloRecorder(port);
    cleanups.push(() => recorder.close());
    const cache = new ClientSessionCache();
    cleanups.push(() => cache.close());
    const runs = [];
    for (let i = 0; i < 4; i++) {
      runs.push(await cachedRun(cache, recorder.port, { maxVersion: version }, GET));
    }
    expect(runs.map((r) => r.protocol)).toEqual([version, version, version, version]);
    expect(runs.map((r) => r.reused)).toEqual([false, true, true, true]);
    // s_server -www prints "New, …" or "Reused, …" for the connection it served.
    expect(runs.map((r) => /^(New|Reused),/m.exec(r.data)?.[1])).toEqual([
      'New',
      'Reused',
      'Reused',
      'Reused',
    ]);
    if (version === 'TLSv1.3') {
      const offered = recorder.offeredTickets();
      expect(offered).toHaveLength(3);
      expect(new Set(offered).size).toBe(3);
    }
  });
});

const CHILD = fileURLToPath(new URL('./fixtures/sqlite-client.ts', import.meta.url));

async function childRun(
  port: number,
  db: string,
  version: string,
): Promise<Record<string, unknown>> {
  const child = processes.track(
    spawn(process.execPath, ['--import', 'tsx', CHILD, String(port), db, version], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = await exitOf(child);
  expect(exit.code, stderr).toBe(0);
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe.each(['TLSv1.2', 'TLSv1.3'] as const)(
  'across processes, against serve (%s)',
  (version) => {
    it('a second process resumes with the session the first saved in a SQLite file', async () => {
      const serving = await processes.startServe([]);
      const db = join(dir, `client-${version}.db`);
      const first = await childRun(serving.port, db, version);
      expect(first).toMatchObject({ reused: false, status: 'HTTP/1.1 200 OK' });
      const second = await childRun(serving.port, db, version);
      expect(second).toMatchObject({ reused: true, status: 'HTTP/1.1 200 OK' });
      const third = await childRun(serving.port, db, version);
      expect(third).toMatchObject({ reused: true });
      // Whatever is left in the file is single use (TLS 1.3) or the one reusable session (TLS 1.2).
      const store = await SqliteStore.open({ path: db, checkpointIntervalMs: 0 });
      cleanups.push(() => store.close());
      const entries = [];
      for await (const entry of store.list!({ namespacePrefix: 'client/' })) entries.push(entry);
      if (version === 'TLSv1.2') expect(entries.map((e) => e.id[0])).toEqual([0]);
      else expect(entries.every((e) => e.id[0]! >= 1)).toBe(true);
    });
  },
);
