// Proves that the documentation cannot drift from what runs: every ```ts/```js block of README.md
// and of every docs/**/*.md is identical to a marked region of a file under examples/ (which
// `npm test` type-checks, and test/docs/examples.test.ts runs against real servers), and every
// ```sh block is run exactly as printed — in a fresh directory where `npx tls-session-cache`
// is this checkout's built CLI, inside a private network namespace (`unshare -rn`) so that the
// fixed ports the docs print (8443, 9464, …) are free — and must succeed. Blocks that cannot run
// here (network installs, the test suite itself) are listed below with the reason. Output samples
// are ```text and are not run; a block without a language is an error. Links between the docs
// (relative, or absolute to the GitHub repository) must name a file and heading that exist.
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { blocksOf, docFiles, exampleRegions, ROOT, type DocBlock } from './doc-blocks.js';
import { seedOperatingStore } from './operating-seed.js';

const CODE_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);
const SHELL_LANGS = new Set(['sh', 'bash', 'shell']);
/** Blocks that are shown, never run: output samples and file contents. */
const SHOWN_LANGS = new Set(['text', 'json', 'yaml', 'ini', 'diff']);

/** How a shell block is checked when "runs and exits 0" is not all, or not possible. */
type ShellCheck =
  | { skip: string }
  | {
      /** Must match the block's combined stdout. */
      expect?: RegExp;
      /** Prepares the directory before the block runs. */
      setup?: (dir: string) => Promise<void>;
    };

/**
 * The table of shell blocks that need more than "runs and exits 0", keyed by the block's exact
 * text. Keep the skips few: each is a command the docs print that no test runs.
 */
const SHELL_CHECKS = new Map<string, ShellCheck>([
  [
    'npm install tls-session-cache\n',
    { skip: 'needs the registry (network); the packed package is installed by the packaging test' },
  ],
  [
    'npm install better-sqlite3   # for sqlite: stores\nnpm install ioredis          # for redis://, rediss://, redis+cluster:// stores\nnpm install prom-client      # for tls-session-cache/metrics\n',
    { skip: 'needs the registry (network); the stores and metrics tests use these packages' },
  ],
  [
    'npm install && npm run demo   # build, then a demo: full vs resumed handshakes, TLS 1.2 and 1.3\nnpm test                      # build, type-check, lint, every test\n',
    { skip: 'npm install needs the registry, npm test is the run this test is part of' },
  ],
  [
    'npm install ioredis        # optional dependency, loaded only when a RedisStore is created\nnpx tls-session-cache serve --mode stateful --store redis://127.0.0.1:6379 --session-id-context my-api\n',
    { skip: 'needs the registry (network), and serve runs in the foreground (docs/redis.md)' },
  ],
  [
    'npx tls-session-cache serve --port 8443 &\nsleep 1 | openssl s_client -connect 127.0.0.1:8443 -tls1_3 -sess_out s.pem\nopenssl s_client -connect 127.0.0.1:8443 -tls1_3 -sess_in s.pem < /dev/null | grep Reused\n',
    { expect: /^Reused, TLSv1\.3/m },
  ],
  [
    'umask 077; printf \'%s:%s\\n\' "$(date +%Y-%m)" "$(openssl rand -base64 32)" > session-keys\nnpx tls-session-cache serve --mode tickets --store sqlite:sessions.db --key-file session-keys --port 8443 &\nnpx tls-session-cache serve --mode tickets --store sqlite:sessions.db --key-file session-keys --port 8444 &\nsleep 1 | openssl s_client -connect 127.0.0.1:8443 -tls1_3 -sess_out s.pem\nopenssl s_client -connect 127.0.0.1:8444 -tls1_3 -sess_in s.pem < /dev/null | grep Reused\n',
    { expect: /^Reused, TLSv1\.3/m },
  ],
  [
    'umask 077; printf \'%s:%s\\n\' "$(date +%Y-%m)" "$(openssl rand -base64 32)" > session-keys\n',
    { expect: /^$/ },
  ],
  [
    "export TLS_SESSION_CACHE_STORE=sqlite:sessions.db\nnpx tls-session-cache serve --mode stateful --store sqlite:sessions.db --port 8443 --metrics-port 9464 &\nnpx tls-session-cache stats                          # entries, bytes, oldest/newest, by protocol, SNI, tenant\nnpx tls-session-cache stats --server http://127.0.0.1:9464   # plus a running serve's counters\nnpx tls-session-cache list --sni api.example.com --limit 20  # one row per session, never a secret\nnpx tls-session-cache inspect 7a97c3d1e2f3a4b5       # one session, like openssl sess_id -text\nnpx tls-session-cache remove 7a97c3d1e2f3a4b5        # revoke one (or several) by id\nnpx tls-session-cache flush --tenant acme --dry-run  # how many would go\nnpx tls-session-cache flush --all                    # after a key compromise\n",
    { expect: /^7a97c3d1e2f3a4b5/m },
  ],
  [
    'npm run build                              # the tests run the built CLI\nnpx vitest run test/clients/matrix.test.ts # 1\u20133 minutes; needs the clients below\nnpm run matrix                             # prints the table above\n',
    {
      skip: 'contributor commands in a clone: the build and test/clients/matrix.test.ts are part of npm test; npm run matrix needs the clients of .ci/run (docs/clients.md)',
    },
  ],
]);

