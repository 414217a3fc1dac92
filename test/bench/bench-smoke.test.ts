// CI's check of `npm run bench`: the smoke variant (four cases — our client against attach + memory,
// a bare Map and openssl s_server, and s_time against s_server — one round of 0.3 s) runs to the
// end and writes a result that matches its schema and a chart. Benchmarks are never timed tests:
// nothing here looks at a speed, only at whether every part ran and resumption happened at all.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchResultSchema, validate } from '../../bench/report/schema.js';
import type { BenchResult } from '../../bench/report/types.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-bench-smoke-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function runBench(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // `npm run bench -- --smoke …` without npm's own start-up and warnings.
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench -- --smoke', () => {
  it('runs every kind of case and writes valid JSON and an SVG chart', async () => {
    const jsonFile = join(dir, 'bench.json');
    const chartFile = join(dir, 'bench.svg');
    const run = await runBench(['--smoke', '--json', jsonFile, '--chart', chartFile]);
    expect(run.stderr).not.toMatch(/Error:/);
    expect(run.code).toBe(0);

    const result = JSON.parse(readFileSync(jsonFile, 'utf8')) as BenchResult;
    expect(validate(benchResultSchema, result)).toEqual([]);
    expect(result.cases.map((c) => c.id).sort()).toEqual([
      'attach-memory/TLSv1.2/resumed',
      'attach-redis-external/TLSv1.3/resumed',
      'map/TLSv1.2/resumed',
      's_server/TLSv1.2/resumed',
      's_time:s_server/TLSv1.2/resumed',
    ]);
    for (const c of result.cases) {
      expect(c.handshakesPerSec, c.id).toBeGreaterThan(0);
      // Resumption works in every configuration (a functional check; the share is not a speed).
      expect(c.resumedFraction, c.id).toBeGreaterThan(0.5);
    }
    expect(result.ratios.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'memory ÷ bare Map, TLS 1.2 resumed',
        'memory ÷ s_server, TLS 1.2 resumed (our client drives both)',
      ]),
    );
    // The terminal report: the table and the ratios with their targets.
    expect(run.stdout).toContain('| client | server | store | TLS | mode | handshakes/s');
    expect(run.stdout).toContain('≥ 0.95');

    const svg = readFileSync(chartFile, 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('attach + memory');
  });
});
