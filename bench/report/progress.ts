/**
 * The benchmark's progress on stderr (stdout stays the report, which may be piped): a `cli-progress`
 * bar with the case being measured when stderr is a terminal, else one line per finished case.
 *
 * @module
 */
import { Presets, SingleBar } from 'cli-progress';

export interface CaseProgress {
  /** A case starts. */
  starting(label: string): void;
  /** It finished; `summary` is its headline number. */
  finished(label: string, summary: string): void;
  stop(): void;
}

export function caseProgress(
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
): CaseProgress {
  if (stream.isTTY === true) {
    const bar = new SingleBar(
      {
        stream,
        format: 'bench [{bar}] {value}/{total} cases | ETA {eta_formatted} | {label}',
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 8,
        // A case lasts seconds: redraw once a second so that the ETA and the elapsed time move.
        etaAsynchronousUpdate: true,
        fps: 2,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0, { label: 'starting' });
    let done = 0;
    return {
      starting: (label) => bar.update(done, { label: `${label} …` }),
      finished: (label, summary) => bar.update(++done, { label: `${label}: ${summary}` }),
      stop: () => bar.stop(),
    };
  }
  let done = 0;
  return {
    starting: () => undefined,
    finished: (label, summary) => {
      stream.write(`[${++done}/${total}] ${label}: ${summary}\n`);
    },
    stop: () => undefined,
  };
}
