// The operating commands against a real redis-server (with a password, given through
// TLS_SESSION_CACHE_STORE so that it is never on a command line), filled by a real `serve --store
// redis://…` and openssl s_client: list, stats, inspect, remove and flush over SCAN/GET/DEL.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeSession } from '../../src/session/decode.js';
import { cliProcesses } from '../helpers/cli-processes.js';
import { eventually } from '../helpers/eventually.js';
import { skipWithoutRedis, startRedis, type RedisServer } from '../helpers/redis-server.js';

const NO_REDIS = skipWithoutRedis('the operating commands over Redis');
const PASSWORD = 'op-pw-3c9f1e';
const cli = cliProcesses();

interface Listed {
  id: string;
  protocol: string;
  sni: string | null;
  tenant: string;
}

describe.skipIf(NO_REDIS)('operating a Redis store filled by real handshakes', () => {
  let redis: RedisServer;
  let dir: string;
  let previousEnv: string | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsc-operating-redis-'));
    redis = await startRedis({ password: PASSWORD });
    previousEnv = process.env.TLS_SESSION_CACHE_STORE;
    process.env.TLS_SESSION_CACHE_STORE = `redis://:${PASSWORD}@127.0.0.1:${redis.port}`;
  });
  afterEach(() => cli.stopAll());
  afterAll(async () => {
    if (previousEnv === undefined) delete process.env.TLS_SESSION_CACHE_STORE;
    else process.env.TLS_SESSION_CACHE_STORE = previousEnv;
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (args: string[]) => {
    const result = await cli.runCli(args);
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    return result;
  };
  const json = async <T>(args: string[]): Promise<T> => {
    const result = await run([...args, '--json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    return JSON.parse(result.stdout) as T;
  };

  it('list, stats, inspect, remove and flush see and revoke what the servers stored', async () => {
    const server = await cli.startServe([
      '--mode',
      'stateful',
      '--store',
      process.env.TLS_SESSION_CACHE_STORE!,
      '--tenant',
      'acme',
    ]);
    const pems: string[] = [];
    for (const [flag, sni] of [
      ['-tls1_2', 'a.example'],
      ['-tls1_3', 'a.example'],
      ['-tls1_2', 'b.example'],
    ] as const) {
      const pem = join(dir, `${flag}-${sni}.pem`);
      await cli.sClient(server.port, [flag, '-servername', sni, '-sess_out', pem]);
      pems.push(pem);
    }
    // 1 + 2 tickets + 1 sessions, written in the background.
    await eventually(
      async () => (await json<Listed[]>(['list'])).length >= 4,
      'the sessions reaching Redis',
      { everyMs: 50 },
    );
    await cli.stopAll();

    const listed = await json<Listed[]>(['list']);
    expect(listed.map((s) => `${s.tenant} ${s.protocol} ${s.sni}`).sort()).toEqual([
      'acme TLSv1.2 a.example',
      'acme TLSv1.2 b.example',
      'acme TLSv1.3 a.example',
      'acme TLSv1.3 a.example',
    ]);
    const stats = await json<{ store: Record<string, unknown> }>(['stats']);
    expect(stats.store).toMatchObject({
      kind: 'redis',
      entries: 4,
      live: 4,
      bySni: { 'a.example': 3, 'b.example': 1 },
      byTenant: { acme: 4 },
    });

    const sessions = pems.map((pem) => decodeSession(readFileSync(pem, 'utf8')));
    const secrets = sessions.map((s) => s.masterSecret().toString('hex').toUpperCase());
    const first = sessions[0]!.sessionId.toString('hex');
    const inspected = await run(['inspect', first.slice(0, 10)]);
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toMatch(/^ {4}Master-Key: \[redacted/m);
    expect(inspected.stdout).toMatch(/^ {4}Tenant {4}: acme$/m);
    const outputs = [JSON.stringify(listed), JSON.stringify(stats), inspected.stdout];
    for (const secret of secrets) for (const out of outputs) expect(out).not.toContain(secret);
    const shown = await run(['inspect', first, '--show-secrets']);
    expect(shown.stdout).toContain(`    Master-Key: ${secrets[0]}\n`);

    expect(await json(['remove', first, '--dry-run'])).toEqual({
      dryRun: true,
      matched: 1,
      removed: 0,
    });
    expect(await json(['remove', first])).toEqual({ dryRun: false, matched: 1, removed: 1 });
    expect(await redis.cli('DBSIZE')).toBe('3');

    // Redis drops each key at its deadline: nothing is ever left for --expired.
    expect((await run(['flush', '--expired'])).stdout).toBe('removed 0 sessions\n');
    expect((await run(['flush', '--sni', 'a.example', '--dry-run'])).stdout).toBe(
      'would remove 2 sessions (dry run)\n',
    );
    expect((await run(['flush', '--sni', 'a.example'])).stdout).toBe('removed 2 sessions\n');
    expect(await json<Listed[]>(['list'])).toHaveLength(1);
    expect((await run(['flush', '--all'])).stdout).toBe('removed 1 session\n');
    expect(await redis.cli('DBSIZE')).toBe('0');
  });

  it('a Redis that refuses the password is one line without the password, exit code 1', async () => {
    const result = await run([
      'list',
      '--store',
      `redis://:wrong-${PASSWORD}@127.0.0.1:${redis.port}`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^tls-session-cache: --store: .*(WRONGPASS|invalid username-password)/,
    );
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
