// Whether a store can answer right now, one design for every store: in-process stores (memory,
// SQLite) are always `ready`; a networked one (Redis) is `connecting` while it starts, `degraded`
// while it cannot reach its server (every call then fails fast and the cache does full handshakes),
// and `ready` again once it can. Changes go to the `storeState` diagnostics channel, so that a
// process logs one line when its store is lost and one when it is back, however many calls failed.
import { channels, type StoreStateEvent } from '../cache/events.js';
import type { SessionStore } from './store.js';

/**
 * A store's state; see {@link SessionStore.state}:
 * - `connecting`: opened, the first connection not made yet (at most the store's startup time);
 * - `ready`: calls are sent to the store;
 * - `degraded`: the store cannot be reached (refused, no answer, paused, failing over, or a
 *   setting it rejects); every call fails at once and it keeps reconnecting in the background;
 * - `closed`: `close()` was called.
 */
export type StoreState = 'connecting' | 'ready' | 'degraded' | 'closed';

/**
 * The state of `store`: its own `state()` when it has one, else `ready` (a store without it — every
 * in-process store, and user stores — is assumed to answer whenever asked).
 */
export function storeState(store: SessionStore): StoreState {
  return store.state?.() ?? 'ready';
}

/**
 * Tracks one store's state and publishes each change on the `storeState` channel (one message per
 * change, never per call). For store implementations.
 * @internal
 */
export class StoreStateTracker {
  #state: StoreState = 'connecting';
  #since: number;
  readonly #store: string;
  readonly #where: string;
  readonly #clock: () => number;

  /**
   * @param store - the store's `kind`
   * @param where - where the store's server is, for messages (never credentials)
   */
  constructor(store: string, where: string, clock: () => number = Date.now) {
    this.#store = store;
    this.#where = where;
    this.#clock = clock;
    this.#since = clock();
  }

  /** The current state. */
  get state(): StoreState {
    return this.#state;
  }

  /**
   * Moves to `state` (nothing happens when already there, or once closed) and publishes the
   * change, with `reason` (one line, no secret) saying why.
   */
  set(state: StoreState, reason?: string): void {
    const previous = this.#state;
    if (previous === state || previous === 'closed') return;
    const now = this.#clock();
    const forMs = now - this.#since;
    this.#state = state;
    this.#since = now;
    if (channels.storeState.hasSubscribers) {
      channels.storeState.publish({
        store: this.#store,
        where: this.#where,
        state,
        previous,
        previousMs: forMs,
        ...(reason === undefined ? {} : { reason }),
      } satisfies StoreStateEvent);
    }
  }
}
