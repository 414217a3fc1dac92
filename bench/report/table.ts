/**
 * The benchmark's tables as Markdown: readable on a terminal, and pasted as is into the README.
 *
 * @module
 */
import type { BenchResult, CaseResult, RatioResult } from './types.js';

const int = (n: number): string => Math.round(n).toLocaleString('en-US').replaceAll(',', ' ');
const fixed = (n: number | null, digits: number): string => (n === null ? '—' : n.toFixed(digits));

export function modeLabel(c: CaseResult): string {
  return c.ticketReuse ? 'resumed (tickets reused)' : c.mode;
}

/** One row per case. */
export function casesTable(cases: readonly CaseResult[]): string {
  const lines = [
    '| client | server | store | TLS | mode | handshakes/s | spread | resumed | server p50 ms | ' +
      'server p99 ms | server CPU µs/hs | server CPU cores | server ELU | client ELU | ' +
      'client-bound | errors |',
    '|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const c of cases) {
    lines.push(
      `| ${c.client === 'node' ? 'ours' : 's_time'} | ${c.server} | ${c.store} | ${c.tls} | ` +
        `${modeLabel(c)} | ${int(c.handshakesPerSec)} | ${fixed(c.spread * 100, 0)}% | ` +
        `${fixed(c.resumedFraction, 3)} | ${fixed(c.p50Ms, 2)} | ${fixed(c.p99Ms, 2)} | ` +
        `${int(c.serverCpuUsPerHandshake)} | ${fixed(c.serverCpuShare ?? null, 2)} | ` +
        `${fixed(c.serverElu, 2)} | ${fixed(c.clientElu, 2)} | ${c.clientBound === true ? 'yes' : 'no'} | ` +
        `${c.errors} |`,
    );
  }
  return lines.join('\n');
}

function check(value: number, target: number | null, met: boolean | null): string {
  if (target === null || met === null) return `${value.toFixed(2)}×`;
  return `${value.toFixed(2)}× ${met ? '✓' : '✗'}`;
}

/** One row per ratio, with the issue's target and ✓/✗. */
export function ratiosTable(ratios: readonly RatioResult[]): string {
  const lines = [
    '| ratio | handshakes/s | target | server capacity (1/CPU) | note |',
    '|---|---:|---:|---:|---|',
  ];
  for (const r of ratios) {
    lines.push(
      `| ${r.name} | ${check(r.handshakesPerSec, r.target, r.met)} | ` +
        `${r.target === null ? '—' : `≥ ${r.target}`} | ` +
        `${check(r.serverCapacity, r.target, r.capacityMet)} | ${r.note} |`,
    );
  }
  return lines.join('\n');
}

/** The header line that says how the numbers were measured. */
export function describeRun(result: BenchResult): string {
  const m = result.meta;
  return (
    `TLS handshake benchmark (${m.command}): median of ${m.rounds} round(s); our client ` +
    `${m.durationS} s per case after ${m.warmupS} s warm-up, ${m.concurrency} connections; ` +
    `s_time ${m.sTimeSeconds} s per case. Node ${m.node} (OpenSSL ${m.nodeOpenssl}), ` +
    `${m.opensslCli}, ${m.cpus} × ${m.cpuModel || 'CPU'}, ${m.platform}; ` +
    `${m.elapsedS.toFixed(0)} s in all; 1-min load average ${m.loadAverageBefore.toFixed(2)} ` +
    `before, ${m.loadAverageAfter.toFixed(2)} after.`
  );
}

/** Everything: header, cases, ratios, notes. */
export function renderReport(result: BenchResult): string {
  return [
    describeRun(result),
    '',
    casesTable(result.cases),
    '',
    ratiosTable(result.ratios),
    '',
    'Notes:',
    ...result.notes.map((n) => `- ${n}`),
  ].join('\n');
}
