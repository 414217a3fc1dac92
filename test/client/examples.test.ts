// Runs the README's client examples exactly as written (examples/client/*.mjs, plain `node`, the
// package imported by its name, so from dist/) against our CLI's `serve`, over TLS 1.3 and TLS 1.2,
// and checks resumption as the server judged it (its response says `resumed: yes|no`, from the
// server's own `isSessionReused()`):
// - tls-connect.mjs, run as two separate processes with a fresh HOME: the first creates
//   ~/.cache/my-cli (missing) and its SQLite file, the second resumes from it;
// - https-agent.mjs and undici.mjs: the second request, on a new connection, resumes.
// Then what `cache.connect()` promises: it resolves once the connection is secure (a process
// that closes the socket at once exits cleanly — before, TLS 1.2 died on an unhandled
// ECONNRESET), and rejects with the TLS error when the handshake fails.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientSessionCache } from '../../src/client/client-session-cache.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { cliProcesses, exitOf } from '../helpers/cli-processes.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/client/', import.meta.url));
const CLIENT_ENTRY = fileURLToPath(new URL('../../dist/client/entry.js', import.meta.url));

let pki: TestPki;
let dir: string;
const processes = cliProcesses();

beforeAll(() => {
  if (!existsSync(CLIENT_ENTRY))
    throw new Error('run `npm run build` first: the examples use dist/');
  pki = makeTestPki();
  dir = mkdtempSync(join(tmpdir(), 'tsc-examples-'));
});
afterAll(() => {
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => processes.stopAll());

/** Runs `node file` with `env` added; resolves with its exit and output. */
async function run(
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = processes.track(
    spawn(process.execPath, [file], {
      cwd: join(EXAMPLES, '..', '..'),
      env: { ...process.env, NODE_EXTRA_CA_CERTS: pki.files.caCert, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = await exitOf(child);
  return { code: exit.code, stdout, stderr };
}

/** The `resumed: …` lines of serve's response bodies, in order. */
function resumedLines(stdout: string): string[] {
  return stdout.match(/^resumed: (yes|no)$/gm) ?? [];
}

describe.each([
  ['1.3', 'TLSv1.3'],
  ['1.2', 'TLSv1.2'],
] as const)('the README client examples against serve --tls %s', (tls, protocol) => {
  const serve = () =>
    processes.startServe([
      '--tls',
      tls,
      '--cert',
      pki.files.serverCert,
      '--key',
      pki.files.serverKey,
    ]);

  it('tls-connect.mjs: a second process resumes from the SQLite file the first created', async () => {
    const serving = await serve();
    const home = join(dir, `home-${tls}`);
    mkdirSync(home); // with no .cache in it: the example's directory is missing
    const env = { HOME: home, API_URL: `https://127.0.0.1:${serving.port}/` };
    const first = await run(join(EXAMPLES, 'tls-connect.mjs'), env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`protocol: ${protocol}`);
    expect(resumedLines(first.stdout)).toEqual(['resumed: no']);
    expect(statSync(join(home, '.cache', 'my-cli', 'tls-sessions.db')).isFile()).toBe(true);
    const second = await run(join(EXAMPLES, 'tls-connect.mjs'), env);
    expect(second.code, second.stderr).toBe(0);
    expect(resumedLines(second.stdout)).toEqual(['resumed: yes']);
  });

  it.each(['https-agent.mjs', 'undici.mjs'])(
    '%s: the second request, on a new connection, resumes',
    async (example) => {
      const serving = await serve();
      const result = await run(join(EXAMPLES, example), {
        API_URL: `https://127.0.0.1:${serving.port}/`,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`protocol: ${protocol}`);
      expect(resumedLines(result.stdout)).toEqual(['resumed: no', 'resumed: yes']);
    },
  );
});

describe('ClientSessionCache.connect()', () => {
  it('resolves once secure: a TLS 1.2 process that ends the socket at once exits cleanly', async () => {
    const serving = await processes.startServe([
      '--tls',
      '1.2',
      '--cert',
      pki.files.serverCert,
      '--key',
      pki.files.serverKey,
    ]);
    // No error listener, as in the README: before the fix, connect() resolved before the
    // handshake, end() cut it short, and the process died on an unhandled ECONNRESET.
    const script = join(dir, 'end-at-once.mjs');
    writeFileSync(
      script,
      `import { ClientSessionCache } from ${JSON.stringify(CLIENT_ENTRY)};
       const cache = new ClientSessionCache();
       const socket = await cache.connect({ host: '127.0.0.1', port: ${serving.port}, maxVersion: 'TLSv1.2' });
       console.log(JSON.stringify({ protocol: socket.getProtocol(), authorized: socket.authorized }));
       socket.end();
       await cache.close();`,
    );
    for (let i = 0; i < 3; i++) {
      const result = await run(script, {});
      expect(result.stderr).not.toMatch(/ECONNRESET|Unhandled/);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ protocol: 'TLSv1.2', authorized: true });
    }
  });

  it('rejects with the TLS error when the handshake fails, leaving nothing open', async () => {
    const serving = await processes.startServe([
      '--cert',
      pki.files.serverCert,
      '--key',
      pki.files.serverKey,
    ]);
    const cache = new ClientSessionCache();
    try {
      // No CA given in this process: the certificate does not verify.
      await expect(
        cache.connect({ host: '127.0.0.1', port: serving.port, servername: 'localhost' }),
      ).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      // A name the certificate does not hold: the identity check fails.
      await expect(
        cache.connect({
          host: '127.0.0.1',
          port: serving.port,
          servername: 'wrong.invalid',
          ca: pki.caCert,
        }),
      ).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
      expect(cache.stats().resumed).toBe(0);
    } finally {
      await cache.close();
    }
  });
});
