/**
 * `npm run outage`: the store fails under load, three ways (refused, blackholed, paused), and comes
 * back; see `lib/outage.ts`. Full size: 10 000 handshakes per outage at 100 concurrent connections.
 * Needs `redis-server` on PATH. Prints the measurements; exit status 1 if any requirement failed
 * (a handshake failed, a lookup waited longer than the deadline plus the event loop's own delay, the
 * breaker never opened, no write was dropped, or resumption did not return within 3 s).
 *
 * Options: --handshakes N (10000), --concurrency N (100), --kinds refused,blackholed,paused,
 * --json FILE (the reports).
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { say } from './lib/memory.js';
import {
  OUTAGE_KINDS,
  outageLines,
  outageProblems,
  runOutage,
  type OutageKind,
  type OutageReport,
} from './lib/outage.js';

const { values } = parseArgs({
  options: {
    handshakes: { type: 'string' },
    concurrency: { type: 'string' },
    kinds: { type: 'string' },
    json: { type: 'string' },
  },
});
const handshakes = Number(values.handshakes ?? 10_000);
const concurrency = Number(values.concurrency ?? 100);
const kinds = (values.kinds?.split(',') ?? OUTAGE_KINDS) as OutageKind[];
for (const kind of kinds) {
  if (!OUTAGE_KINDS.includes(kind)) throw new RangeError(`--kinds: unknown outage kind ${kind}`);
}

say(
  `outage: ${kinds.join(', ')}; ${handshakes} handshakes each at ${concurrency} concurrent connections`,
);
const reports: OutageReport[] = [];
let failed = false;
for (const kind of kinds) {
  const report = await runOutage(kind, { handshakes, concurrency, log: say });
  reports.push(report);
  for (const line of outageLines(report)) say(line);
  const problems = outageProblems(report, handshakes);
  for (const problem of problems) say(`FAIL: ${problem}`);
  failed ||= problems.length > 0;
}
if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(reports, null, 2)}\n`);
say(
  failed
    ? 'FAIL'
    : 'ok: every handshake completed, lookups bounded, breaker opened, resumption returned',
);
process.exitCode = failed ? 1 : 0;