/** Hidden per-block preparation registered by docs whose commands need a store with sessions. */
const OPERATING_BLOCK_PREFIX = 'export TLS_SESSION_CACHE_STORE=sqlite:sessions.db\n';

const docs = docFiles();
const blocks: DocBlock[] = docs.flatMap((file) => blocksOf(file));
const where = (block: DocBlock): string => `${block.file}:${block.line}`;

describe('documentation code blocks', () => {
  it('finds the README and the docs, with blocks in them', () => {
    expect(docs).toContain('README.md');
    expect(blocks.filter((block) => CODE_LANGS.has(block.lang)).length).toBeGreaterThan(5);
    expect(blocks.filter((block) => SHELL_LANGS.has(block.lang)).length).toBeGreaterThan(2);
  });

  it('gives every block a language (```text for output samples)', () => {
    const unknown = blocks
      .filter(
        (b) => !CODE_LANGS.has(b.lang) && !SHELL_LANGS.has(b.lang) && !SHOWN_LANGS.has(b.lang),
      )
      .map((b) => `${where(b)} (${b.lang === '' ? 'no language' : b.lang})`);
    expect(unknown).toEqual([]);
  });

  const regions = exampleRegions();
  const byCode = new Map(regions.map((region) => [region.code, region]));
  for (const block of blocks.filter((b) => CODE_LANGS.has(b.lang))) {
    it(`${where(block)} is a region of an example under examples/`, () => {
      const region = byCode.get(block.code);
      if (region === undefined) {
        const first = block.code.split('\n').find((line) => line.trim() !== '') ?? '';
        const near = regions.find((r) => r.code.includes(first));
        expect.fail(
          `${where(block)}: no examples/ file has this block as a region (// #region NAME … ` +
            `// #endregion NAME, or the whole file).` +
            (near === undefined
              ? ''
              : ` Closest: ${near.file} (#region ${near.name}) — it differs.`),
        );
      }
    });
  }
});

describe('documentation links', () => {
  const headingsOf = (file: string): Set<string> => {
    const text = readFileSync(join(ROOT, file), 'utf8').replace(/^(```|~~~)[\s\S]*?^\1/gm, '');
    const slugs = new Set<string>();
    const seen = new Map<string, number>();
    for (const match of text.matchAll(/^#{1,6} (.+)$/gm)) {
      const base = (match[1] ?? '')
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-');
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      slugs.add(count === 0 ? base : `${base}-${count}`);
    }
    return slugs;
  };
  const GITHUB = 'https://github.com/tls-session-cache/tls-session-cache/blob/main/';
  for (const file of docs) {
    it(`${file}: every link to the docs names a file and heading that exist`, () => {
      const text = readFileSync(join(ROOT, file), 'utf8').replace(/^(```|~~~)[\s\S]*?^\1/gm, '');
      const broken: string[] = [];
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        let target = match[1] ?? '';
        if (target.startsWith(GITHUB)) target = target.slice(GITHUB.length);
        else if (/^[a-z]+:/.test(target))
          continue; // other sites
        else target = target.startsWith('#') ? target : normalize(join(dirname(file), target));
        const [path = '', anchor] = target.split('#');
        const targetFile = path === '' ? file : path;
        if (!existsSync(join(ROOT, targetFile))) {
          broken.push(`${match[1]} (no file ${targetFile})`);
        } else if (
          anchor !== undefined &&
          targetFile.endsWith('.md') &&
          !headingsOf(targetFile).has(anchor)
        ) {
          broken.push(`${match[1]} (no heading #${anchor} in ${targetFile})`);
        }
      }
      expect(broken).toEqual([]);
    });
  }
});

