/**
 * The fuzz harness: runs every target for its share of the case budget, measures every case,
 * and turns failures into findings with a reproducer and the seed. Used by `npm run fuzz`
 * (`fuzz/run.ts`) and by the CI smoke test (`test/fuzz/fuzz-smoke.test.ts`).
 *
 * A finding is one of:
 * - `crash`: the unit threw something other than its typed error;
 * - `property`: the unit answered, but wrongly (see each target's properties);
 * - `hang`: a case took longer than the per-case budget, and still did when re-run three times
 *   (so a GC pause or a noisy neighbour is not a finding). A case that never returns at all is
 *   caught by the {@link Watchdog}.
 *
 * @module
 */
import fc from 'fast-check';
import { captureCorpus, type Corpus } from './corpus.js';
import { KNOWN_ISSUES, takeKnownHits } from './known.js';
import { PropertyViolation, type AnyTarget, type SkippedTarget } from './target.js';
import { assemblerTargets } from './targets/assembler.js';
import { cacheEngineTargets } from './targets/cache-engine.js';
import { clientHelloTargets } from './targets/client-hello.js';
import { decodeSessionTargets } from './targets/decode-session.js';
import { storedRecordTargets } from './targets/stored-record.js';
import { Watchdog } from './watchdog.js';

/** Default total number of cases of `npm run fuzz`. */
export const DEFAULT_CASES = 1_000_000;
/**
 * Default per-case budget in ms. Measured: the slowest cases of a 1 M run take a few ms (a 20 KB
 * hello cut and parsed byte by byte, a 60 KB PSK identity, a stream fed to the reader); a
 * super-linear path on these input sizes would take far longer.
 */
export const DEFAULT_BUDGET_MS = 50;

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** Total cases across targets (default {@link DEFAULT_CASES}). */
  cases?: number;
  /** Base seed; every target derives its own from it and its name. Random by default. */
  seed?: number;
  /** Only targets whose name starts with one of these. */
  only?: string[];
  /** Per-case budget in ms (default {@link DEFAULT_BUDGET_MS}). */
  budgetMs?: number;
  /** The targets to run (default {@link allTargets}); `only` still filters them. */
  targets?: AnyTarget[];
  /** A corpus to reuse (default: captured now). */
  corpus?: Corpus;
  /** fast-check replay path (with `only` naming one property target). */
  path?: string;
  /** Stall time after which the watchdog kills the process; 0 disables it (default 0). */
  stallMs?: number;
  /** Shown in the watchdog's replay hint. */
  corpusHint?: string;
  /** Progress lines (one per target). */
  log?: (line: string) => void;
  /**
   * Let the issues listed in `known.ts` pass (reported, not findings). Default false: a known
   * issue is still a bug, so `npm run fuzz` fails on it until it is fixed.
   */
  allowKnown?: boolean;
  /** Called with each finding as soon as its target has finished. */
  onFinding?: (finding: Finding) => void;
}

/** One failure. */
export interface Finding {
  target: string;
  kind: 'crash' | 'property' | 'hang';
  message: string;
  /** Hex bytes of the failing input (or JSON for chunk lists and operation sequences). */
  reproducer: string;
  /** The base seed of the run. */
  seed: number;
  /** The target's own seed (derived from the base seed and its name). */
  targetSeed: number;
  /** fast-check's path to the shrunk counterexample, for `--path`. */
  path?: string;
  /** How long the case took (hangs). */
  ms?: number;
  /** How to run it again. */
  replay: string;
}

/** What one target did. */
export interface TargetReport {
  name: string;
  kind: AnyTarget['kind'];
  cases: number;
  ms: number;
  casesPerSecond: number;
  /** Slowest case, ms. */
  maxCaseMs: number;
  findings: Finding[];
  /** Known issues (see `known.ts`) this target met: how often, and the shortest input. */
  known: { id: string; count: number; example: string }[];
  /** Why it did not run. */
  skipped?: string;
}

/** What the run did. */
export interface FuzzReport {
  seed: number;
  requestedCases: number;
  totalCases: number;
  totalMs: number;
  budgetMs: number;
  corpus: { hellos: number; sessions: number; pems: number; captureMs: number };
  targets: TargetReport[];
  findings: Finding[];
  /** Known issues that no target met in this run (fixed? then delete them from `known.ts`). */
  knownNotSeen: string[];
  ok: boolean;
}

