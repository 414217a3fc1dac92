/**
 * Memory and handle measurements for the load, flood and soak scripts (and their CI-sized tests).
 *
 * @module
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let gcFunction: (() => void) | undefined;

/**
 * A full, synchronous garbage collection. Works without `--expose-gc` on the command line: the
 * flag is switched on at run time and `gc` is taken from a fresh context.
 */
export function fullGc(): void {
  if (gcFunction === undefined) {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (typeof existing === 'function') gcFunction = existing;
    else {
      v8.setFlagsFromString('--expose-gc');
      gcFunction = vm.runInNewContext('gc') as () => void;
    }
  }
  // Twice: the first pass may only queue finalizers (e.g. of ArrayBuffers) that free more.
  gcFunction();
  gcFunction();
}

/** One memory reading, in bytes. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** Reads memory, after a full GC unless `gc` is false. */
export function memory(gc = true): MemorySample {
  if (gc) fullGc();
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

/** Bytes as MiB with one decimal. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The active resources (handles and requests) by type, e.g. `{ TCPServerWrap: 1, Timeout: 2 }`. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Types whose count differs between two {@link activeResources} readings, with both counts. */
export function resourceDifference(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, [number, number]> {
  const diff: Record<string, [number, number]> = {};
  for (const type of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[type] ?? 0;
    const b = after[type] ?? 0;
    if (a !== b) diff[type] = [a, b];
  }
  return diff;
}

/** Least-squares slope and intercept of y over x. */
export function linearFit(
  xs: readonly number[],
  ys: readonly number[],
): { slope: number; intercept: number } {
  const n = xs.length;
  if (n < 2) return { slope: 0, intercept: ys[0] ?? 0 };
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Writes a line to stdout (the scripts' output; `console` is reserved for the CLI by lint). */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Resource types with more active entries after than before: [before, after]. */
export function resourceIncrease(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, [number, number]> {
  const diff = resourceDifference(before, after);
  for (const [type, [a, b]] of Object.entries(diff)) if (b <= a) delete diff[type];
  return diff;
}
