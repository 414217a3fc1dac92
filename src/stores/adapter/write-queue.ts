// The store adapter's write slots: at most `maxInFlightWrites` asynchronous writes and deletes
// pending at once (a slow or unreachable store costs full handshakes, never an unbounded queue of
// sessions — secrets — in memory), each written off after `writeTimeoutMs` so that a hung store
// cannot hold a slot (or the breaker) forever, and `drain()` for whoever waits for them all.
import type { BreakerGate } from './breaker-gate.js';
import { startTimeout, timeoutError, type StoreOperation } from './timed-call.js';

/** The counters the write queue keeps (fields of `StoreAdapterStats`). */
export interface WriteQueueCounters {
  inFlight: number;
  writeTimeouts: number;
  writeErrors: number;
  deleteErrors: number;
}

/** Where the queue reports a failed or timed-out write. */
export type ReportFailure = (error: unknown, operation: StoreOperation) => void;

/** Pending writes and deletes of an asynchronous store; see the file comment. */
export class WriteQueue {
  readonly #maxInFlight: number;
  readonly #timeoutMs: number;
  readonly #gate: BreakerGate;
  readonly #counters: WriteQueueCounters;
  readonly #report: ReportFailure;
  #idle: (() => void)[] = [];

  /**
   * @param maxInFlight - `maxInFlightWrites`
   * @param timeoutMs - `writeTimeoutMs`
   * @param gate - told of each write's outcome
   * @param counters - updated in place (the adapter's stats object)
   * @param report - told of each failure after it was counted
   */
  constructor(
    maxInFlight: number,
    timeoutMs: number,
    gate: BreakerGate,
    counters: WriteQueueCounters,
    report: ReportFailure,
  ) {
    this.#maxInFlight = maxInFlight;
    this.#timeoutMs = timeoutMs;
    this.#gate = gate;
    this.#counters = counters;
    this.#report = report;
  }

  /** Whether every slot is taken: a new write must be dropped. */
  get full(): boolean {
    return this.#counters.inFlight >= this.#maxInFlight;
  }

  /**
   * Takes a slot for `pending` until it settles or `timeoutMs` passes, whichever is first;
   * `onResult` sees the store's answer if it came in time. A write written off at the timeout
   * counts as a failure, and whatever the store answers later is ignored.
   */
  track(
    pending: PromiseLike<unknown>,
    operation: 'set' | 'delete',
    ticket: number,
    onResult: (result: unknown) => void,
  ): void {
    const counters = this.#counters;
    const gate = this.#gate;
    counters.inFlight++;
    let done = false;
    const timer = startTimeout(this.#timeoutMs, () => {
      if (done) return;
      done = true;
      this.#settled();
      counters.writeTimeouts++;
      gate.failed(ticket);
      this.#report(timeoutError(operation, this.#timeoutMs), operation);
    });
    Promise.resolve(pending).then(
      (result) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#settled();
        gate.succeeded(ticket);
        onResult(result);
      },
      (error: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#settled();
        gate.failed(ticket);
        if (operation === 'set') counters.writeErrors++;
        else counters.deleteErrors++;
        this.#report(error, operation);
      },
    );
  }

  /** Resolves once every write tracked so far has settled or been written off. Never rejects. */
  drain(): Promise<void> {
    return this.#counters.inFlight === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.#idle.push(resolve);
        });
  }

  #settled(): void {
    this.#counters.inFlight--;
    if (this.#counters.inFlight === 0 && this.#idle.length > 0) {
      const waiting = this.#idle;
      this.#idle = [];
      for (const resolve of waiting) resolve();
    }
  }
}
