// `serve` as users run it: the built CLI (`npm test` builds first) in a subprocess, resumed by the
// real openssl s_client and by Node's https client, stopped by signals.
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLOSE_GRACE_MS } from '../../src/cli/https-server.js';
import { generateSelfSigned } from '../../src/cli/self-signed.js';
import { DEFAULT_HELLO_TIMEOUT_MS } from '../../src/index.js';
import { cliProcesses } from '../helpers/cli-processes.js';
import { settlesWithin } from '../helpers/settles.js';

const cli = cliProcesses();
const { startServe, runCli, sClient } = cli;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-cli-serve-'));
});

afterEach(() => cli.stopAll());

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  body: string;
  reused: boolean;
  protocol: string | null;
}

/** One GET through `agent`; `reused`/`protocol` are what the client saw. */
function get(
  port: number,
  agent: https.Agent,
  options: https.RequestOptions = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let reused = false;
    let protocol: string | null = null;
    const req = https.get(
      { host: '127.0.0.1', port, path: '/', agent, rejectUnauthorized: false, ...options },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ body, reused, protocol }));
      },
    );
    req.on('socket', (socket) => {
      socket.once('secureConnect', () => {
        reused = (socket as tls.TLSSocket).isSessionReused();
        protocol = (socket as tls.TLSSocket).getProtocol();
      });
    });
    req.on('error', reject);
  });
}

function expectOneLineError(stderr: string, prefix: string): void {
  expect(stderr.startsWith(prefix), stderr).toBe(true);
  expect(stderr.split('\n'), stderr).toHaveLength(2);
  expect(stderr.endsWith('\n')).toBe(true);
}

describe.each([
  { tls: '1.2', flag: '-tls1_2', protocol: 'TLSv1.2' },
  { tls: '1.3', flag: '-tls1_3', protocol: 'TLSv1.3' },
] as const)('serve --tls $tls', ({ tls: version, flag, protocol }) => {
  it('prints exactly one line, then openssl s_client resumes with -sess_out/-sess_in', async () => {
    const served = await startServe(['--tls', version]);
    const file = join(dir, `session-${version}.pem`);
    const first = await sClient(served.port, [flag, '-sess_out', file]);
    expect(first.stdout).toMatch(new RegExp(`^New, ${protocol.replace('.', '\\.')}, Cipher`, 'm'));
    expect(first.stdout).toMatch(/^ok\nprotocol: .*\nresumed: no$/m);
    const second = await sClient(served.port, [flag, '-sess_in', file]);
    expect(second.stdout).toMatch(
      new RegExp(`^Reused, ${protocol.replace('.', '\\.')}, Cipher`, 'm'),
    );
    expect(second.stdout).toMatch(new RegExp(`^ok\\nprotocol: ${protocol}\\nresumed: yes$`, 'm'));
    expect(served.stdout()).toBe(`listening on https://127.0.0.1:${served.port}\n`);
    expect(served.stderr()).toBe('');
  });

  it("Node's https.Agent (keepAlive off) resumes from the second request on", async () => {
    const served = await startServe(['--tls', version]);
    const agent = new https.Agent({ keepAlive: false });
    try {
      const answers: Answer[] = [];
      for (let i = 0; i < 3; i++) answers.push(await get(served.port, agent));
      expect(answers.map((a) => a.protocol)).toEqual([protocol, protocol, protocol]);
      expect(answers.map((a) => a.reused)).toEqual([false, true, true]);
      expect(answers.map((a) => /^resumed: (yes|no)$/m.exec(a.body)?.[1])).toEqual([
        'no',
        'yes',
        'yes',
      ]);
    } finally {
      agent.destroy();
    }
  });
});

describe('serve --tls both', () => {
  it('resumes TLS 1.2 and TLS 1.3 clients side by side', async () => {
    const served = await startServe([]);
    for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
      const agent = new https.Agent({ keepAlive: false });
      try {
        const first = await get(served.port, agent, { maxVersion });
        const second = await get(served.port, agent, { maxVersion });
        expect([first.protocol, second.protocol]).toEqual([maxVersion, maxVersion]);
        expect([first.reused, second.reused]).toEqual([false, true]);
      } finally {
        agent.destroy();
      }
    }
  });

  it('honours --tenant, --session-id-context and --timeout', async () => {
    const served = await startServe([
      '--tenant',
      'team-a',
      '--session-id-context',
      'api',
      '--timeout',
      '60',
    ]);
    const agent = new https.Agent({ keepAlive: false });
    try {
      await get(served.port, agent);
      expect((await get(served.port, agent)).reused).toBe(true);
    } finally {
      agent.destroy();
    }
  });
});

