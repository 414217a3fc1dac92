/**
 * `npm run soak:handshakes`: 50 000 real handshakes (TLS 1.2 and 1.3, full and resumed, 8
 * concurrent clients) against a `tls.Server` from `openSessionCache()` (the engine's cache alone), then checks that
 * nothing leaked: the same active handles and requests as before, no open server connections, and
 * the heap (after GC, cache emptied) back where it was. A few minutes on 2 cores.
 *
 * Options: --handshakes N (default 50000), --concurrency N (8), --max-heap-growth-mib N (4).
 * Exit status 1 on a leak.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { leakLines, leakProblems } from './lib/leak-report.js';
import { leakRun } from './lib/leaks.js';
import { say } from './lib/memory.js';

const { values } = parseArgs({
  options: {
    handshakes: { type: 'string' },
    concurrency: { type: 'string' },
    'max-heap-growth-mib': { type: 'string' },
  },
});
const total = Number(values.handshakes ?? 50_000);
const concurrency = Number(values.concurrency ?? 8);
const maxHeapGrowth = Number(values['max-heap-growth-mib'] ?? 4) * 1024 * 1024;

say(`soak:handshakes: ${total} handshakes, ${concurrency} concurrent clients`);
const run = await leakRun(total, {
  concurrency,
  progress: (done, stats) => say(`  … ${done} handshakes, ${stats.errors} errors`),
});
for (const line of leakLines(run)) say(line);
const problems = leakProblems(run, { maxHeapGrowth, minResumeRate: 0.99 });
for (const p of problems) say(`LEAK/FAILURE: ${p}`);
say(problems.length === 0 ? 'ok: no leaked sockets, timers or heap' : 'FAIL');
process.exitCode = problems.length === 0 ? 0 : 1;
