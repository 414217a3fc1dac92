// Every `--json` output of the CLI against its documentation: the TypeScript types in docs/cli.md
// ("JSON output") are extracted and the real output of each command — run as users run it, on a
// real SQLite store filled by real handshakes (the demo's, and openssl s_client's against serve) —
// is type-checked against them as an object literal, so a printed field the doc does not list, a
// listed field that is missing or a value of the wrong type fails. A deliberately undocumented
// field proves the check can fail.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliProcesses } from '../helpers/cli-processes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const cli = cliProcesses();
let dir: string;
/** Inside the repository, so that `import … from 'tls-session-cache'` resolves to this package. */
let checkDir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-json-shapes-'));
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  checkDir = mkdtempSync(join(ROOT, '.tmp', 'json-shapes-'));
});
afterAll(async () => {
  await cli.stopAll();
  rmSync(dir, { recursive: true, force: true });
  rmSync(checkDir, { recursive: true, force: true });
});

/** The `ts` code blocks of docs/cli.md's "JSON output" section, as one module. */
function documentedTypes(): string {
  const doc = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
  const section = doc.slice(doc.indexOf('\n## JSON output'));
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.join('\n');
}

/**
 * Type-checks `values` (each a JSON text) as fresh object literals of the documented types, so that
 * excess properties are errors too. Returns the compiler's messages, one line each.
 */
function check(values: Record<string, { type: string; json: string }>): string[] {
  const lines = [documentedTypes(), ''];
  for (const [name, { type, json }] of Object.entries(values)) {
    lines.push(`export const ${name}: ${type} = ${json};`);
  }
  const file = join(checkDir, `check-${Object.keys(values).join('-')}.ts`);
  writeFileSync(file, lines.join('\n'));
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (d.file === undefined || d.start === undefined) return text;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${d.file.fileName === file ? 'check' : d.file.fileName}:${line + 1}: ${text}`;
  });
}

/** Runs a command that must succeed and returns its stdout. */
async function stdout(args: string[]): Promise<string> {
  const result = await cli.runCli(args);
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

describe('--json outputs match docs/cli.md', () => {
  it('every command, on a store filled by real handshakes', async () => {
    const db = join(dir, 'sessions.db');
    const store = `sqlite:${db}`;
    const demo = await stdout(['demo', '--store', store, '--connections', '4', '--json']);

    const server = await cli.startServe([
      '--mode',
      'stateful',
      '--store',
      store,
      '--metrics-port',
      '0',
    ]);
    const pem = join(dir, 'session.pem');
    await cli.sClient(server.port, ['-tls1_2', '-sess_out', pem]);
    await cli.sClient(server.port, ['-tls1_2', '-sess_in', pem]);
    const metrics = /^metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics$/m.exec(server.stdout());
    expect(metrics).not.toBeNull();

    const decode = await stdout(['decode', pem]);
    const stats = await stdout(['stats', '--store', store, '--server', metrics![1]!, '--json']);
    const storeOnly = await stdout(['stats', '--store', store, '--json']);
    const list = await stdout(['list', '--store', store, '--json']);
    const listed = JSON.parse(list) as { id: string; namespace: string }[];
    expect(listed.length).toBeGreaterThan(1);
    const [first, second] = listed as [{ id: string; namespace: string }, { id: string }];
    const inspect = await stdout(['inspect', '--store', store, first.id, '--json']);
    const secrets = await stdout([
      'inspect',
      '--store',
      store,
      first.id,
      '--json',
      '--show-secrets',
    ]);
    const dryRun = await stdout([
      'flush',
      '--store',
      store,
      '--sni',
      'localhost',
      '--dry-run',
      '--json',
    ]);
    const removed = await stdout(['remove', '--store', store, second.id, '--json']);
    const flushed = await stdout(['flush', '--store', store, '--all', '--json']);

    expect(
      check({
        decode: { type: 'DecodeJson', json: decode },
        demo: { type: 'DemoJson', json: demo },
        stats: { type: 'StatsJson', json: stats },
        storeOnly: { type: 'StatsJson', json: storeOnly },
        list: { type: 'ListJson', json: list },
        inspect: { type: 'InspectJson', json: inspect },
        secrets: { type: 'InspectJson', json: secrets },
        dryRun: { type: 'RemovalJson', json: dryRun },
        removed: { type: 'RemovalJson', json: removed },
        flushed: { type: 'RemovalJson', json: flushed },
      }),
    ).toEqual([]);
    // The outputs are what they claim to be (not empty shells that would pass any type).
    expect(JSON.parse(stats)).toMatchObject({
      store: { kind: 'sqlite' },
      server: { url: `${metrics![1]}/metrics` },
    });
    expect(JSON.parse(storeOnly)).toMatchObject({ server: null });
    expect(JSON.parse(secrets).session.masterSecret).toMatch(/^[0-9A-F]+$/);
    expect(JSON.parse(dryRun)).toMatchObject({ dryRun: true, undecodable: 0 });
    expect(JSON.parse(removed)).toEqual({ dryRun: false, matched: 1, removed: 1 });
  });

  it('fails for a field the documentation does not list, or a missing one', () => {
    const extra = JSON.stringify({ dryRun: false, matched: 1, removed: 1, surprise: 2 });
    const missing = JSON.stringify({ dryRun: false, matched: 1 });
    const errors = check({
      extra: { type: 'RemovalJson', json: extra },
      missing: { type: 'RemovalJson', json: missing },
    });
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/'"surprise"' does not exist in type 'RemovalJson'/);
    expect(errors[1]).toMatch(/'removed' is missing/);
  });
});
