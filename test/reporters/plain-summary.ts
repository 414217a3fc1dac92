// Prints one plain closing line, `vitest: N passed, N failed, N skipped`, after vitest's own report.
// Why: CI judges a run by a plain "N passed, N failed" line at its end; vitest's summary is coloured
// and split over several lines, and a run judged by its exit code alone reads as one that ran no
// test. `onFinished` (not `onTestRunEnd`) because the default reporter prints its summary there,
// and reporters run in the order configured: this line then comes last.
import type { Reporter } from 'vitest/node';

type Task = { type: string; mode?: string; result?: { state?: string }; tasks?: Task[] };

export default class PlainSummaryReporter implements Reporter {
  onFinished(files: Task[] = [], errors: unknown[] = []): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const walk = (task: Task): void => {
      if (task.type === 'test') {
        const state = task.result?.state;
        if (state === 'pass') counts.passed++;
        else if (state === 'fail') counts.failed++;
        else counts.skipped++;
      }
      for (const child of task.tasks ?? []) walk(child);
    };
    for (const file of files) {
      // A file that failed to load has no tests; it still counts as a failure.
      if (file.result?.state === 'fail' && (file.tasks?.length ?? 0) === 0) counts.failed++;
      walk(file);
    }
    counts.failed += errors.length;
    // With the leak scan configured, it runs after the reporters and prints the closing line,
    // counting itself as one more test.
    const pending = globalThis as { tlsSessionCacheSummary?: typeof counts };
    if (pending.tlsSessionCacheSummary !== undefined) {
      Object.assign(pending.tlsSessionCacheSummary, counts);
      return;
    }
    printSummary(counts);
  }
}

/** Writes the plain closing line. */
export function printSummary(counts: { passed: number; failed: number; skipped: number }): void {
  process.stdout.write(
    `\nvitest: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
  );
}
