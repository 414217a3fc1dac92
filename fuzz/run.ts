/**
 * `npm run fuzz`: the fuzz harness from the command line.
 *
 * ```sh
 * npm run fuzz                                   # 1 000 000 cases over every target
 * npm run fuzz -- --cases 200000                 # or FUZZ_CASES=200000 npm run fuzz
 * npm run fuzz -- --only client-hello/ --seed 42 # some targets, a fixed seed
 * npm run fuzz -- --only client-hello/mutate --seed 42 --path 17:3:0 --corpus .tmp/fuzz-corpus-42.json
 * ```
 *
 * Exit status: 0 no findings, 1 findings (each printed with a hex reproducer, the seed and a replay
 * command), 2 bad arguments or a harness failure; a case that never returns is killed by the
 * watchdog (SIGKILL, status 137) after printing which case it was.
 *
 * @module
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCorpus, saveCorpus, captureCorpus } from './corpus.js';
import { KNOWN_ISSUES } from './known.js';
import {
  allTargets,
  DEFAULT_BUDGET_MS,
  DEFAULT_CASES,
  formatFinding,
  printCase,
  runFuzz,
  type FuzzReport,
} from './harness.js';

const USAGE = `usage: npm run fuzz -- [options]
  --cases N          total cases across targets (default ${DEFAULT_CASES}; env FUZZ_CASES)
  --seed N           base seed (default random; env FUZZ_SEED)
  --only PREFIX      only targets whose name starts with PREFIX (repeatable)
  --budget-ms N      per-case time budget (default ${DEFAULT_BUDGET_MS})
  --path P           fast-check replay path of a finding (with --only naming one target)
  --corpus FILE      use a saved corpus instead of capturing one
  --save-corpus FILE save the captured corpus
  --print-case N     print the reproducer of case N of the --only target (with --seed), do not run
  --stall-ms N       watchdog: kill the run when a case makes no progress for N ms (default 30000)
  --allow-known      let the issues listed in fuzz/known.ts pass (still reported)
  --json             print the report as JSON at the end
  --list             list the targets`;

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const err = (line: string): void => void process.stderr.write(`${line}\n`);

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${value}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string', multiple: true },
      'budget-ms': { type: 'string' },
      path: { type: 'string' },
      corpus: { type: 'string' },
      'save-corpus': { type: 'string' },
      'print-case': { type: 'string' },
      'stall-ms': { type: 'string' },
      json: { type: 'boolean' },
      'allow-known': { type: 'boolean' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    out(USAGE);
    return 0;
  }
  if (values.list === true) {
    for (const t of allTargets())
      out(`${t.name}${t.kind === 'skipped' ? `  (skipped: ${t.reason})` : ''}`);
    return 0;
  }
  const cases = integer('--cases', values.cases ?? process.env.FUZZ_CASES, DEFAULT_CASES);
  if (cases < 1) throw new Error('--cases must be at least 1');
  const seedArg = values.seed ?? process.env.FUZZ_SEED;
  const seed = seedArg === undefined ? undefined : integer('--seed', seedArg, 0);
  const budgetMs = integer('--budget-ms', values['budget-ms'], DEFAULT_BUDGET_MS);
  const stallMs = integer('--stall-ms', values['stall-ms'], 30_000);

  const corpus = values.corpus !== undefined ? loadCorpus(values.corpus) : await captureCorpus();
  if (values['save-corpus'] !== undefined) saveCorpus(corpus, values['save-corpus']);

  if (values['print-case'] !== undefined) {
    const only = values.only ?? [];
    const target = allTargets().find((t) => only.includes(t.name));
    if (target === undefined || seed === undefined)
      throw new Error('--print-case needs --only TARGET and --seed');
    out(printCase(target, corpus, seed, integer('--print-case', values['print-case'], 0)));
    return 0;
  }

  const chosenSeed = seed ?? (Math.random() * 2 ** 31) | 0;
  // Saved before the run, so that the watchdog's replay hint works even if the run is killed.
  const corpusFile = values.corpus ?? join('.tmp', 'fuzz-corpus-last.json');
  if (values.corpus === undefined) saveCorpus(corpus, corpusFile);
  out(`tls-session-cache fuzz: ${cases} cases, seed ${chosenSeed}, budget ${budgetMs} ms per case`);
  out(
    `corpus: ${corpus.hellos.length} ClientHellos, ${corpus.sessions.length} DER sessions, ${corpus.pems.length} PEM sessions (captured in ${Math.round(corpus.captureMs)} ms)`,
  );
  out(
    `${'target'.padEnd(30)}  ${'cases'.padStart(9)}  ${'time'.padStart(9)}  ${'rate'.padStart(11)}  ${'slowest case'.padStart(15)}`,
  );
  const report: FuzzReport = await runFuzz({
    cases,
    seed: chosenSeed,
    only: values.only,
    budgetMs,
    corpus,
    path: values.path,
    stallMs,
    corpusHint: corpusFile,
    log: out,
    onFinding: (f) => err(formatFinding(f)),
    allowKnown: values['allow-known'] === true,
  });
  out(
    `total: ${report.totalCases} cases in ${(report.totalMs / 1000).toFixed(1)} s (${Math.round((report.totalCases * 1000) / report.totalMs)} cases/s), ${report.findings.length} finding(s)`,
  );
  for (const t of values['allow-known'] === true ? report.targets : []) {
    for (const k of t.known) {
      const issue = KNOWN_ISSUES.find((i) => i.id === k.id);
      err(
        `KNOWN ISSUE ${k.id} in ${t.name} (${k.count} cases): ${issue?.title ?? ''}\n  reproducer: ${k.example}`,
      );
    }
  }
  if (values.only === undefined) {
    for (const id of report.knownNotSeen)
      out(`known issue ${id} did not reproduce: fixed? then remove it from fuzz/known.ts`);
  }
  if (report.findings.length > 0 && values.corpus === undefined) {
    const kept = join('.tmp', `fuzz-corpus-${chosenSeed}.json`);
    saveCorpus(corpus, kept);
    err(`corpus saved to ${kept}: add --corpus ${kept} to the replay commands`);
  }
  if (values.json === true) out(JSON.stringify(report, null, 2));
  return report.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    err(`fuzz: ${error instanceof Error ? error.message : String(error)}`);
    err(USAGE);
    process.exitCode = 2;
  },
);