/** Every target, in run order (skipped slots included). */
export function allTargets(): AnyTarget[] {
  return [
    ...clientHelloTargets(),
    ...assemblerTargets(),
    ...decodeSessionTargets(),
    ...cacheEngineTargets(),
    ...storedRecordTargets(),
  ];
}

/** A stable 32-bit seed for a target. */
export function targetSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h | 0;
}

function selected(target: AnyTarget, only: readonly string[] | undefined): boolean {
  return only === undefined || only.length === 0 || only.some((p) => target.name.startsWith(p));
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const frames = (error.stack ?? '')
      .split('\n')
      .slice(1, 4)
      .map((l) => l.trim());
    return `${error.name}: ${error.message}${frames.length > 0 ? ` [${frames.join(' < ')}]` : ''}`;
  }
  return `non-Error thrown: ${String(error)}`;
}

interface Slow {
  value: unknown;
  ms: number;
}

/** Splits `total` cases over the targets by weight, enumerations capped at their natural size. */
function plan(targets: AnyTarget[], total: number, corpus: Corpus) {
  const runnable = targets.filter(
    (t): t is Exclude<AnyTarget, SkippedTarget> => t.kind !== 'skipped',
  );
  const weight = runnable.reduce((n, t) => n + t.weight, 0);
  const budgets = new Map<string, number>();
  const enumerated = new Map<string, unknown[]>();
  let surplus = 0;
  for (const t of runnable) {
    const share = Math.max(1, Math.round((total * t.weight) / weight));
    if (t.kind === 'enumerate') {
      const cases = t.cases(corpus);
      enumerated.set(t.name, cases);
      budgets.set(t.name, Math.min(share, cases.length));
      surplus += share - Math.min(share, cases.length);
    } else {
      budgets.set(t.name, share);
    }
  }
  const open = runnable.filter((t) => t.kind === 'property' || t.kind === 'async-property');
  const openWeight = open.reduce((n, t) => n + t.weight, 0);
  for (const t of open) {
    budgets.set(t.name, budgets.get(t.name)! + Math.round((surplus * t.weight) / openWeight));
  }
  return { budgets, enumerated };
}

/** Evenly spread case indices when an enumeration has more cases than its budget. */
function sampleIndices(count: number, budget: number, seed: number): number[] {
  if (budget >= count) return Array.from({ length: count }, (_, i) => i);
  const step = count / budget;
  const offset = ((seed >>> 0) % 1000) / 1000;
  return Array.from({ length: budget }, (_, i) =>
    Math.min(count - 1, Math.floor((i + offset) * step)),
  );
}

/**
 * Generates (without running) the value a property target would get at case `index`, and returns
 * its reproducer: how the watchdog's hint finds the input of a case that never returned.
 */
export function printCase(target: AnyTarget, corpus: Corpus, seed: number, index: number): string {
  const tseed = targetSeed(seed, target.name);
  if (target.kind === 'skipped') return target.reason;
  if (target.kind === 'enumerate') {
    const cases = target.cases(corpus);
    return target.reproducer(cases[index % cases.length], corpus);
  }
  const values = fc.sample(target.arbitrary(corpus), { seed: tseed, numRuns: index + 1 });
  return target.reproducer(values[index], corpus);
}

