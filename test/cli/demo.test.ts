// `demo`, the README's main job, as users run it: the built CLI (`npm test` builds first).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { DemoReport } from '../../src/cli/commands/demo.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
});

async function runCli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  await new Promise((resolve) => child.once('close', resolve));
  return { code: child.exitCode, stdout, stderr };
}

describe('demo', () => {
  it('--json: both protocols resume, and the report has both medians and their ratio', async () => {
    const result = await runCli(['demo', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as DemoReport;
    expect(report.store).toBe('memory');
    // The demo states its mode (serve's default is tickets): every resumption is a cache hit below.
    expect(report.mode).toBe('stateful');
    expect(report.protocols.map((p) => p.protocol)).toEqual(['TLSv1.2', 'TLSv1.3']);
    for (const p of report.protocols) {
      expect(p.connections).toBe(40);
      expect(p.resumeAttempts).toBe(30);
      expect(p.resumed, p.protocol).toBeGreaterThan(0);
      expect(p.resumedPercent).toBe(Math.round((1000 * p.resumed) / p.resumeAttempts) / 10);
      // Which is faster is a benchmark's question (bench/handshake), not one a loaded machine
      // can answer reliably: the report must carry the numbers, not a particular order.
      expect(p.fullMedianMs).toBeGreaterThan(0);
      expect(p.resumedMedianMs).toBeGreaterThan(0);
      expect(p.speedup).toBeGreaterThan(0);
    }
    const resumed = report.protocols.reduce((n, p) => n + p.resumed, 0);
    // The server saw the same: every handshake of the demo, and every resumption, went through it.
    expect(report.attachment.handshakes).toBe(80);
    expect(report.attachment.resumed).toBe(resumed);
    expect(report.attachment.resumedTls13).toBe(report.protocols[1]?.resumed);
    expect(report.cache.hits).toBe(resumed);
    expect(report.cache.acceptGood).toBe(80);
    // Progress (plain lines, as stderr is not a terminal here) stays off stdout.
    expect(result.stderr).toMatch(/^demo TLSv1\.2: 40 connections, \d+ of 30 resumed$/m);
  });

  it('prints the table, then the statistics', async () => {
    const result = await runCli(['demo', '--connections', '8']);
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(
      /^protocol\s+connections\s+resumed\s+%\s+full median\s+resumed median\s+speed-up$/m,
    );
    expect(out).toMatch(
      /^TLSv1\.2\s+8\s+[1-6]\/6\s+\d+\.\d%\s+\d+\.\d\d ms\s+\d+\.\d\d ms\s+\d+\.\d\dx$/m,
    );
    expect(out).toMatch(
      /^TLSv1\.3\s+8\s+[1-6]\/6\s+\d+\.\d%\s+\d+\.\d\d ms\s+\d+\.\d\d ms\s+\d+\.\d\dx$/m,
    );
    expect(out).toContain('cache.stats()');
    expect(out).toMatch(/\bhits\s+\d+/);
    expect(out).toContain('attachment.stats()');
    expect(out).not.toMatch(/PRIVATE KEY/);
  });

  it('rejects a bad --connections with one line', async () => {
    const result = await runCli(['demo', '--connections', 'many']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^tls-session-cache: --connections: [^\n]*\n$/);
  });

  it('--help shows an example', async () => {
    const result = await runCli(['demo', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('$ tls-session-cache demo');
  });
});
