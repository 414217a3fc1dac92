// Progress for long-ish commands, always on stderr so that stdout stays the command's result (a
// table or JSON that may be piped). A terminal gets a live bar; a pipe or a log file gets one plain
// line per phase, because redrawn bars would be noise there. The bar is a dozen lines of our own
// rather than a progress library: the CLI ships with the library, and every library user would
// install that dependency (cli-progress and its string-width tree) for a bar.

/** A progress indicator for a sequence of phases, each with a known number of steps. */
export interface Progress {
  /** Starts a phase named `label` of `total` steps. */
  start(label: string, total: number): void;
  /** One step of the current phase done. */
  increment(): void;
  /** Ends the current phase; `summary` is shown on the plain (non-terminal) output. */
  stop(summary?: string): void;
}

/** Width of the bar in characters. */
const BAR_WIDTH = 40;
/** At most this many redraws a second (a terminal cannot show more, and each costs a write). */
const REDRAW_INTERVAL_MS = 100;
/** ANSI: carriage return and erase the line; hide and show the cursor. */
const CLEAR_LINE = '\r\x1b[2K';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/**
 * A {@link Progress} writing to `stream`: a bar `prefix label [████░░░░] value/total` redrawn in
 * place when it is a terminal (erased when the phase stops), else one line `prefix label: summary`
 * per phase.
 */
export function createProgress(
  prefix: string,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): Progress {
  let label = '';
  let total = 0;
  let value = 0;
  if (stream.isTTY === true) {
    let drawnAt = Number.NEGATIVE_INFINITY;
    const draw = (force: boolean): void => {
      const at = now();
      if (!force && at - drawnAt < REDRAW_INTERVAL_MS) return;
      drawnAt = at;
      const filled = total > 0 ? Math.round((Math.min(value, total) / total) * BAR_WIDTH) : 0;
      const bar = '\u2588'.repeat(filled) + '\u2591'.repeat(BAR_WIDTH - filled);
      stream.write(`${CLEAR_LINE}${prefix} ${label} [${bar}] ${value}/${total}`);
    };
    return {
      start: (phase, steps) => {
        label = phase;
        total = steps;
        value = 0;
        stream.write(HIDE_CURSOR);
        draw(true);
      },
      increment: () => {
        value++;
        draw(value === total);
      },
      stop: () => stream.write(`${CLEAR_LINE}${SHOW_CURSOR}`),
    };
  }
  return {
    start: (phase) => {
      label = phase;
    },
    increment: () => undefined,
    stop: (summary) => {
      stream.write(`${prefix} ${label}: ${summary ?? 'done'}\n`);
    },
  };
}
