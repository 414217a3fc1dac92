// CI-sized version of `npm run soak:handshakes` (50 000): 2 000 real handshakes, TLS 1.2 and 1.3,
// full and resumed, 8 concurrent clients, against a tls.Server with attach() and a SessionCache.
// Afterwards the same handles and requests are active as before, no connection is open, and the
// heap (after GC, cache emptied) is back within a few MiB. No timing assertions.
import { describe, expect, it } from 'vitest';
import { leakLines, leakProblems } from '../../scripts/lib/leak-report.js';
import { leakRun } from '../../scripts/lib/leaks.js';

describe('handshake run leaks nothing', () => {
  it('2 000 mixed handshakes leave no sockets, timers or heap behind', async () => {
    const run = await leakRun(Number(process.env.LEAK_HANDSHAKES ?? 2_000));
    console.log(leakLines(run).join('\n'));
    expect(leakProblems(run, { maxHeapGrowth: 4 * 1024 * 1024, minResumeRate: 0.99 })).toEqual([]);
    expect(run.handshakes).toBe(Number(process.env.LEAK_HANDSHAKES ?? 2_000));
    // Both protocols, both kinds of handshake, really happened.
    for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
      expect(run.load.full[v]).toBeGreaterThan(0);
      expect(run.load.resumed[v]).toBeGreaterThan(0);
    }
    expect(run.attachment.resumedTls13).toBeGreaterThan(0);
  });
});
