/**
 * The verdict and the printout of a {@link LeakRun}, shared by the script and the CI test.
 *
 * @module
 */
import type { LeakRun } from './leaks.js';
import { mib } from './memory.js';

/** Limits a leak run must stay within. */
export interface LeakLimits {
  /** Heap growth (after GC, cache emptied) allowed over the run, bytes. */
  maxHeapGrowth: number;
  /** Share of resumption attempts that must resume. */
  minResumeRate: number;
}

/** What is wrong with a run (empty when nothing is). */
export function leakProblems(r: LeakRun, limits: LeakLimits): string[] {
  const problems: string[] = [];
  const grown = Object.entries(r.resourceDiff).filter(([, [a, b]]) => b > a);
  if (grown.length > 0)
    problems.push(
      `more active resources after the run: ${JSON.stringify(Object.fromEntries(grown))}`,
    );
  if (r.after.connections !== 0)
    problems.push(`${r.after.connections} server connections still open`);
  const leftover = Object.keys(r.afterClose).filter((t) => /TCP|TLS|Timeout|Immediate/.test(t));
  if (leftover.length > 0) problems.push(`after close: ${JSON.stringify(r.afterClose)}`);
  if (r.heapGrowth > limits.maxHeapGrowth) {
    problems.push(`heap grew by ${mib(r.heapGrowth)} (limit ${mib(limits.maxHeapGrowth)})`);
  }
  if (r.load.errors > 0)
    problems.push(`${r.load.errors} client errors: ${r.load.errorSamples.join('; ')}`);
  if (r.serverClientErrors > 0)
    problems.push(`${r.serverClientErrors} server-side TLS client errors`);
  const attempts = r.load.attempts['TLSv1.2'] + r.load.attempts['TLSv1.3'];
  const resumed = r.load.resumed['TLSv1.2'] + r.load.resumed['TLSv1.3'];
  if (attempts > 0 && resumed / attempts < limits.minResumeRate) {
    problems.push(`only ${resumed} of ${attempts} resumption attempts resumed`);
  }
  return problems;
}

/** Human-readable lines. */
export function leakLines(r: LeakRun): string[] {
  const rate = (r.handshakes * 1000) / r.elapsedMs;
  const l = r.load;
  return [
    `${r.handshakes} handshakes in ${(r.elapsedMs / 1000).toFixed(1)} s (${Math.round(rate)}/s)`,
    `  TLS 1.2: ${l.full['TLSv1.2']} full, ${l.resumed['TLSv1.2']} resumed of ${l.attempts['TLSv1.2']} attempts`,
    `  TLS 1.3: ${l.full['TLSv1.3']} full, ${l.resumed['TLSv1.3']} resumed of ${l.attempts['TLSv1.3']} attempts`,
    `  client errors ${l.errors}, server TLS client errors ${r.serverClientErrors}`,
    `  cache: ${r.cache.number} sessions, hits ${r.cache.hits}, misses ${r.cache.misses}, cacheFull ${r.cache.cacheFull}`,
    `  attach: ${r.attachment.connections} connections, ${r.attachment.helloParsed} hellos parsed, ${r.attachment.resumed} resumed (${r.attachment.resumedTls13} TLS 1.3)`,
    `  active resources before ${JSON.stringify(r.before.resources)}, after ${JSON.stringify(r.after.resources)}, after close ${JSON.stringify(r.afterClose)}`,
    `  server connections before ${r.before.connections}, after ${r.after.connections}`,
    `  heapUsed after GC, cache emptied: before ${mib(r.before.memory.heapUsed)}, after ${mib(r.after.memory.heapUsed)} (${r.heapGrowth >= 0 ? '+' : ''}${(r.heapGrowth / 1024).toFixed(0)} KiB); with the cache full ${mib(r.withCache.heapUsed)}`,
    `  rss before ${mib(r.before.memory.rss)}, after ${mib(r.after.memory.rss)}`,
  ];
}
