/**
 * `npm run rotation`: ≥ 10 000 real handshakes across 2 server processes in tickets mode while the
 * shared ticket keys rotate every few seconds (see lib/rotation.ts). Prints the numbers; exits 1
 * if a handshake failed, if any key period's resumed fraction fell below 99 %, or if no ticket was
 * renewed. `--handshakes N --concurrency N --rotate-every-ms N --accept-for-ms N`.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { runRotation } from './lib/rotation.js';

/** One line of the report on stdout. */
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const { values } = parseArgs({
  options: {
    handshakes: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '16' },
    'rotate-every-ms': { type: 'string', default: '3000' },
    'accept-for-ms': { type: 'string' },
  },
});
const result = await runRotation({
  handshakes: Number(values.handshakes),
  concurrency: Number(values.concurrency),
  rotateEveryMs: Number(values['rotate-every-ms']),
  ...(values['accept-for-ms'] === undefined
    ? {}
    : { acceptForMs: Number(values['accept-for-ms']) }),
});
const pct = (a: number, b: number): string => (b === 0 ? '—' : `${((100 * a) / b).toFixed(2)} %`);
const sum = (
  key:
    | 'minted'
    | 'adopted'
    | 'renewed'
    | 'accepted'
    | 'issued'
    | 'unknownKey'
    | 'replaysRefused'
    | 'localKeys',
) => result.servers.reduce((total, s) => total + s[key], 0);
say(
  `handshakes ${result.handshakes} in ${(result.durationMs / 1000).toFixed(1)} s, 2 processes, ${result.rotations} rotations`,
);
say(`failed ${result.failed}${result.errors.length > 0 ? ` (${result.errors.join('; ')})` : ''}`);
say(
  `resumption attempts ${result.attempts}, resumed ${result.resumed} (${pct(result.resumed, result.attempts)})`,
);
say(
  'per key period: ' +
    result.periods.map((p) => `${pct(p.resumed, p.attempts)} of ${p.attempts}`).join(', '),
);
say(
  `servers: tickets issued ${sum('issued')}, accepted under the current key ${sum('accepted')}, renewed ${sum('renewed')}, unknown key ${sum('unknownKey')}, replays refused ${sum('replaysRefused')}; keys minted ${sum('minted')}, adopted ${sum('adopted')}, local ${sum('localKeys')}`,
);
const full = result.periods.filter((p) => p.attempts >= 20);
const worst = Math.min(...full.map((p) => p.resumed / p.attempts));
const ok = result.failed === 0 && worst >= 0.99 && sum('renewed') > 0;
say(ok ? 'OK' : 'FAILED');
process.exitCode = ok ? 0 : 1;
