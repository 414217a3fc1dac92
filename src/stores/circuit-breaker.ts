// A circuit breaker in front of a session store: after repeated failures the cache stops asking a
// dead store (lookups miss at once, writes are dropped), and asks it again, one probe at a time,
// after a short cool-down.
//
// Hand-written rather than opossum or cockatiel: both wrap the call and always answer with a promise
// (`breaker.fire()`, `policy.execute()`), and an in-process store (MemoryStore, SqliteStore) answers
// synchronously so that a lookup allocates no promise at all. Here the caller asks for a ticket,
// makes the call itself (synchronously or not) and reports the outcome: in the closed state that is
// an integer comparison and no clock read, no allocation.
import { performance } from 'node:perf_hooks';
import { checkOptions, functionOption, integerOption } from '../common/validate.js';

/**
 * The breaker's state:
 * - `closed`: calls go through; consecutive failures are counted;
 * - `open`: calls are refused until the cool-down has passed;
 * - `half-open`: one call (the probe) goes through; its success closes the breaker, its failure
 *   opens it again for another cool-down.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options of the store adapter's circuit breaker (`storeCallbacks(store, { breaker })`). */
export interface CircuitBreakerOptions {
  /**
   * Consecutive failures (errors or timeouts, with no success in between) that open the breaker.
   * @default 5
   */
  failureThreshold?: number;
  /**
   * The failures must fall within this many milliseconds of the first of them; older ones no
   * longer count, so a store that fails now and then never opens the breaker.
   * @default 10000
   */
  failureWindowMs?: number;
  /**
   * How long the breaker stays open before it lets one probe through, in milliseconds. Short
   * enough that a store that is back is used again within about a second.
   * @default 500
   */
  cooldownMs?: number;
  /**
   * Up to this many milliseconds, chosen at random, are added to each cool-down, so that the
   * processes of a fleet do not all probe a recovering store at the same instant.
   * @default 100
   */
  cooldownJitterMs?: number;
  /**
   * The clock the cool-down and the window are measured with, in milliseconds. Monotonic by
   * default: a wall-clock step must not open or close anything. Inject one in tests.
   * @default performance.now
   */
  clock?: () => number;
  /**
   * Random numbers in [0, 1) for the jitter. Inject one in tests.
   * @default Math.random
   */
  random?: () => number;
}

/** Defaults of {@link CircuitBreakerOptions} (the numbers are the `@default`s documented there). */
export const CIRCUIT_BREAKER_DEFAULTS = Object.freeze({
  /** {@link CircuitBreakerOptions.failureThreshold}: failures that open the breaker. */
  failureThreshold: 5,
  /** {@link CircuitBreakerOptions.failureWindowMs}, milliseconds. */
  failureWindowMs: 10_000,
  /** {@link CircuitBreakerOptions.cooldownMs}, milliseconds. */
  cooldownMs: 500,
  /** {@link CircuitBreakerOptions.cooldownJitterMs}, milliseconds. */
  cooldownJitterMs: 100,
});

/** A ticket {@link CircuitBreaker.tryAcquire} hands out when the call must not be made. */
export const BREAKER_REFUSED = -1;

