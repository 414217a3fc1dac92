// The CI-sized run of the fuzz harness (`npm run fuzz` runs 1 000 000 cases): the same targets,
// through the same exported function, 20 000 cases in a few seconds. A fixed seed keeps CI
// deterministic (apart from the freshly captured corpus); FUZZ_SEED / FUZZ_SMOKE_CASES override.
// The issues listed in fuzz/known.ts are allowed here and printed; anything else fails the test.
import { describe, expect, it } from 'vitest';
import { formatFinding, formatTarget, runFuzz } from '../../fuzz/harness.js';
import { KNOWN_ISSUES } from '../../fuzz/known.js';

const cases = Number(process.env.FUZZ_SMOKE_CASES ?? 20_000);
const seed = Number(process.env.FUZZ_SEED ?? 20_251_122);

describe('fuzz harness, CI-sized', () => {
  it(`runs ${cases} cases over every target with no crash, hang or violated property`, async () => {
    const report = await runFuzz({ cases, seed, allowKnown: true });
    console.log(
      `fuzz smoke: seed ${seed}, ${report.totalCases} cases in ${Math.round(report.totalMs)} ms`,
    );
    for (const t of report.targets) console.log(formatTarget(t));
    for (const t of report.targets) {
      for (const k of t.known)
        console.log(`known issue ${k.id} in ${t.name} (×${k.count}): ${k.example}`);
    }

    expect(report.findings.map(formatFinding)).toEqual([]);
    expect(report.totalCases).toBeGreaterThanOrEqual(cases * 0.95);
    for (const t of report.targets) {
      if (t.skipped === undefined) expect(t.cases, t.name).toBeGreaterThan(0);
    }
    // Every group of targets ran.
    const groups = new Set(
      report.targets.filter((t) => t.skipped === undefined).map((t) => t.name.split('/')[0]),
    );
    for (const g of ['client-hello', 'assembler', 'hello-reader', 'decode', 'cache'])
      expect(groups).toContain(g);
    // Known issues are listed with a title and a fix.
    for (const k of KNOWN_ISSUES) expect(k.detail.length).toBeGreaterThan(40);
  });
});
