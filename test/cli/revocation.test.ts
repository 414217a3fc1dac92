// Revocation across processes, for real: two `serve` processes (the built CLI) share a store — one
// SQLite file, or one redis-server — a session made on A resumes on B (so both hold it in memory),
// then a separate process removes it from the store (store.delete of its id, or store.clear), and
// from then on neither A nor B resumes it: full handshakes, TLS 1.2 and 1.3 (openssl s_client).
//
// The removal is the CLI's `remove ID` / `flush --all` (`revokeWith`), or a small script on the
// package's store API that deletes every entry one by one.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/stores/sqlite-store.js';
import {
  CLI,
  SHARED_STORE_LOOKUP_DEADLINE,
  cliProcesses,
  type Serving,
} from '../helpers/cli-processes.js';
import { skipWithoutRedis, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { eventually } from '../helpers/eventually.js';

const run = promisify(execFile);
const NO_REDIS = skipWithoutRedis('the revocation tests on Redis');
const cli = cliProcesses();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-cli-revocation-'));
});
afterEach(() => cli.stopAll());
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const dist = (path: string): string => new URL(`../../dist/${path}`, import.meta.url).href;

/**
 * Removes sessions from the store at `url` in a process of its own, as an operator would:
 * `remove <hex id>` deletes the entries with that id (store.delete), `delete-all` deletes every
 * entry one by one, `flush` is `store.clear()`. Prints how many were removed.
 */
const REVOKE_SCRIPT = `
import { createStore } from ${JSON.stringify(dist('stores/from-url.js'))};
import { parseStoreUrl } from ${JSON.stringify(dist('stores/store-url.js'))};
const [url, action, idHex] = process.argv.slice(1);
const store = await createStore(parseStoreUrl(url));
let removed = 0;
if (action === 'flush') {
  removed = await store.clear();
} else {
  const entries = [];
  for await (const entry of store.list()) entries.push(entry);
  for (const { namespace, id } of entries) {
    if (action === 'remove' && Buffer.from(id).toString('hex') !== idHex) continue;
    if (await store.delete(namespace, id)) removed++;
  }
}
await store.close();
console.log(removed);
`;

async function revokeWith(
  url: string,
  action: 'remove' | 'delete-all' | 'flush',
  id = '',
): Promise<number> {
  if (action !== 'delete-all') {
    // As an operator revokes: the CLI's `remove ID` and `flush --all`, in processes of their own.
    const args = action === 'remove' ? ['remove', id] : ['flush', '--all'];
    const { stdout } = await run(process.execPath, [CLI, ...args, '--store', url, '--json']);
    return (JSON.parse(stdout) as { removed: number }).removed;
  }
  const { stdout } = await run(process.execPath, [
    '--input-type=module',
    '-e',
    REVOKE_SCRIPT,
    url,
    action,
    id,
  ]);
  return Number(stdout.trim());
}

/** The session id in a session PEM written by `s_client -sess_out`, in hex. */
async function sessionIdOf(pem: string): Promise<string> {
  const { stdout } = await run('openssl', ['sess_id', '-in', pem, '-noout', '-text']);
  const match = /Session-ID: ([0-9A-F]+)/.exec(stdout);
  expect(match, stdout).not.toBeNull();
  return match![1]!.toLowerCase();
}

async function sClient(port: number, args: string[]): Promise<string> {
  return (await cli.sClient(port, args)).stdout;
}

/** Whether the handshake resumed; insists on one of the two answers. */
function reused(output: string): boolean {
  if (/^Reused, TLSv1\.[23]/m.test(output)) return true;
  expect(output).toMatch(/^New, TLSv1\.[23]/m);
  return false;
}

/**
 * Tries a TLS 1.2 resumption of `pem` on every server until all refuse it (Redis: a pub/sub
 * message; SQLite: a 100 ms poll; only a hang fails the wait, see test/helpers/eventually.ts).
 * @returns the rounds it took (1: refused everywhere at the first try, right after the removal)
 */
async function untilRefusedEverywhere(servers: Serving[], pem: string): Promise<number> {
  let rounds = 0;
  await eventually(
    async () => {
      rounds++;
      const outcomes = [];
      for (const server of servers) {
        outcomes.push(reused(await sClient(server.port, ['-tls1_2', '-sess_in', pem])));
      }
      return !outcomes.includes(true);
    },
    'the session refused on every server',
    { everyMs: 50 },
  );
  return rounds;
}

interface Backend {
  url: string;
  /** Sessions in the store now. */
  entries(): Promise<number>;
}

/** Waits until the store holds `atLeast` sessions (a Redis write follows the handshake). */
async function untilStored(backend: Backend, atLeast: number): Promise<void> {
  await eventually(
    async () => (await backend.entries()) >= atLeast,
    `the store holds ${atLeast} sessions`,
  );
}

