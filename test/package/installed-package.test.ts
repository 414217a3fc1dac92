// The package as users get it: `npm pack` of the built tree (`npm test` builds first), installed
// from the tarball into an empty project. Proves the install footprint (at most 5 packages besides
// itself, no install scripts, no dead source maps), that `npx tls-session-cache demo` resumes
// sessions from the installed package and from the clone, that import and require() both work,
// that strict TypeScript consumers (skipLibCheck off; nodenext, bundler and node10 resolution)
// compile without prom-client installed while the metrics entry alone needs it, and that publint
// and @arethetypeswrong/cli (profile esm-only: the package is ESM only) find nothing wrong.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');
/** npm and the type checkers are outside tools with no documented bound; generous but finite. */
const TOOL_TIMEOUT_MS = 180_000;
const MAX_DEPENDENCY_PACKAGES = 5;

let dir: string;
let project: string;
let tarball: string;
let installed: string;

async function sh(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return run(file, args, {
    cwd,
    env: { ...process.env, ...env },
    timeout: TOOL_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Exit code, stdout and stderr of a command that may fail. */
async function attempt(file: string, args: string[], cwd: string) {
  try {
    const { stdout, stderr } = await sh(file, args, cwd);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test builds first)');
  }
  dir = mkdtempSync(join(tmpdir(), 'tsc-package-'));
  // --ignore-scripts: the tree is built already; prepack would build it again.
  const packed = await sh(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', dir],
    ROOT,
  );
  const [info] = JSON.parse(packed.stdout) as [{ filename: string }];
  tarball = join(dir, info.filename);
  project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
  );
  await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
  installed = join(project, 'node_modules', 'tls-session-cache');
}, TOOL_TIMEOUT_MS);

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('the installed package', () => {
  it(
    `adds at most ${MAX_DEPENDENCY_PACKAGES} packages besides itself`,
    async () => {
      const { stdout } = await sh('npm', ['ls', '--all', '--parseable'], project);
      const packages = stdout
        .trim()
        .split('\n')
        .slice(1) // the consumer project itself
        .map((path) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
        .filter((name) => name !== 'tls-session-cache');
      const { stdout: du } = await sh('du', ['-sk', join(project, 'node_modules')], project);
      console.log(
        `installed: tls-session-cache + ${packages.length} (${packages.join(', ')}), ` +
          `${(Number(du.split('\t')[0]) / 1024).toFixed(1)} MB in node_modules`,
      );
      expect(packages.length).toBeLessThanOrEqual(MAX_DEPENDENCY_PACKAGES);
    },
    TOOL_TIMEOUT_MS,
  );

  it(
    'ships its licence and changelog, no source maps and no install scripts',
    async () => {
      const { stdout } = await sh('tar', ['-tzf', tarball], dir);
      const files = stdout.trim().split('\n');
      expect(files).toEqual(
        expect.arrayContaining(['package/LICENSE', 'package/CHANGELOG.md', 'package/README.md']),
      );
      expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
      const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
        scripts?: Record<string, string>;
      };
      for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) {
        expect(manifest.scripts?.[hook], hook).toBeUndefined();
      }
      expect(readFileSync(join(installed, 'dist', 'index.js'), 'utf8')).not.toContain(
        'sourceMappingURL',
      );
    },
    TOOL_TIMEOUT_MS,
  );

  it(
    'has only absolute links in its README, which the registry page shows',
    () => {
      const readme = readFileSync(join(installed, 'README.md'), 'utf8');
      const targets = [...readme.matchAll(/\]\(([^)\s]+)[^)]*\)/g)].map((m) => m[1]!);
      expect(targets.length).toBeGreaterThan(0);
      expect(targets.filter((t) => !/^(https?:\/\/|#|mailto:)/.test(t))).toEqual([]);
    },
    TOOL_TIMEOUT_MS,
  );

  it(
    'runs `npx tls-session-cache demo`, which resumes both protocols',
    async () => {
      const { stdout } = await sh(
        'npx',
        ['--no-install', 'tls-session-cache', 'demo', '--json', '--connections', '8'],
        project,
      );
      const report = JSON.parse(stdout) as { protocols: { protocol: string; resumed: number }[] };
      expect(report.protocols.map((p) => p.protocol)).toEqual(['TLSv1.2', 'TLSv1.3']);
      for (const p of report.protocols) expect(p.resumed, p.protocol).toBeGreaterThan(0);
    },
    TOOL_TIMEOUT_MS,
  );

  it(
    'runs `npx tls-session-cache demo` from the clone too',
    async () => {
      const { stdout } = await sh(
        'npx',
        ['--no-install', 'tls-session-cache', 'demo', '--json', '--connections', '8'],
        ROOT,
      );
      const report = JSON.parse(stdout) as { protocols: { resumed: number }[] };
      for (const p of report.protocols) expect(p.resumed).toBeGreaterThan(0);
    },
    TOOL_TIMEOUT_MS,
  );

  it(
    'is imported and required (require of ESM, Node ^20.19 || >=22.12) by its entries',
    async () => {
      const script = [
        "const main = require('tls-session-cache');",
        "const client = require('tls-session-cache/client');",
        "const testing = require('tls-session-cache/testing');",
        'console.log(typeof main.SessionCache, typeof client.ClientSessionCache, typeof testing.runStoreConformance);',
      ].join('\n');
      const required = await sh(process.execPath, ['--input-type=commonjs', '-e', script], project);
      expect(required.stdout.trim()).toBe('function function function');
      const imported = await sh(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "import { SessionCache } from 'tls-session-cache'; import * as m from 'tls-session-cache/metrics'; console.log(typeof SessionCache, 'createMetrics' in (await import('tls-session-cache')));\n" +
            'try { m.createMetrics({ cache: new SessionCache() }); } catch (e) { console.log(e.message); }',
        ],
        project,
      );
      expect(imported.stdout.trim().split('\n')).toEqual([
        'function false',
        'createMetrics needs the optional dependency prom-client: npm install prom-client',
      ]);
    },
    TOOL_TIMEOUT_MS,
  );
});

