// Several processes on one SQLite file, for real: 4 forked processes open a fresh file at the same
// moment (the schema is created exactly once), then hammer it with a mix of set/get/take/delete and
// race each other for shared ids. Nothing may fail, nothing written may be lost, and every shared
// id must be won by exactly one process.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/stores/sqlite-store.js';

const WORKER = fileURLToPath(new URL('./fixtures/sqlite-hammer.ts', import.meta.url));
const OPENER = fileURLToPath(new URL('./fixtures/sqlite-open.ts', import.meta.url));
const PROCESSES = 4;
const OPS = 3000;
const SHARED = 300;

const dir = mkdtempSync(join(tmpdir(), 'tsc-sqlite-procs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Done {
  type: 'done';
  errors: string[];
  mismatches: number;
  won: string[];
  kept: [string, string][];
}

function message<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string; error?: string }): void => {
      if (m.type === type) {
        child.off('message', onMessage);
        resolve(m as T);
      } else if (m.type === 'failed') {
        reject(new Error(`worker failed: ${m.error}`));
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before ${type}`)));
  });
}

describe('SqliteStore shared by several processes', () => {
  it(`${PROCESSES} processes × ${OPS} mixed ops on one new file: 0 errors, 0 lost writes, one winner per take`, async () => {
    const path = join(dir, 'hammer.db');
    const sharedIds = Array.from({ length: SHARED }, () => randomBytes(16).toString('hex'));
    const children = Array.from({ length: PROCESSES }, () =>
      fork(WORKER, [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    try {
      // All open the new file at once: the schema must be created once, without errors.
      const ready = children.map((child) => message(child, 'ready'));
      children.forEach((child, worker) => child.send({ path, worker, ops: OPS, sharedIds }));
      await Promise.all(ready);
      // Seeded once every process is ready, so that the race starts on full ground.
      const seed = await SqliteStore.open({ path });
      for (const id of sharedIds)
        seed.set('shared', Buffer.from(id, 'hex'), Buffer.from(id, 'hex'), Date.now() + 3_600_000);
      seed.close();
      const done = children.map((child) => message<Done>(child, 'done'));
      for (const child of children) child.send('go');
      const results = await Promise.all(done);

      expect(results.flatMap((r) => r.errors)).toEqual([]);
      expect(results.map((r) => r.mismatches)).toEqual(results.map(() => 0));
      // Every shared id won exactly once, across all processes.
      const won = results.flatMap((r) => r.won).sort();
      expect(won).toEqual([...sharedIds].sort());

      // No lost write: every key written and not taken or deleted is there, byte for byte.
      const check = await SqliteStore.open({ path });
      try {
        let kept = 0;
        results.forEach((result, worker) => {
          for (const [key, value] of result.kept) {
            const got = check.get(`worker-${worker}`, Buffer.from(key, 'hex'));
            expect(got === undefined ? undefined : Buffer.from(got).toString('hex'), key).toBe(
              value,
            );
            kept++;
          }
        });
        expect(kept).toBeGreaterThan(PROCESSES * OPS * 0.1);
        // Nothing else is there either: the exact-count triggers agree with what was kept.
        expect(check.stats().entries).toBe(kept);
      } finally {
        check.close();
      }
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill();
    }
  });

  it('6 processes opening the same new file at the same moment all succeed, 15 times over', async () => {
    const children = Array.from({ length: 6 }, () =>
      fork(OPENER, [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    try {
      await Promise.all(
        children.map((child) => new Promise((resolve) => child.once('message', resolve))),
      );
      const errors: string[] = [];
      for (let file = 0; file < 15; file++) {
        const path = join(dir, `open-${file}.db`);
        const results = children.map(
          (child) =>
            new Promise<{ ok: boolean; error?: string }>((resolve) =>
              child.once('message', resolve),
            ),
        );
        children.forEach((child, worker) => child.send({ path, worker }));
        for (const result of await Promise.all(results)) if (!result.ok) errors.push(result.error!);
        const check = await SqliteStore.open({ path });
        expect(check.stats().entries, path).toBe(children.length);
        await check.close();
      }
      expect(errors).toEqual([]);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill();
    }
  });
});
