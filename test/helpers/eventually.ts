// How long a test waits for something that must happen, and the one way it waits.
//
// Why one generous bound instead of a number per test: a test asserts THAT something happens (and in
// what order), never how fast — speed is the benchmarks' business. On a loaded 2-core machine a child
// process can take tens of seconds to start and a 50 ms poll can run seconds late, so every limit
// tuned to an idle machine is a future flake. The only bound that tells a hang from slowness is a
// hang detector: HANG_MS, which vitest.config.ts also uses as every test's and hook's time limit.
// Waits stop earlier than that (WAIT_MS) so that a condition that never comes fails with its own
// message rather than vitest's generic timeout.

/** A test's and a hook's time limit: long enough that only a hang reaches it. */
export const HANG_MS = 300_000;

/** How long {@link eventually} waits by default: a hang, with room left to report which. */
export const WAIT_MS = HANG_MS - 30_000;

/** Waits until `check()` is true, polling every `everyMs`; throws naming `what` after `limitMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  { limitMs = WAIT_MS, everyMs = 10 }: { limitMs?: number; everyMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * The lookup deadline (`lookupDeadlineMs`, `serve --lookup-deadline`) of a test that asserts a
 * resumption through a shared store: a lookup answered later is a full handshake, which such a test
 * would report as "does not resume". The product default (50 ms) is for production, where a store
 * that slow is failing; on a loaded 2-core test machine Redis and the servers are often descheduled
 * for longer (event-loop delays of 600 ms seen in CI). Far above any scheduling delay, far below a
 * hang.
 */
export const SHARED_STORE_LOOKUP_DEADLINE_MS = 10_000;
