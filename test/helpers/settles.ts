// How a test checks "fails at once" and "fails within X ms" without measuring milliseconds.
//
// Why not `performance.now()` and `toBeLessThan(ms)`: on a loaded machine the event loop itself
// runs late, so a promise that settles "at once" by the code's logic can be observed seconds after
// it started, and a measured duration says more about the machine than about the code. Instead
// the promise races a yardstick timer started at the same moment: whatever delays the event loop
// delays the yardstick as much.
// - "At once, without I/O or a timer": the promise settles before a 0 ms timer started with it
//   fires. Microtasks (promise reactions, nextTicks) always run before the next timer, however
//   loaded the machine, so a rejection that needs no I/O and no timer wins every time.
// - "Within X ms" where the code bounds the wait with its own X ms timer: the promise settles
//   before a timer of X ms (plus a slack the caller documents, for work between the call and the
//   code's timer) started with it fires. Node fires due timers in order of their deadlines and
//   runs the microtasks after each one, so the code's timer and its rejection come first even when
//   the loop was stalled past both deadlines.
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * The slack a caller of {@link settlesWithin} adds to the code's own bound: the code arms its timer
 * a few promise steps after the call (option checks, an already-loaded `import()`), after the
 * yardstick. Those steps are CPU work of the same turn, so a preempted process stretches them by a
 * scheduler slice (milliseconds), not by the event loop's lag. Not so the first call, which may
 * load a module (under vitest: a resolution through the main process): make one call before
 * timing any.
 */
export const ARMING_SLACK_MS = 100;

/**
 * Whether `promise` settles (either way) before a timer of `ms` started now fires; answers as soon
 * as either happens. The promise is observed, not consumed: the caller still awaits it for its
 * value or error.
 */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const yardstick = setTimeout(() => resolve(false), ms);
    const settled = (): void => {
      clearTimeout(yardstick);
      resolve(true);
    };
    promise.then(settled, settled);
  });
}

/**
 * Whether `promise` settles before a 0 ms timer started now fires: "at once, without I/O". (An I/O
 * callback due meanwhile may run before that timer too: the check can be lenient, never flaky.)
 */
export function settlesBeforeTimers(promise: Promise<unknown>): Promise<boolean> {
  return settlesWithin(promise, 0);
}

/**
 * The event-loop turns a store's reconnection takes once the server answers, each of which a
 * loaded machine may delay: the reconnection timer, the TCP connect, the ready check's reply, the
 * event saying so.
 */
export const RECONNECT_TURNS = 4;

/**
 * For a bound the code documents on something that takes I/O (a reconnection: "ready within X ms
 * of Redis answering"), no yardstick timer is fair — a due timer runs before due I/O. The test
 * then measures how late the event loop ran meanwhile, and allows that lateness for each turn of
 * I/O the thing takes: the bound stays the documented one; only the machine's measured lag is
 * added, never a guess.
 */
export async function measuringLoopLag<T>(
  work: () => Promise<T>,
): Promise<{ value: T; lagMs: number }> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  try {
    const value = await work();
    return { value, lagMs: loop.max / 1e6 };
  } finally {
    loop.disable();
  }
}
