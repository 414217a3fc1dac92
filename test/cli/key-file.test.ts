// `serve --key-file` / `demo --key-file` / TLS_SESSION_CACHE_KEYS as users run them (the built CLI):
// a bad key source is one line on stderr naming the option and the line, with no key text, and
// exit 1; a loose key file is a warning, not a refusal; demo resumes through an encrypted store.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { DemoReport } from '../../src/cli/commands/demo.js';
import { KEYS_ENV_VAR } from '../../src/stores/encryption/index.js';
import { cliProcesses } from '../helpers/cli-processes.js';

const cli = cliProcesses();
const dir = mkdtempSync(join(tmpdir(), 'tsc-cli-keys-'));
afterEach(() => cli.stopAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = randomBytes(32);
/** This process's environment without the keys variable, plus `extra`. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!(KEYS_ENV_VAR in extra)) delete out[KEYS_ENV_VAR];
  return out;
}

function file(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode });
  return path;
}

describe('--key-file and TLS_SESSION_CACHE_KEYS', () => {
  it('a bad key file or variable: exit 1, one line naming the option, no key text', async () => {
    const short = KEY.subarray(0, 31).toString('hex');
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [
        ['serve', '--port', '0', '--key-file', file('short', `# k\nk1:${short}\n`)],
        env(),
        /^tls-session-cache: --key-file: \S+short line 2 \(key id "k1"\): key must be 32 bytes as 64 hex digits or 43-44 base64 characters, got a string of length 62\n$/,
      ],
      [
        ['serve', '--port', '0', '--key-file', join(dir, 'missing')],
        env(),
        /^tls-session-cache: --key-file: \S+missing: cannot read it \(ENOENT\)\n$/,
      ],
      [
        ['serve', '--port', '0', '--key-file', file('empty', '# none yet\n')],
        env(),
        /^tls-session-cache: --key-file: \S+empty holds no key\n$/,
      ],
      [
        ['serve', '--port', '0'],
        env({ [KEYS_ENV_VAR]: `k1:${KEY.toString('base64')},k1:${KEY.toString('hex')}` }),
        /^tls-session-cache: TLS_SESSION_CACHE_KEYS\[1\]: duplicate key id "k1"\n$/,
      ],
      [
        ['demo', '--key-file', file('dup', `a:${KEY.toString('hex')}\nb:${short}\n`)],
        env(),
        /^tls-session-cache: --key-file: \S+dup line 2 \(key id "b"\): key must be/,
      ],
    ];
    for (const [args, environment, message] of cases) {
      const result = await cli.runCli(args, environment);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
      for (const form of [KEY.toString('hex'), KEY.toString('base64'), short]) {
        expect(result.stderr).not.toContain(form.slice(0, 16));
      }
    }
  });

  it('a key file open to others: serve warns on stderr, and still serves encrypted', async () => {
    const loose = file('loose', `k1:${KEY.toString('base64')}\n`, 0o644);
    const serving = await cli.startServe(['--key-file', loose], env());
    // The warning is written before listening, but stderr and stdout are separate pipes.
    for (let i = 0; i < 500 && !serving.stderr().includes('\n'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(serving.stderr()).toMatch(
      /\[TLS_SESSION_CACHE_KEY_FILE_MODE\] Warning: keyFile \S+loose is open to group or others \(mode 0644\)/,
    );
    expect(serving.stderr()).not.toContain(KEY.toString('base64'));
    expect(serving.stdout()).toMatch(/^listening on https:\/\/127\.0\.0\.1:\d+\n$/);
  });

  it('demo --key-file on SQLite: sealed, resumed, no decode error', async () => {
    const keys = file('demo-keys', `demo:${KEY.toString('hex')}\n`);
    const result = await cli.runCli(
      [
        'demo',
        '--json',
        '--connections',
        '8',
        '--store',
        `sqlite:${join(dir, 'demo.db')}`,
        '--key-file',
        keys,
      ],
      env(),
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as DemoReport;
    expect(report.encryption).toBe('aes-256-gcm');
    expect(report.protocols.every((p) => p.resumed === p.resumeAttempts)).toBe(true);
    expect(report.storeAdapter.decodeErrors).toBe(0);
    expect(result.stdout).not.toContain(KEY.toString('hex'));
  });
});