describe('documentation shell blocks, run as printed', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterAll(() => pki.cleanup());

  it('every entry of the checks table still matches a block (a drifted one would run unchecked)', () => {
    const shell = new Set(blocks.filter((b) => SHELL_LANGS.has(b.lang)).map((b) => b.code));
    expect([...SHELL_CHECKS.keys()].filter((code) => !shell.has(code))).toEqual([]);
  });

  for (const block of blocks.filter((b) => SHELL_LANGS.has(b.lang))) {
    const check = SHELL_CHECKS.get(block.code) ?? {};
    if ('skip' in check) {
      it.skip(`${where(block)}: ${check.skip}`, () => undefined);
      continue;
    }
    it(`${where(block)} runs and succeeds`, async () => {
      const dir = sandbox(pki);
      try {
        if (block.code.startsWith(OPERATING_BLOCK_PREFIX)) await seedOperatingStore(dir);
        await check.setup?.(dir);
        const result = await runBlock(block.code, dir);
        expect(result.code, `${where(block)} failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
        if (check.expect !== undefined) expect(result.stdout).toMatch(check.expect);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

/**
 * A fresh directory as a user's project after `npm install tls-session-cache`: `npx
 * tls-session-cache` runs this checkout's built CLI (`npm test` builds first), and a certificate
 * for `localhost` is there as key.pem / cert.pem.
 */
function sandbox(pki: TestPki): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-docs-sh-'));
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'tls-session-cache'));
  const bin = join(dir, 'node_modules', '.bin', 'tls-session-cache');
  writeFileSync(
    bin,
    `#!/bin/sh\nexec node ${JSON.stringify(join(ROOT, 'dist/cli/main.js'))} "$@"\n`,
  );
  chmodSync(bin, 0o755);
  writeFileSync(join(dir, 'key.pem'), pki.serverKey);
  writeFileSync(join(dir, 'cert.pem'), pki.serverCert);
  writeFileSync(join(dir, 'package.json'), '{ "name": "docs-sandbox", "private": true }\n');
  return dir;
}

/**
 * Runs a block with bash (`set -e`), line by line as printed. A line that ends with `&` starts a
 * server: its output goes to a log, and the next line waits until it printed `listening on` (as a
 * person waits for the line before typing on) or it exited. Background jobs are stopped at the end.
 */
function runBlock(
  code: string,
  dir: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const lines = code
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '');
  const script = [
    'set -e',
    // The namespace's loopback starts down (iproute2's `ip`).
    'ip link set lo up',
    // Stops the servers the block started, keeping the block's own exit status.
    "trap 'status=$?; jobs -p | xargs -r kill 2>/dev/null; wait; exit $status' EXIT",
  ];
  lines.forEach((line, index) => {
    const background = /[^&]&\s*(#.*)?$/.exec(line);
    if (background === null) {
      script.push(line);
      return;
    }
    const command = line.slice(0, background.index + 1);
    const log = `.background-${index}.log`;
    script.push(
      `${command} > ${log} 2>&1 &`,
      `until grep -q 'listening on' ${log}; do kill -0 $! 2>/dev/null || { cat ${log} >&2; exit 1; }; sleep 0.1; done`,
    );
  });
  const path = join(dir, '.block.sh');
  writeFileSync(path, `${script.join('\n')}\n`);
  return new Promise((resolve, reject) => {
    // Own network namespace (ports as printed, no clash with anything else) and own pid namespace
    // with bash as its init: when bash exits, the kernel ends every process left in it. The trap
    // alone stopped `npx` but not the server npx had started, which outlived the test (one
    // orphaned `serve` per run, found after a stressed run).
    const child = spawn('unshare', ['-rn', '--pid', '--fork', '--kill-child', 'bash', path], {
      cwd: dir,
      env: {
        ...process.env,
        HOME: dir,
        npm_config_offline: 'true',
        npm_config_update_notifier: 'false',
        npm_config_fund: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ code: exitCode, stdout, stderr }));
  });
}
