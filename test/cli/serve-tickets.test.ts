// `serve --mode tickets` as users run it: two processes of the built CLI sharing ticket keys only
// through a SQLite file or a real redis-server (sealed with --key-file), resumed by the real
// openssl s_client (-sess_out on one process, -sess_in on the other), TLS 1.2 and TLS 1.3. A TLS
// 1.3 ticket resumes once across the two; TLS 1.2 clients without ticket support (-no_ticket) still
// resume session ids through the store; a shared store without --key-file is refused.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  SHARED_STORE_LOOKUP_DEADLINE,
  cliProcesses,
  type Serving,
} from '../helpers/cli-processes.js';
import { skipWithoutRedis, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { randomBytes } from 'node:crypto';

const cli = cliProcesses();
let dir: string;
let keyFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-cli-tickets-'));
  keyFile = join(dir, 'keys');
  // Random, not a pattern: the leak scan looks for every key in all output (see the front-door test).
  writeFileSync(keyFile, `k1:${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
});
afterEach(() => cli.stopAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serve(store: string, tls: '1.2' | '1.3', extra: string[] = []): Promise<Serving> {
  return cli.startServe([
    '--mode',
    'tickets',
    '--store',
    store,
    '--key-file',
    keyFile,
    '--session-id-context',
    'same',
    '--tls',
    tls,
    ...SHARED_STORE_LOOKUP_DEADLINE,
    ...extra,
  ]);
}

const reused = (out: string, protocol: string): boolean => {
  const escaped = protocol.replace('.', '\\.');
  if (new RegExp(`^Reused, ${escaped}, Cipher`, 'm').test(out)) {
    expect(out).toMatch(/^resumed: yes$/m);
    return true;
  }
  expect(out).toMatch(new RegExp(`^New, ${escaped}, Cipher`, 'm'));
  expect(out).toMatch(/^resumed: no$/m);
  return false;
};

const sClient = async (port: number, args: string[]): Promise<string> =>
  (await cli.sClient(port, args)).stdout;

const NO_REDIS = skipWithoutRedis('serve --mode tickets on Redis');
let redis: RedisServer | undefined;
afterAll(async () => redis?.stop());

const stores = [
  { name: 'sqlite', url: () => `sqlite:${join(dir, 'shared.db')}`, skip: false },
  { name: 'redis', url: () => redis!.url, skip: NO_REDIS },
];

describe.each(stores)('serve --mode tickets --store $name', ({ name, url, skip }) => {
  beforeAll(async () => {
    if (name === 'redis' && !skip) redis ??= await startRedis();
  });

  it.skipIf(skip).each([
    { tls: '1.2', flag: '-tls1_2', protocol: 'TLSv1.2' },
    { tls: '1.3', flag: '-tls1_3', protocol: 'TLSv1.3' },
  ] as const)(
    'a ticket made on process A resumes on process B, TLS $tls',
    async ({ tls, flag, protocol }) => {
      const [a, b] = await Promise.all([serve(url(), tls), serve(url(), tls)]);
      const pem = join(dir, `${name}-${tls}.pem`);
      expect(reused(await sClient(a.port, [flag, '-sess_out', pem]), protocol)).toBe(false);
      expect(reused(await sClient(b.port, [flag, '-sess_in', pem]), protocol)).toBe(true);
      if (tls === '1.3') {
        // Single use: the same ticket again, on either process, is a full handshake.
        expect(reused(await sClient(a.port, [flag, '-sess_in', pem]), protocol)).toBe(false);
        expect(reused(await sClient(b.port, [flag, '-sess_in', pem]), protocol)).toBe(false);
      } else {
        // TLS 1.2 tickets are reusable (RFC 5077).
        expect(reused(await sClient(a.port, [flag, '-sess_in', pem]), protocol)).toBe(true);
      }
    },
  );

  it.skipIf(skip)(
    'a TLS 1.2 client without ticket support resumes its session id on the other process',
    async () => {
      const [a, b] = await Promise.all([serve(url(), '1.2'), serve(url(), '1.2')]);
      const pem = join(dir, `${name}-noticket.pem`);
      expect(
        reused(await sClient(a.port, ['-tls1_2', '-no_ticket', '-sess_out', pem]), 'TLSv1.2'),
      ).toBe(false);
      expect(
        reused(await sClient(b.port, ['-tls1_2', '-no_ticket', '-sess_in', pem]), 'TLSv1.2'),
      ).toBe(true);
    },
  );
});

describe('serve --mode tickets: options', () => {
  it('refuses a shared store without --key-file, and ticket flags in stateful mode', async () => {
    const env = { ...process.env };
    delete env.TLS_SESSION_CACHE_KEYS;
    const noKeys = await cli.runCli(
      ['serve', '--port', '0', '--mode', 'tickets', '--store', `sqlite:${join(dir, 'x.db')}`],
      env,
    );
    expect(noKeys.code).toBe(1);
    expect(noKeys.stderr).toMatch(
      /--mode: tickets \(the default\) with a shared store needs --key-file/,
    );
    const flags = await cli.runCli([
      'serve',
      '--port',
      '0',
      '--mode',
      'stateful',
      '--rotate-every',
      '60',
    ]);
    expect(flags.code).toBe(1);
    expect(flags.stderr).toMatch(/--rotate-every: only with --mode tickets/);
    const mode = await cli.runCli(['serve', '--port', '0', '--mode', 'stateless']);
    expect(mode.stderr).toMatch(/--mode: must be one of stateful, tickets/);
  });
});

// s_client prints the ticket it was given in its session block ("TLS session ticket:"); stateful
// mode sets SSL_OP_NO_TICKET, so a TLS 1.2 session there has none.
const gotTicket = (out: string): boolean => /^ {4}TLS session ticket:$/m.test(out);

describe('serve without --mode: tickets is the default', () => {
  const noKeysEnv = (): NodeJS.ProcessEnv => {
    const env = { ...process.env };
    delete env.TLS_SESSION_CACHE_KEYS;
    return env;
  };

  it('memory store, no key file: a TLS 1.2 client gets a ticket and resumes with it', async () => {
    const served = await cli.startServe(['--tls', '1.2'], noKeysEnv());
    const pem = join(dir, 'default-memory.pem');
    const first = await sClient(served.port, ['-tls1_2', '-sess_out', pem]);
    expect(reused(first, 'TLSv1.2')).toBe(false);
    expect(gotTicket(first)).toBe(true);
    expect(reused(await sClient(served.port, ['-tls1_2', '-sess_in', pem]), 'TLSv1.2')).toBe(true);
    const stateful = await cli.startServe(['--mode', 'stateful', '--tls', '1.2'], noKeysEnv());
    expect(gotTicket(await sClient(stateful.port, ['-tls1_2']))).toBe(false);
  });

  it('SQLite with --key-file: a TLS 1.2 ticket made on A resumes on B', async () => {
    const store = `sqlite:${join(dir, 'default.db')}`;
    const args = ['--store', store, '--key-file', keyFile, '--session-id-context', 'same'];
    const [a, b] = await Promise.all([
      cli.startServe([...args, '--tls', '1.2']),
      cli.startServe([...args, '--tls', '1.2']),
    ]);
    const pem = join(dir, 'default-sqlite.pem');
    const first = await sClient(a.port, ['-tls1_2', '-sess_out', pem]);
    expect(gotTicket(first)).toBe(true);
    expect(reused(await sClient(b.port, ['-tls1_2', '-sess_in', pem]), 'TLSv1.2')).toBe(true);
  });

  it('a shared store without a keyring is one line naming both fixes, exit code 1', async () => {
    const result = await cli.runCli(
      ['serve', '--port', '0', '--store', `sqlite:${join(dir, 'refused.db')}`],
      noKeysEnv(),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'tls-session-cache: --mode: tickets (the default) with a shared store needs --key-file (or TLS_SESSION_CACHE_KEYS) to seal the ticket keys in it; or choose --mode stateful\n',
    );
  });

  it('--mode stateful with a shared store and no keyring still serves, and resumes across processes', async () => {
    const store = `sqlite:${join(dir, 'stateful-plain.db')}`;
    const args = ['--mode', 'stateful', '--store', store, '--session-id-context', 'same'];
    const [a, b] = await Promise.all([
      cli.startServe([...args, '--tls', '1.2'], noKeysEnv()),
      cli.startServe([...args, '--tls', '1.2'], noKeysEnv()),
    ]);
    const pem = join(dir, 'stateful-plain.pem');
    const first = await sClient(a.port, ['-tls1_2', '-sess_out', pem]);
    expect(gotTicket(first)).toBe(false);
    expect(reused(await sClient(b.port, ['-tls1_2', '-sess_in', pem]), 'TLSv1.2')).toBe(true);
  });
});
