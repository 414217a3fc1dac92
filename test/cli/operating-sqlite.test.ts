// The operating commands (stats, list, inspect, flush, remove) as users run them: the built CLI
// against a real SQLite file filled by real handshakes (two `serve` processes, one with a tenant,
// openssl s_client with several SNI names, TLS 1.2 and 1.3), plus a few rows written through the
// real SqliteStore with an injected clock (an old session, an expired one not yet swept).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSession } from '../../src/session/decode.js';
import { encodeStoredSession } from '../../src/session/stored-record.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';
import { namespaceOf } from '../../src/node/namespace.js';
import type { ListedSession } from '../../src/cli/commands/list.js';
import { cliProcesses, type Serving } from '../helpers/cli-processes.js';
import { eventually } from '../helpers/eventually.js';
import { buildSession } from '../helpers/session-der.js';

const cli = cliProcesses();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-operating-sqlite-'));
});
afterAll(async () => {
  await cli.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

const CONTEXT = 'operating-test';

interface Made {
  /** The client's session file (PEM). */
  pem: string;
  sni: string;
  protocol: 'TLSv1.2' | 'TLSv1.3';
  tenant: string;
}

/** `serve` on `db`, with or without a tenant. */
function serve(db: string, tenant?: string): Promise<Serving> {
  return cli.startServe([
    '--mode',
    'stateful',
    '--store',
    `sqlite:${db}`,
    '--session-id-context',
    CONTEXT,
    ...(tenant === undefined ? [] : ['--tenant', tenant]),
  ]);
}

/** One full handshake with openssl s_client; the session goes to the store. */
async function handshake(server: Serving, made: Omit<Made, 'pem'>, name: string): Promise<Made> {
  const pem = join(dir, `${name}.pem`);
  const flag = made.protocol === 'TLSv1.2' ? '-tls1_2' : '-tls1_3';
  const { stdout } = await cli.sClient(server.port, [
    flag,
    '-servername',
    made.sni,
    '-alpn',
    'http/1.1',
    '-sess_out',
    pem,
  ]);
  expect(stdout).toMatch(/^New, TLSv1\.[23]/m);
  return { ...made, pem };
}

/** The master key (hex, upper case) of a client session file, as `openssl sess_id -text` prints it. */
function clientSecret(pem: string): string {
  const text = execFileSync('openssl', ['sess_id', '-in', pem, '-noout', '-text'], {
    encoding: 'utf8',
  });
  const match = /(?:Master-Key|Resumption PSK): ([0-9A-F]+)/.exec(text);
  expect(match).not.toBeNull();
  return match![1]!;
}

/**
 * The id the server stored the client's session under (hex): the session id in TLS 1.2; in TLS 1.3
 * the ticket, which for a stateful server is the id (the client's own session id is a hash of it).
 */
function clientSessionId(pem: string): string {
  const session = decodeSession(readFileSync(pem, 'utf8'));
  return (session.ticket() ?? session.sessionId).toString('hex');
}

async function run(args: string[]) {
  return cli.runCli(args);
}

/** Runs a command that must succeed with --json and returns the parsed output. */
async function json<T>(args: string[]): Promise<T> {
  const result = await run([...args, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

/** The shape `list --json` prints, from the command itself. */
type Listed = ListedSession;

/**
 * A store with: 4 sessions of tenant-less servers (a.example ×2 over TLS 1.2 and 1.3, b.example
 * over TLS 1.3 with two tickets), 1 of tenant "acme", an old session and an expired row.
 */
async function fill(db: string) {
  const tag = basename(db, '.db');
  const [plain, acme] = await Promise.all([serve(db), serve(db, 'acme')]);
  const made = [
    await handshake(plain, { sni: 'a.example', protocol: 'TLSv1.2', tenant: '' }, `${tag}-a12`),
    await handshake(plain, { sni: 'a.example', protocol: 'TLSv1.3', tenant: '' }, `${tag}-a13`),
    await handshake(plain, { sni: 'b.example', protocol: 'TLSv1.3', tenant: '' }, `${tag}-b13`),
    await handshake(acme, { sni: 'c.example', protocol: 'TLSv1.2', tenant: 'acme' }, `${tag}-c12`),
  ];
  // TLS 1.3: Node sends two tickets per connection, so two sessions; TLS 1.2: one.
  const expected = made.reduce((n, m) => n + (m.protocol === 'TLSv1.3' ? 2 : 1), 0);
  // The servers write in the background: wait until every session is in the file.
  await eventually(
    async () => (await json<Listed[]>(['list', '--store', `sqlite:${db}`])).length >= expected,
    `all ${expected} sessions stored`,
    { everyMs: 50 },
  );
  await cli.stopAll();

  // Written through the real store with an injected clock: a session made 2 hours ago that is
  // still valid (3-hour timeout), and one that expired 9 minutes ago, not yet swept.
  const nowS = Math.floor(Date.now() / 1000);
  const ns = namespaceOf('', Buffer.from(CONTEXT));
  const old = buildSession({
    sslVersion: 0x0303,
    sessionId: Buffer.alloc(32, 0x0d),
    time: nowS - 7200,
    timeout: 3 * 3600,
    sidCtx: Buffer.from(CONTEXT),
    flags: 1,
  });
  const expired = buildSession({
    sslVersion: 0x0303,
    sessionId: Buffer.alloc(32, 0x0e),
    time: nowS - 600,
    timeout: 60,
    sidCtx: Buffer.from(CONTEXT),
    flags: 1,
  });
  const past = await SqliteStore.open({
    path: db,
    clock: () => (nowS - 600) * 1000,
    sweepIntervalMs: 0,
    checkpointIntervalMs: 0,
  });
  try {
    past.set(
      ns,
      Buffer.alloc(32, 0x0d),
      encodeStoredSession({
        id: Buffer.alloc(32, 0x0d),
        data: old,
        namespace: ns,
        hostName: 'old.example',
      }),
      (nowS - 7200 + 3 * 3600) * 1000,
    );
    past.set(
      ns,
      Buffer.alloc(32, 0x0e),
      encodeStoredSession({ id: Buffer.alloc(32, 0x0e), data: expired, namespace: ns }),
      (nowS - 600 + 60) * 1000,
    );
  } finally {
    await past.close();
  }
  return { made, live: expected + 1 };
}

describe('operating a SQLite store filled by real handshakes', () => {
  let db: string;
  let store: string;
  let made: Made[];
  let live: number;
  let secrets: string[];

  beforeAll(async () => {
    db = join(dir, 'fleet.db');
    store = `sqlite:${db}`;
    ({ made, live } = await fill(db));
    secrets = made.map((m) => clientSecret(m.pem));
  });

  const expectNoSecrets = (text: string): void => {
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
    }
  };

  it('list --json: one object per live session, with protocol, cipher, SNI, ALPN, times; no secrets', async () => {
    const result = await run(['list', '--store', store, '--json']);
    expect(result.code).toBe(0);
    expectNoSecrets(result.stdout);
    const listed = JSON.parse(result.stdout) as Listed[];
    expect(listed).toHaveLength(live);
    for (const m of made) {
      const id = clientSessionId(m.pem);
      // TLS 1.3 clients keep the last ticket; TLS 1.2 the session id: both are stored ids.
      const row = listed.find((s) => s.id === id);
      expect(row, `${m.protocol} ${m.sni}`).toBeDefined();
      expect(row).toMatchObject({
        protocol: m.protocol,
        sni: m.sni,
        alpn: 'http/1.1',
        tenant: m.tenant,
      });
      expect(row!.namespace.startsWith(m.tenant === '' ? '' : `${m.tenant}/`)).toBe(true);
      expect(row!.cipher).toMatch(m.protocol === 'TLSv1.3' ? /^TLS_AES_/ : /^ECDHE-ECDSA-/);
      expect(Date.parse(row!.expiresAt) - Date.parse(row!.createdAt!)).toBe(300_000);
    }
    expect(Object.keys(listed[0]!).sort()).toEqual(
      [
        'alpn',
        'cipher',
        'createdAt',
        'expiresAt',
        'id',
        'namespace',
        'protocol',
        'size',
        'sni',
        'tenant',
      ].sort(),
    );
    // The expired row is not listed.
    expect(listed.some((s) => s.id === '0e'.repeat(32))).toBe(false);
  });

  it('list: a table with id prefixes, and filters by SNI, tenant, age and limit', async () => {
    const table = await run(['list', '--store', store]);
    expect(table.code).toBe(0);
    expectNoSecrets(table.stdout + table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+TENANT\s+PROTOCOL\s+CIPHER\s+SNI\s+ALPN\s+CREATED\s+EXPIRES$/);
    expect(lines).toHaveLength(live + 1);
    expect(lines[1]).toMatch(/^[0-9a-f]{16}… /);
    expect(table.stderr).toBe(`${live} sessions\n`);

    const bySni = await json<Listed[]>(['list', '--store', store, '--sni', 'A.EXAMPLE']);
    expect(bySni.map((s) => s.sni)).toEqual(['a.example', 'a.example', 'a.example']);
    const acme = await json<Listed[]>(['list', '--store', store, '--tenant', 'acme']);
    expect(acme.map((s) => s.sni)).toEqual(['c.example']);
    const noTenant = await json<Listed[]>(['list', '--store', store, '--tenant', '']);
    expect(noTenant).toHaveLength(live - 1);
    const old = await json<Listed[]>(['list', '--store', store, '--older-than', '1h']);
    expect(old.map((s) => s.sni)).toEqual(['old.example']);
    expect(await json<Listed[]>(['list', '--store', store, '--older-than', '0s'])).toHaveLength(
      live,
    );

    const limited = await run(['list', '--store', store, '--limit', '2']);
    expect(limited.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(limited.stderr).toMatch(/^2 sessions shown; more match/);
  });

  it('stats --json: counts by protocol, SNI and tenant, ages, and expired rows not yet swept', async () => {
    const stats = await json<{ store: Record<string, unknown>; server: unknown }>([
      'stats',
      '--store',
      store,
    ]);
    expect(stats.server).toBeNull();
    expect(stats.store).toMatchObject({
      kind: 'sqlite',
      live,
      entries: live + 1,
      byProtocol: { 'TLSv1.2': 3, 'TLSv1.3': 4 },
      bySni: { 'a.example': 3, 'b.example': 2, 'c.example': 1, 'old.example': 1 },
      byTenant: { '': live - 1, acme: 1 },
      undecodable: {},
    });
    const oldest = Date.parse(stats.store.oldestCreatedAt as string);
    expect(Date.now() - oldest).toBeGreaterThanOrEqual(7200_000);
    expect(Date.now() - Date.parse(stats.store.newestCreatedAt as string)).toBeLessThan(600_000);

    const text = await run(['stats', '--store', store]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^sessions\\s+${live}$`, 'm'));
    expect(text.stdout).toMatch(/^expired, not yet swept\s+1$/m);
    expect(text.stdout).toMatch(/^TLSv1\.3\s+4$/m);
    expect(text.stdout).toMatch(/^a\.example\s+3$/m);
    expectNoSecrets(text.stdout);
  });

  it('inspect: one session like openssl sess_id -text, the secret only with --show-secrets', async () => {
    const m = made[0]!; // TLS 1.2, a.example
    const id = clientSessionId(m.pem);
    const secret = clientSecret(m.pem);
    const redacted = await run(['inspect', '--store', store, id.slice(0, 12)]);
    expect(redacted.code).toBe(0);
    expect(redacted.stdout).toMatch(
      /^SSL-Session:\n {4}Protocol {2}: TLSv1\.2\n {4}Cipher {4}: ECDHE-ECDSA-/,
    );
    expect(redacted.stdout).toContain(`    Session-ID: ${id.toUpperCase()}\n`);
    expect(redacted.stdout).toMatch(
      /^ {4}Master-Key: \[redacted: --show-secrets prints it\] \(48 bytes\)$/m,
    );
    expect(redacted.stdout).toMatch(/^ {4}SNI {7}: a\.example$/m);
    expect(redacted.stdout).toMatch(/^ {4}ALPN {6}: http\/1\.1$/m);
    expect(redacted.stdout).toMatch(/^ {4}Extended master secret: yes$/m);
    expectNoSecrets(redacted.stdout);

    const redactedJson = await json<{ session: Record<string, unknown>; sni: string }>([
      'inspect',
      '--store',
      store,
      id,
    ]);
    expect(redactedJson.session.masterSecret).toBe('[redacted]');
    expect(redactedJson.sni).toBe('a.example');
    expectNoSecrets(JSON.stringify(redactedJson));

    // The server's copy of the master secret is the client's: what OpenSSL negotiated.
    const shown = await run(['inspect', '--store', store, id, '--show-secrets']);
    expect(shown.stdout).toContain(`    Master-Key: ${secret}\n`);
    const shownJson = await json<{ session: Record<string, unknown> }>([
      'inspect',
      '--store',
      store,
      id,
      '--show-secrets',
    ]);
    expect(shownJson.session.masterSecret).toBe(secret);

    const tls13 = made[1]!;
    const psk = await run(['inspect', '--store', store, clientSessionId(tls13.pem)]);
    expect(psk.stdout).toMatch(/^ {4}Resumption PSK: \[redacted/m);
    expect(psk.stdout).toMatch(/^ {4}Max Early Data: 0$/m);
  });

  it('inspect: an unknown, ambiguous or malformed id is one line and exit code 1', async () => {
    const none = await run(['inspect', '--store', store, 'ffffffffffff']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      'tls-session-cache: no stored session has an id starting with ffffffffffff\n',
    );
    const ambiguous = await run(['inspect', '--store', store, '']);
    expect(ambiguous.code).toBe(1);
    const bad = await run(['inspect', '--store', store, 'xyz']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tls-session-cache: ID: must be the hex digits/);
  });
});

describe('revoking sessions in a SQLite store', () => {
  it('remove: --dry-run removes nothing; then the session is gone and a fresh server does not resume it', async () => {
    const db = join(dir, 'remove.db');
    const { made, live } = await fill(db);
    const store = `sqlite:${db}`;
    const target = made[0]!; // TLS 1.2: resumable any number of times until removed
    const id = clientSessionId(target.pem);

    const dry = await run(['remove', '--store', store, id.slice(0, 16), '--dry-run']);
    expect(dry).toMatchObject({
      code: 0,
      stdout: 'would remove 1 session (dry run)\n',
      stderr: '',
    });
    expect(await json<Listed[]>(['list', '--store', store])).toHaveLength(live);

    // Before: a server resumes it (from the store, then from its own memory).
    const running = await serve(db);
    for (let i = 0; i < 2; i++) {
      const resumed = await cli.sClient(running.port, [
        '-tls1_2',
        '-servername',
        target.sni,
        '-sess_in',
        target.pem,
      ]);
      expect(resumed.stdout).toMatch(/^Reused, TLSv1\.2/m);
    }

    const removed = await run(['remove', '--store', store, id, '--json']);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toEqual({ dryRun: false, matched: 1, removed: 1 });
    const after = await json<Listed[]>(['list', '--store', store]);
    expect(after).toHaveLength(live - 1);
    expect(after.some((s) => s.id === id)).toBe(false);

    // The running server held it in memory: the store's revocation report (SQLite: polled every
    // 100 ms) drops it there too; a hang, not a slow poll, is what fails the wait.
    await eventually(async () => {
      const attempt = await cli.sClient(running.port, [
        '-tls1_2',
        '-servername',
        target.sni,
        '-sess_in',
        target.pem,
      ]);
      return /^New, TLSv1\.2/m.test(attempt.stdout);
    }, 'the revoked session refused by the running server');
    // And a server started afterwards does not find it either.
    const fresh = await serve(db);
    const full = await cli.sClient(fresh.port, [
      '-tls1_2',
      '-servername',
      target.sni,
      '-sess_in',
      target.pem,
    ]);
    expect(full.stdout).toMatch(/^New, TLSv1\.2/m);
    await cli.stopAll();

    const again = await run(['remove', '--store', store, id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^tls-session-cache: no stored session has an id starting with/);
  });

  it('flush: refuses to run without a selector; --dry-run counts; selectors remove exactly their sessions', async () => {
    const db = join(dir, 'flush.db');
    const { live } = await fill(db);
    const store = `sqlite:${db}`;
    const count = async (): Promise<number> =>
      (await json<Listed[]>(['list', '--store', store])).length;

    const bare = await run(['flush', '--store', store]);
    expect(bare.code).toBe(1);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toMatch(/^tls-session-cache: flush: say what to remove: /);
    const mixed = await run(['flush', '--store', store, '--all', '--sni', 'a.example']);
    expect(mixed.code).toBe(1);
    expect(await count()).toBe(live);

    const dry = await run(['flush', '--store', store, '--sni', 'a.example', '--dry-run']);
    expect(dry).toMatchObject({ code: 0, stdout: 'would remove 3 sessions (dry run)\n' });
    expect(await count()).toBe(live);

    const sni = await json<Record<string, unknown>>([
      'flush',
      '--store',
      store,
      '--sni',
      'a.example',
    ]);
    expect(sni).toEqual({ dryRun: false, matched: 3, removed: 3, undecodable: 0 });
    expect(await count()).toBe(live - 3);

    const tenant = await run(['flush', '--store', store, '--tenant', 'acme']);
    expect(tenant).toMatchObject({ code: 0, stdout: 'removed 1 session\n' });
    const old = await run(['flush', '--store', store, '--older-than', '1h']);
    expect(old).toMatchObject({ code: 0, stdout: 'removed 1 session\n' });
    expect(await count()).toBe(live - 5);

    const expiredDry = await json<Record<string, unknown>>([
      'flush',
      '--store',
      store,
      '--expired',
      '--dry-run',
    ]);
    expect(expiredDry).toEqual({ dryRun: true, matched: 1, removed: 0 });
    const expired = await run(['flush', '--store', store, '--expired']);
    expect(expired).toMatchObject({ code: 0, stdout: 'removed 1 session\n' });
    const stats = await json<{ store: { entries: number; live: number } }>([
      'stats',
      '--store',
      store,
    ]);
    expect(stats.store.entries).toBe(stats.store.live);

    const all = await run(['flush', '--store', store, '--all']);
    expect(all).toMatchObject({ code: 0, stdout: `removed ${live - 5} sessions\n` });
    expect(await count()).toBe(0);
  });
});

describe('an encrypted SQLite store (serve --key-file)', () => {
  it('values read only with the keys: list marks them unreadable without, flush --sni skips them', async () => {
    const db = join(dir, 'encrypted.db');
    const keys = join(dir, 'keys');
    writeFileSync(keys, `k1:${'5a'.repeat(32)}\n`, { mode: 0o600 });
    const server = await cli.startServe([
      '--mode',
      'stateful',
      '--store',
      `sqlite:${db}`,
      '--key-file',
      keys,
    ]);
    const pem = join(dir, 'encrypted.pem');
    await cli.sClient(server.port, ['-tls1_2', '-servername', 'e.example', '-sess_out', pem]);
    await cli.stopAll();
    const secret = clientSecret(pem);
    const store = `sqlite:${db}`;

    const blind = await run(['list', '--store', store, '--json']);
    expect(blind.code).toBe(0);
    expect(JSON.parse(blind.stdout)).toEqual([
      expect.objectContaining({ protocol: null, sni: null, undecodable: 'CODEC_MISMATCH' }),
    ]);
    expect(blind.stderr).toBe('1 stored value could not be read (encrypted? give --key-file)\n');
    const skipped = await run(['flush', '--store', store, '--sni', 'e.example', '--json']);
    expect(JSON.parse(skipped.stdout)).toEqual({
      dryRun: false,
      matched: 0,
      removed: 0,
      undecodable: 1,
    });

    const seen = await json<Listed[]>(['list', '--store', store, '--key-file', keys]);
    expect(seen).toEqual([expect.objectContaining({ protocol: 'TLSv1.2', sni: 'e.example' })]);
    const shown = await run([
      'inspect',
      '--store',
      store,
      seen[0]!.id,
      '--key-file',
      keys,
      '--show-secrets',
    ]);
    expect(shown.stdout).toContain(`    Master-Key: ${secret}\n`);
    const wrongKeys = join(dir, 'wrong-keys');
    writeFileSync(wrongKeys, `k1:${'a5'.repeat(32)}\n`, { mode: 0o600 });
    const wrong = await run(['inspect', '--store', store, seen[0]!.id, '--key-file', wrongKeys]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /: its value could not be read with the keys of --key-file \(AUTHENTICATION_FAILED\)\n$/,
    );
    expect(wrong.stderr + wrong.stdout).not.toContain('a5a5');
    const removed = await run([
      'flush',
      '--store',
      store,
      '--sni',
      'e.example',
      '--key-file',
      keys,
    ]);
    expect(removed.stdout).toBe('removed 1 session\n');
  });
});

describe('operating commands: usage', () => {
  it.each([
    [
      ['list', '--store', 'memory'],
      /^tls-session-cache: --store: a memory store lives inside one server process/,
    ],
    [['list', '--store', 'sqlite:/nonexistent/x.db'], /^tls-session-cache: --store: no such file/],
    [['list', '--store', 'nonsense'], /^tls-session-cache: --store: unknown store/],
    [['list', '--store', 'sqlite:x.db', '--limit', 'many'], /^tls-session-cache: --limit: /],
    [
      ['list', '--store', 'sqlite:x.db', '--older-than', '10'],
      /^tls-session-cache: --older-than: /,
    ],
    [['list', '--store', 'sqlite:x.db', '--tenant', 'no spaces'], /^tls-session-cache: --tenant: /],
    [['list', '--store', 'sqlite:x.db', '--sni', 'a b'], /^tls-session-cache: --sni: /],
    [['stats'], /^tls-session-cache: stats: give --store/],
    [['stats', '--server', 'not a url'], /^tls-session-cache: --server: /],
    [
      ['flush', '--store', 'sqlite:x.db', '--expired', '--all'],
      /^tls-session-cache: --all: stands alone/,
    ],
    [['inspect', '--store', 'sqlite:x.db', 'g0'], /^tls-session-cache: ID: /],
  ])('%j exits 1 with one line on stderr', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it.each([
    [['list'], 'list', '--store: required (or set TLS_SESSION_CACHE_STORE)'],
    [['remove', '--store', 'sqlite:x.db'], 'remove', "missing required argument 'ids'"],
    [['list', '--store', 'sqlite:x.db', '--bogus'], 'list', "unknown option '--bogus'"],
    [['inspect', '--store', 'sqlite:x.db', 'a', 'b'], 'inspect', 'too many arguments'],
  ])('%j is a usage error: exit 2, one line and a hint', async (args, command, message) => {
    const env = { ...process.env };
    delete env.TLS_SESSION_CACHE_STORE;
    const result = await cli.runCli(args, env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      new RegExp(
        `^tls-session-cache: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\n]*\nrun 'tls-session-cache ${command} --help' for usage\n$`,
      ),
    );
  });

  it('a --key-file that cannot be used is one line naming the option', async () => {
    const db = join(dir, 'empty.db');
    const opened = await SqliteStore.open({
      path: db,
      checkpointIntervalMs: 0,
      sweepIntervalMs: 0,
    });
    await opened.close();
    const result = await run([
      'list',
      '--store',
      `sqlite:${db}`,
      '--key-file',
      join(dir, 'missing-keys'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tls-session-cache: --key-file: /);
  });

  it('--store may come from TLS_SESSION_CACHE_STORE', async () => {
    const db = join(dir, 'env.db');
    const opened = await SqliteStore.open({
      path: db,
      checkpointIntervalMs: 0,
      sweepIntervalMs: 0,
    });
    await opened.close();
    const previous = process.env.TLS_SESSION_CACHE_STORE;
    process.env.TLS_SESSION_CACHE_STORE = `sqlite:${db}`;
    try {
      const result = await run(['list', '--json']);
      expect(result).toMatchObject({ code: 0, stdout: '[]\n' });
    } finally {
      if (previous === undefined) delete process.env.TLS_SESSION_CACHE_STORE;
      else process.env.TLS_SESSION_CACHE_STORE = previous;
    }
  });

  it.each(['stats', 'list', 'inspect', 'flush', 'remove'])(
    '%s --help has examples and exit codes',
    async (command) => {
      const result = await run([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Examples:');
      expect(result.stdout).toContain(`$ tls-session-cache ${command} --store`);
      expect(result.stdout).toContain('Exit codes: 0 success; 1 failure');
      expect(result.stdout).toContain('--store <url>');
      expect(result.stdout).toContain('--key-file <path>');
      expect(result.stdout).toContain('--json');
    },
  );
});