function revocationTests(
  name: string,
  skip: boolean,
  setup: () => Promise<Backend & { stop(): Promise<void> }>,
): void {
  describe.skipIf(skip)(name, () => {
    let backend: Backend & { stop(): Promise<void> };
    let round = 0;
    beforeAll(async () => {
      backend = await setup();
    });
    afterAll(async () => {
      await backend?.stop();
    });

    const serveBoth = async (tls: '1.2' | '1.3'): Promise<[Serving, Serving]> => {
      const args = [
        '--mode',
        'stateful',
        '--tls',
        tls,
        '--store',
        backend.url,
        '--session-id-context',
        'same',
        ...SHARED_STORE_LOOKUP_DEADLINE,
      ];
      return Promise.all([cli.startServe(args), cli.startServe(args)]);
    };

    it.each(['remove', 'flush'] as const)(
      'TLS 1.2: after %s, a session held in memory by A and B resumes on neither',
      async (action) => {
        const [a, b] = await serveBoth('1.2');
        const pem = join(dir, `tls12-${round++}.pem`);
        const before = await backend.entries();
        expect(reused(await sClient(a.port, ['-tls1_2', '-sess_out', pem]))).toBe(false);
        await untilStored(backend, before + 1);
        // B reads it from the store and keeps it in memory; A has had it in memory all along.
        expect(reused(await sClient(b.port, ['-tls1_2', '-sess_in', pem]))).toBe(true);
        expect(reused(await sClient(a.port, ['-tls1_2', '-sess_in', pem]))).toBe(true);
        expect(reused(await sClient(b.port, ['-tls1_2', '-sess_in', pem]))).toBe(true);

        const removed =
          action === 'remove'
            ? await revokeWith(backend.url, 'remove', await sessionIdOf(pem))
            : await revokeWith(backend.url, 'flush');
        expect(removed).toBeGreaterThanOrEqual(1);
        const rounds = await untilRefusedEverywhere([a, b], pem);
        console.log(`${name}, TLS 1.2 ${action}: refused by A and B in round ${rounds}`);
        // And it stays so.
        expect(reused(await sClient(a.port, ['-tls1_2', '-sess_in', pem]))).toBe(false);
        expect(reused(await sClient(b.port, ['-tls1_2', '-sess_in', pem]))).toBe(false);
        expect(a.stderr()).toBe('');
        expect(b.stderr()).toBe('');
      },
    );

    it.each(['delete-all', 'flush'] as const)(
      'TLS 1.3: after %s, tickets held in memory by A and B resume on neither',
      async (action) => {
        const [a, b] = await serveBoth('1.3');
        const first = join(dir, `tls13-${round}-a.pem`);
        const fromB = join(dir, `tls13-${round}-b.pem`);
        const fromA = join(dir, `tls13-${round++}-a2.pem`);
        const before = await backend.entries();
        expect(reused(await sClient(a.port, ['-tls1_3', '-sess_out', first]))).toBe(false);
        await untilStored(backend, before + 1);
        // Resumed on B, which issues new tickets (kept in B's memory and the store) …
        expect(
          reused(await sClient(b.port, ['-tls1_3', '-sess_in', first, '-sess_out', fromB])),
        ).toBe(true);
        // … and another session on A (in A's memory and the store).
        expect(reused(await sClient(a.port, ['-tls1_3', '-sess_out', fromA]))).toBe(false);
        await untilStored(backend, before + 4);

        expect(await revokeWith(backend.url, action)).toBeGreaterThanOrEqual(2);
        // TLS 1.3 lookups always take from the store: refused at once, on either process.
        expect(reused(await sClient(b.port, ['-tls1_3', '-sess_in', fromB]))).toBe(false);
        expect(reused(await sClient(a.port, ['-tls1_3', '-sess_in', fromA]))).toBe(false);
        expect(reused(await sClient(a.port, ['-tls1_3', '-sess_in', fromB]))).toBe(false);
        expect(reused(await sClient(b.port, ['-tls1_3', '-sess_in', fromA]))).toBe(false);
        expect(a.stderr()).toBe('');
        expect(b.stderr()).toBe('');
      },
    );
  });
}

revocationTests('two serve --store sqlite processes on one file', false, async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tsc-cli-revocation-db-')), 'sessions.db');
  // The test's own connection to the file, to count sessions (it does not watch revocations).
  const store = await SqliteStore.open({ path: file });
  return {
    url: `sqlite:${file}`,
    entries: () => Promise.resolve(store.stats().entries),
    stop: async () => {
      await store.close();
      rmSync(dirname(file), { recursive: true, force: true });
    },
  };
});

revocationTests('two serve --store redis processes on one redis-server', NO_REDIS, async () => {
  const redis: RedisServer = await startRedis();
  return {
    url: redis.url,
    entries: async () => Number(await redis.cli('DBSIZE')),
    stop: () => redis.stop(),
  };
});
