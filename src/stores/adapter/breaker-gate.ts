// How the store adapter uses its circuit breaker: one gate in front of every store call, which
// hands out a ticket (or refuses) and hears each call's outcome. With `breaker: false` there is no
// breaker and every call goes through with ticket 0, so the callers never branch on it.
import { channels } from '../../cache/events.js';
import {
  BREAKER_REFUSED,
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
} from '../circuit-breaker.js';

export { BREAKER_REFUSED };

/** The adapter's breaker, or none; see `StoreCallbacksOptions.breaker`. */
export class BreakerGate {
  readonly #breaker: CircuitBreaker | undefined;

  /**
   * @param options - the `breaker` option (`false`: no breaker)
   * @param storeKind - the store's `kind`, for `channels.breaker`
   * @throws TypeError/RangeError naming the option (`breaker.…`)
   */
  constructor(options: CircuitBreakerOptions | false | undefined, storeKind: string) {
    if (
      options !== undefined &&
      options !== false &&
      (typeof options !== 'object' || options === null)
    ) {
      throw new TypeError('breaker must be CircuitBreakerOptions or false');
    }
    this.#breaker =
      options === false
        ? undefined
        : new CircuitBreaker(
            options ?? {},
            (state) => {
              if (channels.breaker.hasSubscribers) {
                channels.breaker.publish({ store: storeKind, state });
              }
            },
            'breaker.',
          );
  }

  /** A ticket for one store call, or {@link BREAKER_REFUSED}: do not call the store. */
  acquire(): number {
    return this.#breaker === undefined ? 0 : this.#breaker.tryAcquire();
  }

  /** The call made with `ticket` succeeded. */
  succeeded(ticket: number): void {
    this.#breaker?.success(ticket);
  }

  /** The call made with `ticket` failed or timed out. */
  failed(ticket: number): void {
    this.#breaker?.failure(ticket);
  }

  /** The ticket was not used for a store call (e.g. the session did not encode). */
  release(ticket: number): void {
    this.#breaker?.release(ticket);
  }

  /** The breaker's state, or `disabled`. */
  get state(): CircuitState | 'disabled' {
    return this.#breaker === undefined ? 'disabled' : this.#breaker.state;
  }

  /** How many times the breaker opened. */
  get opens(): number {
    return this.#breaker === undefined ? 0 : this.#breaker.opens;
  }
}
