/**
 * The README's performance section from one run (`npm run bench -- --markdown FILE`): how it was
 * measured, the chart, a compact table and the ratios against the targets — so that the README
 * shows numbers and a chart from the same run, and re-running refreshes both.
 *
 * @module
 */
import { modeLabel, ratiosTable } from './table.js';
import type { BenchResult } from './types.js';

const int = (n: number): string => Math.round(n).toLocaleString('en-US').replaceAll(',', ' ');
const fixed = (n: number | null, digits: number): string => (n === null ? '—' : n.toFixed(digits));

/** `chartPath`: the chart's path relative to the Markdown file that embeds the section. */
export function renderReadmeSection(result: BenchResult, chartPath: string): string {
  const m = result.meta;
  const rows = result.cases.map(
    (c) =>
      `| ${c.client === 'node' ? 'ours' : 's_time'} | ${c.label} | ${c.tls} | ${modeLabel(c)} | ` +
      `${int(c.handshakesPerSec)} | ${fixed(c.resumedFraction, 2)} | ${fixed(c.p50Ms, 2)} | ` +
      `${fixed(c.p99Ms, 2)} | ${int(c.serverCpuUsPerHandshake)} |`,
  );
  return [
    `**Handshakes** — \`${m.command}\`: ${m.cpus} shared cores (${m.cpuModel}), ${m.platform}, ` +
      `Node ${m.node} (OpenSSL ${m.nodeOpenssl}), \`openssl\` CLI ${m.opensslCli.split(' (')[0]}, ` +
      `${m.cert === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'} certificate, loopback; ${m.date.slice(0, 10)}. Every case gets a fresh server ` +
      `process; our Node load client runs in its own process with ${m.concurrency} concurrent ` +
      `connections, ${m.durationS} s per case after ${m.warmupS} s of warm-up; \`openssl s_time\` ` +
      `(one connection at a time) runs ${m.sTimeSeconds} s per case; the whole list runs ` +
      `${m.rounds} times in rotated order and every number is the median of the rounds ` +
      `(1-min load average ${m.loadAverageBefore.toFixed(1)} before, ` +
      `${m.loadAverageAfter.toFixed(1)} after).`,
    '',
    `![TLS handshakes per second and server CPU per handshake, per server and store](${chartPath})`,
    '',
    '| client | server | TLS | mode | handshakes/s | resumed | server p50 ms | server p99 ms | ' +
      'server CPU µs/handshake |',
    '|---|---|---|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    ratiosTable(result.ratios),
  ].join('\n');
}
