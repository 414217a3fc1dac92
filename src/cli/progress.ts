// Progress for long-ish commands, always on stderr so that stdout stays the command's result (a
// table or JSON that may be piped). A terminal gets a live bar; a pipe or a log file gets one plain
// line per phase, because redrawn bars would be noise there.
import { Presets, SingleBar } from 'cli-progress';

/** A progress indicator for a sequence of phases, each with a known number of steps. */
export interface Progress {
  /** Starts a phase named `label` of `total` steps. */
  start(label: string, total: number): void;
  /** One step of the current phase done. */
  increment(): void;
  /** Ends the current phase; `summary` is shown on the plain (non-terminal) output. */
  stop(summary?: string): void;
}

/**
 * A {@link Progress} writing to `stream`: a `cli-progress` bar when it is a terminal, else one line
 * `prefix label: summary` per phase.
 */
export function createProgress(
  prefix: string,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (stream.isTTY === true) {
    const bar = new SingleBar(
      {
        stream,
        format: `${prefix} {label} [{bar}] {value}/{total}`,
        hideCursor: true,
        clearOnComplete: true,
      },
      Presets.shades_classic,
    );
    return {
      start: (label, total) => bar.start(total, 0, { label }),
      increment: () => bar.increment(),
      stop: () => bar.stop(),
    };
  }
  let current = '';
  return {
    start: (label) => {
      current = label;
    },
    increment: () => undefined,
    stop: (summary) => {
      stream.write(`${prefix} ${current}: ${summary ?? 'done'}\n`);
    },
  };
}
