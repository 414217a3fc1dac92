// Waiting for a `serve` process's store by what the process says, never by a guess: `serve
// --log-events` logs each store state change as a JSON line (`"event":"store-state"`), so a test
// knows when a networked store is ready instead of assuming it is at `listening`.
import { REDIS_STORE_DEFAULTS } from '../../src/stores/redis-options.js';
import type { Serving } from './cli-processes.js';
import { sleep } from './redis-server.js';

/**
 * How long a `serve` may take to report its Redis store ready. The store documents
 * `startupTimeoutMs` for the first attempt and, after that, readiness within maxReconnectDelayMs +
 * connectTimeoutMs (+ commandTimeoutMs) of Redis answering; with Redis up, ten times their sum is
 * only there to turn a store that never connects into a clear failure instead of a test timeout.
 */
export const READY_BOUND_MS =
  10 *
  (REDIS_STORE_DEFAULTS.startupTimeoutMs +
    REDIS_STORE_DEFAULTS.maxReconnectDelayMs +
    REDIS_STORE_DEFAULTS.connectTimeoutMs +
    REDIS_STORE_DEFAULTS.commandTimeoutMs);

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

/** Resolves once `serve --log-events` has logged its store `ready` (a `store-state` event). */
export async function storeReady(serving: Serving): Promise<void> {
  const deadline = Date.now() + READY_BOUND_MS;
  while (!/"event":"store-state".*"state":"ready"/.test(serving.stderr())) {
    if (Date.now() > deadline) {
      throw new Error(`store not ready within ${READY_BOUND_MS} ms: ${serving.stderr()}`);
    }
    await sleep(10);
  }
}
