// The harness itself: planted bugs must come out as findings of the right kind, with a reproducer,
// the seed and a replay path; a clean target must not. (The watchdog for cases that never return
// kills the process, so it is exercised by hand: see fuzz/README.md.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Corpus } from '../../fuzz/corpus.js';
import { printCase, runFuzz, targetSeed } from '../../fuzz/harness.js';
import { enumeration, expectThat, property } from '../../fuzz/target.js';

const corpus: Corpus = { hellos: [], sessions: [], pems: [], captureMs: 0 };

const crash = property<number>({
  name: 'planted/crash',
  weight: 1,
  arbitrary: () => fc.nat(1000),
  run: (n) => {
    if (n > 500) throw new TypeError(`not a typed error (${n})`);
  },
  reproducer: (n) => Buffer.from([n >> 8, n & 0xff]).toString('hex'),
});

const violation = property<number>({
  name: 'planted/property',
  weight: 1,
  arbitrary: () => fc.nat(1000),
  run: (n) => expectThat(n < 700, `value ${n} too large`),
  reproducer: (n) => String(n),
});

const slow = property<number>({
  name: 'planted/slow',
  weight: 1,
  budgetMs: 10,
  arbitrary: () => fc.nat(100),
  run: (n) => {
    if (n < 97) return;
    const until = performance.now() + 30;
    while (performance.now() < until);
  },
  reproducer: (n) => String(n),
});

const clean = enumeration<number>({
  name: 'planted/clean',
  weight: 1,
  cases: () => Array.from({ length: 50 }, (_, i) => i),
  run: (n) => expectThat(n < 50, 'unreachable'),
  reproducer: (n) => String(n),
});

describe('the fuzz harness', () => {
  it('reports crashes, violated properties and hangs with reproducer, seed and path', async () => {
    const report = await runFuzz({
      cases: 800,
      seed: 5,
      corpus,
      targets: [crash, violation, slow, clean],
    });
    const byTarget = (name: string) => report.findings.filter((f) => f.target === name);

    const [c] = byTarget('planted/crash');
    expect(c?.kind).toBe('crash');
    expect(c?.message).toMatch(/^TypeError: not a typed error \(501\)/); // shrunk to the minimum
    expect(c?.reproducer).toBe('01f5');
    expect(c?.seed).toBe(5);
    expect(c?.targetSeed).toBe(targetSeed(5, 'planted/crash'));
    expect(c?.path).toMatch(/^\d+(:\d+)*$/);

    const [p] = byTarget('planted/property');
    expect(p?.kind).toBe('property');
    expect(p?.reproducer).toBe('700');

    const hangs = byTarget('planted/slow');
    expect(hangs.length).toBeGreaterThan(0);
    for (const h of hangs) {
      expect(h.kind).toBe('hang');
      expect(Number(h.reproducer)).toBeGreaterThanOrEqual(97);
    }

    expect(byTarget('planted/clean')).toEqual([]);
    expect(report.targets.find((t) => t.name === 'planted/clean')?.cases).toBe(50);
    expect(report.ok).toBe(false);
  });

  it('regenerates the input of any case from the seed (the watchdog hint)', () => {
    const seen: number[] = [];
    fc.check(
      fc.property(fc.nat(1000), (n) => {
        seen.push(n);
      }),
      { seed: targetSeed(5, 'planted/crash'), numRuns: 30 },
    );
    const at = (i: number) => Number.parseInt(printCase(crash, corpus, 5, i), 16);
    expect([at(0), at(7), at(29)]).toEqual([seen[0], seen[7], seen[29]]);
  });
});
