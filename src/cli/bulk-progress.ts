// Progress of a bulk operation over a store (flush, a stats or list scan): a progress bar on
// stderr when it is a terminal and the store is large enough for the wait to be noticed; nothing
// otherwise, so that scripts and pipes get only the command's result.
import { createProgress } from './progress.js';

/** Below this many entries a scan is over before a bar would be worth drawing. */
export const PROGRESS_MIN_ENTRIES = 2000;

/** One step of a bulk operation done; {@link BulkProgress.stop} when finished. */
export interface BulkProgress {
  tick(): void;
  stop(): void;
}

const NONE: BulkProgress = { tick: () => undefined, stop: () => undefined };

/**
 * A bar labelled `label` over `total` steps, on a terminal and for `total` ≥
 * {@link PROGRESS_MIN_ENTRIES}; else a no-op. `total` may be an estimate (a store's entry count).
 */
export function bulkProgress(
  label: string,
  total: number | undefined,
  stream: NodeJS.WriteStream = process.stderr,
): BulkProgress {
  if (stream.isTTY !== true || total === undefined || total < PROGRESS_MIN_ENTRIES) return NONE;
  const progress = createProgress('tls-session-cache', stream);
  progress.start(label, total);
  return { tick: () => progress.increment(), stop: () => progress.stop() };
}

/** The store's entry count, for a progress total; `undefined` when it cannot tell. */
export async function entryCount(store: {
  stats?: () => { entries: number } | Promise<{ entries: number }>;
}): Promise<number | undefined> {
  if (process.stderr.isTTY !== true || store.stats === undefined) return undefined;
  try {
    return (await store.stats()).entries;
  } catch {
    return undefined;
  }
}
