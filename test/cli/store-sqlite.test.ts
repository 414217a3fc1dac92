// `serve --store sqlite:FILE` as users run it: the built CLI in several processes on one SQLite
// file, resumed by the real openssl s_client. A session made on one process resumes on another,
// survives a restart, and a TLS 1.3 ticket offered to two processes at once resumes only once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliProcesses, stop, type Serving } from '../helpers/cli-processes.js';

const cli = cliProcesses();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-cli-sqlite-'));
});

afterEach(() => cli.stopAll());

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** `serve --store sqlite:FILE --session-id-context same`, once it is listening. */
function serve(file: string, tls: '1.2' | '1.3'): Promise<Serving> {
  return cli.startServe([
    '--mode',
    'stateful',
    '--store',
    `sqlite:${file}`,
    '--session-id-context',
    'same',
    '--tls',
    tls,
  ]);
}

/** `openssl s_client` with one HTTP request; its stdout. */
async function sClient(port: number, args: string[]): Promise<string> {
  return (await cli.sClient(port, args)).stdout;
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

describe.each([
  { tls: '1.2', flag: '-tls1_2', protocol: 'TLSv1.2' },
  { tls: '1.3', flag: '-tls1_3', protocol: 'TLSv1.3' },
] as const)('serve --store sqlite, TLS $tls', ({ tls, flag, protocol }) => {
  it('a session made on process A resumes on process B', async () => {
    const db = join(dir, `shared-${tls}.db`);
    const [a, b] = await Promise.all([serve(db, tls), serve(db, tls)]);
    const pem = join(dir, `a-${tls}.pem`);
    expect(reused(await sClient(a.port, [flag, '-sess_out', pem]), protocol)).toBe(false);
    expect(reused(await sClient(b.port, [flag, '-sess_in', pem]), protocol)).toBe(true);
    expect(a.stderr() + b.stderr()).toBe('');
  });

  it('a server restarted on the same file resumes a session from before the restart', async () => {
    const db = join(dir, `restart-${tls}.db`);
    const before = await serve(db, tls);
    const pem = join(dir, `restart-${tls}.pem`);
    expect(reused(await sClient(before.port, [flag, '-sess_out', pem]), protocol)).toBe(false);
    await stop(before.child);
    expect(before.child.exitCode).toBe(0);
    const after = await serve(db, tls);
    expect(reused(await sClient(after.port, [flag, '-sess_in', pem]), protocol)).toBe(true);
  });
});

describe('serve --store sqlite, TLS 1.3 single use across processes', () => {
  it('the same ticket offered to A and B at the same time resumes at most once', async () => {
    const db = join(dir, 'single-use.db');
    const [a, b] = await Promise.all([serve(db, '1.3'), serve(db, '1.3')]);
    const rounds = 6;
    let total = 0;
    for (let round = 0; round < rounds; round++) {
      const pem = join(dir, `ticket-${round}.pem`);
      // Alternate which process made the ticket, so that neither always has it in memory.
      const maker = round % 2 === 0 ? a : b;
      expect(reused(await sClient(maker.port, ['-tls1_3', '-sess_out', pem]), 'TLSv1.3')).toBe(
        false,
      );
      const outs = await Promise.all([
        sClient(a.port, ['-tls1_3', '-sess_in', pem]),
        sClient(b.port, ['-tls1_3', '-sess_in', pem]),
      ]);
      const resumed = outs.filter((out) => reused(out, 'TLSv1.3')).length;
      expect(resumed, `round ${round}`).toBeLessThanOrEqual(1);
      total += resumed;
    }
    // Not vacuous: the ticket did resume (once) in nearly every round.
    expect(total).toBeGreaterThanOrEqual(rounds - 1);
  });
});
