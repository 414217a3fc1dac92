// Waiting for a `serve` process's store by what the process says, never by a guess: `serve
// --log-events` logs each store state change as a JSON line (`"event":"store-state"`), so a test
// knows when a networked store is ready instead of assuming it is at `listening`.
import type { Serving } from './cli-processes.js';
import { eventually } from './eventually.js';

/** The stderr lines of `serve --log-events` that are neither an event nor a store state line. */
export function unexpectedStderr(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line !== '')
    .filter(
      (line) =>
        !line.startsWith('{"time":') && !line.startsWith('tls-session-cache: serve: store '),
    );
}

/**
 * Resolves once `serve --log-events` has logged its store `ready` (a `store-state` event). How
 * long that takes is the process's and the machine's business: the wait is a hang detector.
 */
export async function storeReady(serving: Serving): Promise<void> {
  await eventually(
    () => /"event":"store-state".*"state":"ready"/.test(serving.stderr()),
    'serve logging its store ready',
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${serving.stderr()}`);
  });
}