describe('serve: stopping', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s with an idle keep-alive connection exits 0 promptly',
    async (signal) => {
      const served = await startServe([]);
      const agent = new https.Agent({ keepAlive: true });
      try {
        await get(served.port, agent);
        served.child.kill(signal);
        // Idle connections close at once: the exit comes before the grace period (after which
        // whatever is left is destroyed) could have run out, timed by a yardstick (settles.ts).
        expect(await settlesWithin(served.exited, DEFAULT_CLOSE_GRACE_MS)).toBe(true);
        expect(await served.exited).toEqual({ code: 0, signal: null });
        expect(served.stdout()).toBe(`listening on https://127.0.0.1:${served.port}\n`);
        expect(served.stderr()).toBe('');
      } finally {
        agent.destroy();
      }
    },
  );

  it('SIGTERM does not wait for a connection that never sent its ClientHello', async () => {
    const served = await startServe([]);
    const socket = net.connect(served.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    try {
      served.child.kill('SIGTERM');
      // Within the grace period, not after the hello reader's own timeout: the exit comes before a
      // yardstick of DEFAULT_HELLO_TIMEOUT_MS started with the signal (settles.ts).
      expect(await settlesWithin(served.exited, DEFAULT_HELLO_TIMEOUT_MS)).toBe(true);
      expect(await served.exited).toEqual({ code: 0, signal: null });
    } finally {
      socket.destroy();
    }
  });
});

describe('serve: invalid options', () => {
  it.each([
    [['--store', 'sqlite:'], 'tls-session-cache: --store: '],
    // A path under a regular file: no directory can be made there (a missing directory is created).
    [['--mode', 'stateful', '--store', 'sqlite:/etc/passwd/x.db'], 'tls-session-cache: --store: '],
    // A Redis that cannot be reached stops serve only with --require-store (else it serves
    // without it; test/cli/redis-serve.test.ts).
    [
      ['--mode', 'stateful', '--store', 'redis://user:secret@localhost:6379', '--require-store'],
      'tls-session-cache: --store: ',
    ],
    [['--store', 'redis+sentinel://user:secret@localhost:26379'], 'tls-session-cache: --store: '],
    [['--store', 'nonsense'], 'tls-session-cache: --store: '],
    [['--port', 'abc'], 'tls-session-cache: --port: '],
    [['--port', '65536'], 'tls-session-cache: --port: '],
    [['--port', '1.5'], 'tls-session-cache: --port: '],
    [['--tls', '1.1'], 'tls-session-cache: --tls: '],
    [['--timeout', '0'], 'tls-session-cache: --timeout: '],
    [['--lookup-deadline', '0'], 'tls-session-cache: --lookup-deadline: '],
    [['--lookup-deadline', '60001'], 'tls-session-cache: --lookup-deadline: '],
    [['--tenant', 'no spaces'], 'tls-session-cache: --tenant: '],
    [['--session-id-context', 'x'.repeat(33)], 'tls-session-cache: --session-id-context: '],
    [['--cert', 'cert.pem'], 'tls-session-cache: --cert: '],
    [
      ['--cert', '/nonexistent/c.pem', '--key', '/nonexistent/k.pem'],
      'tls-session-cache: --cert: ',
    ],
  ])('%j exits 1 with one line on stderr', async (args, prefix) => {
    const result = await runCli(['serve', ...args]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expectOneLineError(result.stderr, prefix);
    expect(result.stderr).not.toContain('secret');
  });

  it('a bad --cert or --key is one line naming the option, never the file contents', async () => {
    const a = await generateSelfSigned();
    const b = await generateSelfSigned();
    const file = (name: string, text: string): string => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const certA = file('a-cert.pem', a.cert);
    const keyA = file('a-key.pem', a.key);
    const keyB = file('b-key.pem', b.key);
    const garbage = file('garbage.pem', 'not PEM at all\n');
    const encrypted = file(
      'encrypted-key.pem',
      createPrivateKey(a.key)
        .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
        .toString(),
    );
    const cases: [string[], string][] = [
      [['--cert', garbage, '--key', keyA], '--cert: not a certificate'],
      [['--cert', keyA, '--key', certA], '--cert: not a certificate'],
      [['--cert', certA, '--key', garbage], '--key: not a private key'],
      [['--cert', certA, '--key', keyB], "--key: not the private key of --cert's certificate"],
      [['--cert', certA, '--key', encrypted], '--key: the private key is encrypted'],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['serve', '--port', '0', ...args]);
      expect(result.code, message).toBe(1);
      expect(result.stdout).toBe('');
      expectOneLineError(result.stderr, `tls-session-cache: ${message}`);
      for (const pem of [a.key, b.key, a.cert]) {
        expect(result.stderr).not.toContain(pem.split('\n')[1]);
      }
    }
  });

  it('a port in use exits 1 with one line', async () => {
    const served = await startServe([]);
    const result = await runCli(['serve', '--port', String(served.port)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expectOneLineError(result.stderr, 'tls-session-cache: serve: ');
    expect(result.stderr).toContain('EADDRINUSE');
  });

  it('--help shows an example', async () => {
    const result = await runCli(['serve', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain('tls-session-cache serve --port 0');
  });
});
