// The conformance suite itself: it must catch stores that break the contract (each broken store
// below breaks one rule, and the suite must fail exactly where it should), and it must run under
// node:test as well as vitest.
import { execFile } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/stores/memory-store.js';
import type { SessionStore } from '../../src/stores/store.js';
import { runStoreConformance, type StoreFactory } from '../../src/testing/index.js';

/** Runs the suite against `make` outside the test runner; returns the titles of failed tests. */
async function failures(make: StoreFactory): Promise<string[]> {
  const tests: [string, () => Promise<void>][] = [];
  runStoreConformance('probe', make, {
    describe: (_name, fn) => fn(),
    it: (name, fn) => tests.push([name, fn]),
  });
  const failed: string[] = [];
  for (const [name, fn] of tests) {
    try {
      await fn();
    } catch {
      failed.push(name);
    }
  }
  return failed;
}

/** What the leaky stores leak on purpose, released once the suite has seen it. */
const leakedTimers: NodeJS.Timeout[] = [];
const leakedFds: number[] = [];
afterAll(() => {
  for (const timer of leakedTimers) clearInterval(timer);
  for (const fd of leakedFds) closeSync(fd);
});

type Breakage =
  | 'utf8-keys'
  | 'late-expiry'
  | 'racy-take'
  | 'take-keeps'
  | 'no-copy'
  | 'oversize'
  | 'leaks-timer'
  | 'leaks-file'
  | 'unreported-clear'
  | 'sticky-watch'
  | 'plain-closed-error'
  | 'usable-after-close'
  | 'racy-set-if-absent';

/** A store that is a MemoryStore except for one broken rule. */
function broken(breakage: Breakage): StoreFactory {
  return ({ clock }) => {
    // Expiry checked one ms late: valid at the deadline, and a deadline of "now" is stored.
    const inner = new MemoryStore({
      clock: breakage === 'late-expiry' ? () => clock() - 1 : clock,
    });
    const key = (id: Uint8Array): Uint8Array =>
      breakage === 'utf8-keys' ? Buffer.from(Buffer.from(id).toString('utf8')).subarray(0, 32) : id;
    const shared = new Map<string, Uint8Array>();
    if (breakage === 'leaks-timer') leakedTimers.push(setInterval(() => undefined, 60_000).unref());
    if (breakage === 'leaks-file') leakedFds.push(openSync(fileURLToPath(import.meta.url), 'r'));
    let closed = false;
    // A closed store that refuses with a plain Error (no stable code).
    const refuse = (): void => {
      if (closed && breakage === 'plain-closed-error') throw new Error('store is closed');
    };
    const store: SessionStore = {
      kind: `broken-${breakage}`,
      maxValueBytes: breakage === 'oversize' ? 100 : inner.maxValueBytes,
      set: (ns, id, value, exp) => {
        refuse();
        if (breakage === 'no-copy') shared.set(`${ns}|${Buffer.from(id).toString('hex')}`, value);
        return inner.set(ns, key(id), value, exp);
      },
      get: (ns, id) => {
        refuse();
        const value = inner.get(ns, key(id));
        if (breakage === 'no-copy' && value !== undefined) {
          return shared.get(`${ns}|${Buffer.from(id).toString('hex')}`);
        }
        return value;
      },
      setIfAbsent: async (ns, id, value, exp) => {
        const present = inner.get(ns, key(id)) !== undefined;
        if (breakage === 'racy-set-if-absent') {
          // Check, then write a moment later: two callers can both see "absent" and both win.
          await new Promise((resolve) => setImmediate(resolve));
          if (present) return false;
          return inner.set(ns, key(id), value, exp);
        }
        return inner.setIfAbsent(ns, key(id), value, exp);
      },
      take: async (ns, id) => {
        refuse();
        if (breakage === 'take-keeps') return inner.get(ns, key(id));
        if (breakage !== 'racy-take') return inner.take(ns, key(id));
        // Get, then delete a moment later: two callers can both get it.
        const value = inner.get(ns, key(id));
        await new Promise((resolve) => setImmediate(resolve));
        inner.delete(ns, key(id));
        return value;
      },
      delete: (ns, id) => {
        refuse();
        return inner.delete(ns, key(id));
      },
      list: (options) => inner.list(options),
      clear: (ns) => inner.clear(ns),
      stats: () => inner.stats(),
      close: () => {
        closed = true;
        // A "closed" store that keeps answering.
        if (breakage === 'usable-after-close') return;
        return inner.close();
      },
      watchRevocations: (listener) => {
        const stop = inner.watchRevocations((revocation) => {
          // Only single ids are reported: a whole namespace (or everything) is not.
          if (breakage === 'unreported-clear' && revocation.id === undefined) return;
          listener(revocation);
        });
        return breakage === 'sticky-watch' ? () => undefined : stop;
      },
    };
    return store;
  };
}

describe('the conformance suite', () => {
  it('passes a correct store', async () => {
    expect(await failures(({ clock }) => new MemoryStore({ clock }))).toEqual([]);
  });

  it.each([
    ['utf8-keys', /binary ids/],
    ['late-expiry', /expires exactly at the deadline|already passed/],
    ['racy-take', /concurrent takes/],
    ['take-keeps', /take returns the value once/],
    ['no-copy', /copies values/],
    ['oversize', /over maxValueBytes/],
    ['leaks-timer', /close releases everything/],
    ['leaks-file', /close releases everything/],
    ['unreported-clear', /every delete and clear is reported/],
    ['sticky-watch', /unwatching stops reports/],
    ['plain-closed-error', /ERR_STORE_CLOSED/],
    ['usable-after-close', /ERR_STORE_CLOSED/],
    ['racy-set-if-absent', /setIfAbsent.*one winner/],
  ] as const)(
    'catches a store that breaks a rule: %s',
    async (breakage, where) => {
      const failed = await failures(broken(breakage));
      // The test that checks the rule fails (others may too: a broken take breaks more than one).
      expect(
        failed.some((name) => where.test(name)),
        failed.join('; '),
      ).toBe(true);
    },
    20_000,
  );

  it('runs under node:test', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/node-test-conformance.ts', import.meta.url));
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', '--test', '--test-reporter', 'tap', fixture],
          { encoding: 'utf8' },
          (error, out) =>
            resolve({ code: error === null ? 0 : (error.code as number), stdout: out }),
        );
      },
    );
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(/^# fail 0$/m);
    const passed = Number(/^# pass (\d+)$/m.exec(stdout)?.[1]);
    expect(passed).toBeGreaterThanOrEqual(15);
  });
});
