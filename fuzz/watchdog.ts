/**
 * A watchdog for the one hang the per-case time budget cannot report: a case that never returns
 * (an infinite loop blocks the thread that would measure it). A tiny worker thread watches a
 * progress counter in shared memory; if it does not move for `stallMs`, the worker writes what was
 * running to stderr and kills the process (SIGKILL: exit status 137), since nothing else can
 * interrupt a thread stuck in a synchronous loop.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';

// Plain JavaScript, evaluated in the worker: no TypeScript loader needed there.
const WATCHER = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const state = new Int32Array(workerData.buffer);
let last = -1, lastTarget = -1, since = Date.now();
setInterval(() => {
  const progress = Atomics.load(state, 0), target = Atomics.load(state, 1);
  if (progress !== last || target !== lastTarget) { last = progress; lastTarget = target; since = Date.now(); return; }
  if (target < 0 || Date.now() - since < workerData.stallMs) return;
  const name = workerData.names[target] ?? '?';
  const caseIndex = Atomics.load(state, 2);
  writeSync(2, '\\nHANG: no progress for ' + workerData.stallMs + ' ms in ' + name + ' at case #' + caseIndex +
    ' (seed ' + workerData.seed + ').\\nReproducer: npm run fuzz -- --only ' + name + ' --seed ' + workerData.seed +
    ' --print-case ' + caseIndex + (workerData.corpusHint ? ' --corpus ' + workerData.corpusHint : '') + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, 250);
`;

/** The progress cells the harness updates. */
export class Watchdog {
  private readonly state: Int32Array;
  private readonly worker: Worker | undefined;

  constructor(names: string[], seed: number, stallMs: number, corpusHint: string | undefined) {
    const buffer = new SharedArrayBuffer(12);
    this.state = new Int32Array(buffer);
    this.state[1] = -1;
    if (stallMs <= 0) return;
    this.worker = new Worker(WATCHER, {
      eval: true,
      workerData: { buffer, names, seed, stallMs, corpusHint },
    });
    this.worker.unref();
  }

  /** Target `index` is running case `caseIndex`. */
  beat(index: number, caseIndex: number): void {
    Atomics.store(this.state, 1, index);
    Atomics.store(this.state, 2, caseIndex);
    Atomics.add(this.state, 0, 1);
  }

  /** Nothing is running (e.g. between targets, or while waiting for I/O). */
  idle(): void {
    Atomics.store(this.state, 1, -1);
  }

  async stop(): Promise<void> {
    await this.worker?.terminate();
  }
}