describe('strict TypeScript consumers without prom-client installed', () => {
  const CONSUMER = `import { SessionCache, MemoryStore, attach, storeCallbacks, statefulServerOptions } from 'tls-session-cache';
import type { SessionStore, SessionCacheOptions } from 'tls-session-cache';
import { ClientSessionCache } from 'tls-session-cache/client';
import { runStoreConformance } from 'tls-session-cache/testing';
import https from 'node:https';

const store: SessionStore = new MemoryStore();
const adapter = storeCallbacks(store);
const options: SessionCacheOptions = { ...adapter.callbacks };
const server = https.createServer({ ...statefulServerOptions({ sessionIdContext: 'api' }) });
attach(server, new SessionCache(options));
export const clients = new ClientSessionCache();
export const conformance: typeof runStoreConformance = runStoreConformance;
`;
  const METRICS_CONSUMER = `import { createMetrics } from 'tls-session-cache/metrics';
export const metrics = createMetrics;
`;

  function consumer(
    name: string,
    compilerOptions: Record<string, unknown>,
    source: string,
  ): string {
    const at = join(project, name);
    mkdirSync(at);
    // The consumer's own @types/node (a real project installs it).
    mkdirSync(join(at, 'node_modules', '@types'), { recursive: true });
    symlinkSync(
      join(ROOT, 'node_modules', '@types', 'node'),
      join(at, 'node_modules', '@types', 'node'),
    );
    writeFileSync(join(at, 'consumer.ts'), source);
    writeFileSync(
      join(at, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          target: 'ES2022',
          types: ['node'],
          ...compilerOptions,
        },
        files: ['consumer.ts'],
      }),
    );
    return at;
  }

  const tsc = (at: string) =>
    attempt(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', at],
      at,
    );

  it(
    'compiles under nodenext, where prom-client is missing only to tls-session-cache/metrics',
    async () => {
      // One program with both files (a second would check @types/node again): the main, client and
      // testing entries compile; the metrics entry alone reports prom-client missing.
      const at = consumer(
        'ts-nodenext',
        { module: 'nodenext', moduleResolution: 'nodenext' },
        CONSUMER,
      );
      writeFileSync(join(at, 'metrics-consumer.ts'), METRICS_CONSUMER);
      const tsconfig = JSON.parse(readFileSync(join(at, 'tsconfig.json'), 'utf8')) as {
        files: string[];
      };
      tsconfig.files.push('metrics-consumer.ts');
      writeFileSync(join(at, 'tsconfig.json'), JSON.stringify(tsconfig));
      const result = await tsc(at);
      const errors = result.stdout.trim().split('\n');
      expect(errors.length).toBeGreaterThan(0);
      for (const line of errors) {
        expect(line).toMatch(
          /^\.\.\/node_modules\/tls-session-cache\/dist\/metrics\/[a-z-]+\.d\.ts\(\d+,\d+\): error TS2307: Cannot find module 'prom-client'/,
        );
      }
    },
    TOOL_TIMEOUT_MS,
  );

  it(
    'compiles under moduleResolution bundler',
    async () => {
      const result = await tsc(
        consumer('ts-bundler', { module: 'esnext', moduleResolution: 'bundler' }, CONSUMER),
      );
      expect(result.stdout + result.stderr).toBe('');
      expect(result.code).toBe(0);
    },
    TOOL_TIMEOUT_MS,
  );
});

describe('package linters', () => {
  it(
    'publint --strict finds nothing',
    async () => {
      const result = await attempt(
        join(BIN, 'publint'),
        [installed, '--strict', '--pack', 'false'],
        dir,
      );
      expect(result.stdout).toContain('All good!');
      expect(result.code).toBe(0);
    },
    TOOL_TIMEOUT_MS,
  );

  it(
    '@arethetypeswrong/cli (profile esm-only) finds no problem',
    async () => {
      const result = await attempt(
        join(BIN, 'attw'),
        [tarball, '--profile', 'esm-only', '--format', 'json'],
        dir,
      );
      const report = JSON.parse(result.stdout) as {
        analysis: { problems: { kind: string; resolutionKind?: string }[] };
      };
      // The exit code applies the profile; the report lists every problem, ignored ones too.
      expect(result.code).toBe(0);
      // What the profile ignores is only the ESM-only choice (require from CommonJS under node16
      // resolution); node10 (typesVersions) resolves every entry too.
      for (const problem of report.analysis.problems) {
        expect(problem).toMatchObject({ kind: 'CJSResolvesToESM', resolutionKind: 'node16-cjs' });
      }
    },
    TOOL_TIMEOUT_MS,
  );
});
