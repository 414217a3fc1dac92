// Progress of a bulk flush: a cli-progress bar on stderr when it is a terminal (a real pseudo
// terminal from util-linux `script`), nothing on a pipe. The store is a real SQLite file of 3 000
// sessions written through SqliteStore (real handshakes would take minutes for that many).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROGRESS_MIN_ENTRIES } from '../../src/cli/bulk-progress.js';
import { encodeStoredSession } from '../../src/session/stored-record.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';
import { CLI, cliProcesses } from '../helpers/cli-processes.js';
import { buildSession } from '../helpers/session-der.js';

const SESSIONS = 3000;
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const cli = cliProcesses();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-operating-progress-'));
});
afterAll(async () => {
  await cli.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

async function fill(db: string): Promise<void> {
  const store = await SqliteStore.open({ path: db, checkpointIntervalMs: 0, sweepIntervalMs: 0 });
  const nowS = Math.floor(Date.now() / 1000);
  try {
    for (let i = 0; i < SESSIONS; i++) {
      const id = Buffer.alloc(32);
      id.writeUInt32BE(i + 1);
      const data = buildSession({ sessionId: id, time: nowS, timeout: 3600, flags: 1 });
      const value = encodeStoredSession({ id, data, namespace: 'bulk/ns', hostName: 'x.example' });
      store.set('bulk/ns', id, value, (nowS + 3600) * 1000);
    }
  } finally {
    await store.close();
  }
}

describe.skipIf(!hasScript)('flush progress', () => {
  it('draws a bar on a terminal and nothing on a pipe', async () => {
    expect(SESSIONS).toBeGreaterThanOrEqual(PROGRESS_MIN_ENTRIES);
    const db = join(dir, 'bulk.db');
    await fill(db);

    const piped = await cli.runCli([
      'flush',
      '--store',
      `sqlite:${db}`,
      '--tenant',
      'bulk',
      '--dry-run',
    ]);
    expect(piped).toMatchObject({
      code: 0,
      stdout: `would remove 3 000 sessions (dry run)\n`,
      stderr: '',
    });

    // `script -qec CMD /dev/null` runs CMD on a pseudo terminal and copies what it writes.
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} flush --store sqlite:${db} --sni x.example`;
    const tty = spawnSync('script', ['-qec', command, '/dev/null'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/tls-session-cache flushing \[[^\]]*\] \d+\/3000/);
    expect(tty.stdout).toContain('removed 3 000 sessions');
    const after = await cli.runCli(['list', '--store', `sqlite:${db}`, '--json']);
    expect(after.stdout).toBe('[]\n');
  });
});
