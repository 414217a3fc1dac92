// The store adapter's timeouts: how long a store call may stay pending before it counts as a
// failure, and the error reported then. One timer per asynchronous call, as before the split.
import { SessionCacheError } from '../../common/errors.js';

/** Which store call failed, for `StoreCallbacksOptions.onError`. */
export type StoreOperation = 'set' | 'get' | 'take' | 'delete' | 'encode' | 'decode' | 'revoke';

/**
 * Calls `onTimeout` once `ms` have passed and the I/O that arrived meanwhile has been read. After a
 * busy stretch of the event loop (a hundred handshakes at once) the timers phase runs before the
 * poll phase, so an answer that was sitting in the socket in time would otherwise lose to its own
 * timer, and a healthy but loaded store would open the breaker.
 */
export function startTimeout(ms: number, onTimeout: () => void): NodeJS.Timeout {
  const timer = setTimeout(() => setImmediate(onTimeout), ms);
  timer.unref();
  return timer;
}

/** The error reported for a store call that did not settle in time; names no key or value. */
export function timeoutError(operation: StoreOperation, ms: number): SessionCacheError {
  return new SessionCacheError(
    'ERR_STORE_TIMEOUT',
    `session store ${operation} did not settle within ${ms} ms`,
  );
}