/**
 * A consecutive-failure circuit breaker with a single-probe half-open state.
 *
 * Use: `const ticket = breaker.tryAcquire()`; if it is {@link BREAKER_REFUSED}, do not call;
 * otherwise make the call and report exactly one of `success(ticket)`, `failure(ticket)` or
 * `release(ticket)` (the call was not made after all, or its outcome says nothing about the store).
 * A ticket is the breaker's generation, which changes on every state change: an outcome reported with an older
 * ticket — a call made before the breaker opened that ends while it is half-open — is ignored, so
 * only the probe decides whether a half-open breaker closes.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ failureThreshold: 5, cooldownMs: 500 });
 * const ticket = breaker.tryAcquire();
 * if (ticket === BREAKER_REFUSED) return undefined; // a miss
 * store.get(ns, id).then(
 *   (value) => (breaker.success(ticket), value),
 *   (error) => (breaker.failure(ticket), undefined),
 * );
 * ```
 * @throws TypeError/RangeError naming the option for invalid options
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #windowMs: number;
  readonly #cooldownMs: number;
  readonly #jitterMs: number;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #onChange: ((state: CircuitState) => void) | undefined;

  #state: CircuitState = 'closed';
  /** Bumped on every state change; the tickets handed out. */
  #generation = 0;
  #failures = 0;
  #firstFailureAt = 0;
  #openUntil = 0;
  #probing = false;
  #opens = 0;

  /**
   * @param options the thresholds; see {@link CircuitBreakerOptions}
   * @param onChange told of every state change (after it happened); an exception thrown there is
   *   ignored
   * @param optionPrefix prepended to option names in error messages, e.g. `"breaker."`
   */
  constructor(
    options: CircuitBreakerOptions = {},
    onChange?: (state: CircuitState) => void,
    optionPrefix = '',
  ) {
    const opts = checkOptions(options);
    const name = (option: string): string => optionPrefix + option;
    const d = CIRCUIT_BREAKER_DEFAULTS;
    this.#threshold = integerOption(
      name('failureThreshold'),
      opts.failureThreshold,
      d.failureThreshold,
      1,
      1_000_000,
    );
    this.#windowMs = integerOption(
      name('failureWindowMs'),
      opts.failureWindowMs,
      d.failureWindowMs,
      1,
      86_400_000,
    );
    this.#cooldownMs = integerOption(
      name('cooldownMs'),
      opts.cooldownMs,
      d.cooldownMs,
      1,
      3_600_000,
    );
    this.#jitterMs = integerOption(
      name('cooldownJitterMs'),
      opts.cooldownJitterMs,
      d.cooldownJitterMs,
      0,
      3_600_000,
    );
    this.#clock = functionOption(name('clock'), opts.clock) ?? performance.now.bind(performance);
    this.#random = functionOption(name('random'), opts.random) ?? Math.random;
    this.#onChange = functionOption('onChange', onChange);
  }

  /** The current state. An open breaker whose cool-down has passed still says `open` until asked. */
  get state(): CircuitState {
    return this.#state;
  }

  /** How many times the breaker has opened (from closed, or again from half-open). */
  get opens(): number {
    return this.#opens;
  }

  /**
   * Whether a call may be made now: a ticket to report its outcome with, or
   * {@link BREAKER_REFUSED}. An open breaker whose cool-down has passed turns half-open and hands
   * out one ticket (the probe); every other call is refused until the probe's outcome is reported.
   */
  tryAcquire(): number {
    if (this.#state === 'closed') return this.#generation;
    if (this.#state === 'open') {
      if (this.#clock() < this.#openUntil) return BREAKER_REFUSED;
      this.#probing = true;
      this.#change('half-open');
      return this.#generation;
    }
    if (this.#probing) return BREAKER_REFUSED;
    // A released probe: the next call probes instead.
    this.#probing = true;
    return this.#generation;
  }

  /** The call made with `ticket` succeeded: resets the failure count; a probe's closes the breaker. */
  success(ticket: number): void {
    if (ticket !== this.#generation) return;
    if (this.#state === 'closed') {
      this.#failures = 0;
    } else if (this.#state === 'half-open') {
      this.#probing = false;
      this.#failures = 0;
      this.#change('closed');
    }
  }

  /**
   * The call made with `ticket` failed or timed out: counts towards opening; a probe's failure
   * opens the breaker again.
   */
  failure(ticket: number): void {
    if (ticket !== this.#generation) return;
    if (this.#state === 'half-open') {
      this.#probing = false;
      this.#open(this.#clock());
      return;
    }
    if (this.#state !== 'closed') return;
    const now = this.#clock();
    if (this.#failures === 0 || now - this.#firstFailureAt > this.#windowMs) {
      this.#failures = 0;
      this.#firstFailureAt = now;
    }
    if (++this.#failures >= this.#threshold) this.#open(now);
  }

  /**
   * The call of `ticket` was not made, or its outcome says nothing about the store: a probe may go
   * again.
   */
  release(ticket: number): void {
    if (ticket === this.#generation && this.#state === 'half-open') this.#probing = false;
  }

  #open(now: number): void {
    this.#failures = 0;
    this.#openUntil = now + this.#cooldownMs + Math.floor(this.#random() * (this.#jitterMs + 1));
    this.#opens++;
    this.#change('open');
  }

  #change(state: CircuitState): void {
    this.#state = state;
    this.#generation++;
    if (this.#onChange === undefined) return;
    try {
      this.#onChange(state);
    } catch {
      // A listener must not break the store path.
    }
  }
}