/** Runs the fuzz targets and reports; never throws for findings (see `report.ok`). */
export async function runFuzz(options: FuzzOptions = {}): Promise<FuzzReport> {
  const requested = options.cases ?? DEFAULT_CASES;
  const seed = options.seed ?? (Math.random() * 2 ** 31) | 0;
  const budgetMs = options.budgetMs ?? DEFAULT_BUDGET_MS;
  const log = options.log ?? (() => {});
  const corpus = options.corpus ?? (await captureCorpus());
  const targets = (options.targets ?? allTargets()).filter((t) => selected(t, options.only));
  const { budgets, enumerated } = plan(targets, requested, corpus);
  const watchdog = new Watchdog(
    targets.map((t) => t.name),
    seed,
    options.stallMs ?? 0,
    options.corpusHint,
  );
  const reports: TargetReport[] = [];
  const started = performance.now();
  // An asynchronous case may wait on nothing that keeps the event loop alive (a get callback that
  // never answers, an unref'd deadline); the run must not end there.
  const keepAlive = setInterval(() => {}, 60_000);
  takeKnownHits();
  try {
    for (const [index, target] of targets.entries()) {
      const report = await runTarget(target, index, {
        corpus,
        seed,
        budgetMs,
        cases: budgets.get(target.name) ?? 0,
        enumerated: enumerated.get(target.name),
        path: options.path,
        watchdog,
        allowKnown: options.allowKnown === true,
      });
      reports.push(report);
      log(formatTarget(report));
      for (const f of report.findings) options.onFinding?.(f);
    }
  } finally {
    clearInterval(keepAlive);
    watchdog.idle();
    await watchdog.stop();
  }
  const findings = reports.flatMap((r) => r.findings);
  const seen = new Set(reports.flatMap((r) => r.known.map((k) => k.id)));
  return {
    seed,
    requestedCases: requested,
    totalCases: reports.reduce((n, r) => n + r.cases, 0),
    totalMs: performance.now() - started,
    budgetMs,
    corpus: {
      hellos: corpus.hellos.length,
      sessions: corpus.sessions.length,
      pems: corpus.pems.length,
      captureMs: corpus.captureMs,
    },
    targets: reports,
    findings,
    knownNotSeen: KNOWN_ISSUES.filter((k) => !seen.has(k.id)).map((k) => k.id),
    ok: findings.length === 0,
  };
}

interface RunContext {
  corpus: Corpus;
  seed: number;
  budgetMs: number;
  cases: number;
  enumerated: unknown[] | undefined;
  path: string | undefined;
  watchdog: Watchdog;
  allowKnown: boolean;
}

const MAX_FINDINGS_PER_TARGET = 3;

async function runTarget(target: AnyTarget, index: number, ctx: RunContext): Promise<TargetReport> {
  const report: TargetReport = {
    name: target.name,
    kind: target.kind,
    cases: 0,
    ms: 0,
    casesPerSecond: 0,
    maxCaseMs: 0,
    findings: [],
    known: [],
  };
  if (target.kind === 'skipped') {
    report.skipped = target.reason;
    return report;
  }
  const { corpus, seed } = ctx;
  const budget = target.budgetMs ?? ctx.budgetMs;
  const tseed = targetSeed(seed, target.name);
  const replay = `npm run fuzz -- --only ${target.name} --seed ${seed}`;
  const finding = (
    kind: Finding['kind'],
    message: string,
    value: unknown,
    extra: Partial<Finding> = {},
  ): Finding => {
    let reproducer: string;
    try {
      reproducer = target.reproducer(value, corpus);
    } catch (error) {
      reproducer = `(reproducer failed: ${describeError(error)})`;
    }
    return {
      target: target.name,
      kind,
      message,
      reproducer,
      seed,
      targetSeed: tseed,
      replay,
      ...extra,
    };
  };
  const slow: Slow[] = [];
  const noteSlow = (value: unknown, ms: number): void => {
    if (ms > report.maxCaseMs) report.maxCaseMs = ms;
    if (ms <= budget) return;
    slow.push({ value, ms });
    slow.sort((a, b) => b.ms - a.ms);
    if (slow.length > 3) slow.length = 3;
  };
  const started = performance.now();

  if (target.kind === 'enumerate') {
    const cases = ctx.enumerated ?? target.cases(corpus);
    for (const i of sampleIndices(cases.length, ctx.cases, tseed)) {
      const value = cases[i];
      ctx.watchdog.beat(index, i);
      const t0 = performance.now();
      try {
        target.run(value, corpus);
      } catch (error) {
        const kind = error instanceof PropertyViolation ? 'property' : 'crash';
        report.findings.push(
          finding(kind, describeError(error), value, { replay: `${replay} (case #${i})` }),
        );
        if (report.findings.length >= MAX_FINDINGS_PER_TARGET) break;
      }
      noteSlow(value, performance.now() - t0);
      report.cases++;
    }
  } else {
    let failing = false;
    let calls = 0;
    const timed = (value: unknown, ms: number): void => {
      if (failing) return;
      calls++;
      noteSlow(value, ms);
    };
    const params: fc.Parameters<[unknown]> = { numRuns: ctx.cases, seed: tseed };
    if (ctx.path !== undefined) params.path = ctx.path;
    const arbitrary = target.arbitrary(corpus);
    let details: fc.RunDetails<[unknown]>;
    if (target.kind === 'property') {
      const run = target.run;
      details = fc.check(
        fc.property(arbitrary, (value) => {
          ctx.watchdog.beat(index, calls);
          const t0 = performance.now();
          try {
            run(value, corpus);
          } catch (error) {
            failing = true;
            throw error;
          }
          timed(value, performance.now() - t0);
        }),
        params,
      );
    } else {
      const run = target.run;
      details = await fc.check(
        fc.asyncProperty(arbitrary, async (value) => {
          ctx.watchdog.beat(index, calls);
          const t0 = performance.now();
          try {
            await run(value, corpus);
          } catch (error) {
            failing = true;
            throw error;
          }
          timed(value, performance.now() - t0);
        }),
        params,
      );
    }
    report.cases = details.numRuns;
    if (details.failed && details.counterexample !== null) {
      const error = details.errorInstance;
      const kind = error instanceof PropertyViolation ? 'property' : 'crash';
      report.findings.push(
        finding(kind, describeError(error), details.counterexample[0], {
          path: details.counterexamplePath ?? undefined,
          replay: `${replay} --path ${details.counterexamplePath ?? ''}`,
        }),
      );
    } else if (details.failed) {
      report.findings.push(
        finding(
          'crash',
          `fast-check failed without a counterexample (interrupted: ${details.interrupted})`,
          undefined,
        ),
      );
    }
  }
  report.ms = performance.now() - started;
  for (const [id, hit] of takeKnownHits()) {
    report.known.push({ id, ...hit });
    if (!ctx.allowKnown) {
      const issue = KNOWN_ISSUES.find((k) => k.id === id);
      report.findings.push({
        target: target.name,
        kind: 'property',
        message: `known issue ${id} (${hit.count} cases): ${issue?.title ?? '?'}`,
        reproducer: hit.example,
        seed,
        targetSeed: tseed,
        replay: `${replay} (see fuzz/known.ts; --allow-known to let it pass)`,
      });
    }
  }
  report.casesPerSecond = report.ms > 0 ? (report.cases * 1000) / report.ms : 0;

  // Confirm hangs: the best of three re-runs must still exceed the budget.
  ctx.watchdog.idle();
  for (const s of slow) {
    let best = Infinity;
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      try {
        await target.run(s.value, corpus);
      } catch {
        // It passed before; a different outcome now is reported by its own finding, if any.
      }
      best = Math.min(best, performance.now() - t0);
    }
    if (best > budget) {
      report.findings.push(
        finding(
          'hang',
          `case took ${s.ms.toFixed(1)} ms (best of 3 re-runs ${best.toFixed(1)} ms; budget ${budget} ms)`,
          s.value,
          {
            ms: best,
          },
        ),
      );
    }
  }
  return report;
}

/** One line per target. */
export function formatTarget(r: TargetReport): string {
  if (r.skipped !== undefined) return `${r.name.padEnd(30)} SKIPPED: ${r.skipped}`;
  return [
    r.name.padEnd(30),
    String(r.cases).padStart(9),
    `${(r.ms / 1000).toFixed(1)} s`.padStart(9),
    `${Math.round(r.casesPerSecond)}/s`.padStart(11),
    `max ${r.maxCaseMs.toFixed(2)} ms`.padStart(15),
    r.findings.length === 0 ? 'ok' : `${r.findings.length} FINDING(S)`,
    r.known.length === 0 ? '' : `(known: ${r.known.map((k) => `${k.id} ×${k.count}`).join(', ')})`,
  ]
    .join('  ')
    .trimEnd();
}

/** A finding, with its reproducer, for humans. */
export function formatFinding(f: Finding): string {
  const lines = [
    `FINDING [${f.kind}] in ${f.target}: ${f.message}`,
    `  seed ${f.seed} (target seed ${f.targetSeed})${f.path === undefined ? '' : `, path ${f.path}`}`,
    `  reproducer: ${f.reproducer}`,
    `  replay: ${f.replay}`,
  ];
  return lines.join('\n');
}
