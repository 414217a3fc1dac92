// Deletes for a bulk removal. A synchronous store (SQLite) deletes at once; an asynchronous one
// (Redis) gets up to DELETE_CONCURRENCY deletes in flight, so that removing many sessions costs
// far fewer than one round trip each, without an unbounded queue.
import type { SessionStore } from '../stores/store.js';

/** Most deletes in flight at once against an asynchronous store. */
export const DELETE_CONCURRENCY = 64;

/** A bounded pipeline of `store.delete` calls that counts what was deleted. */
export class DeleteQueue {
  /** Deletes that removed something so far. */
  removed = 0;
  readonly #store: SessionStore;
  readonly #pending = new Set<Promise<void>>();
  #failure: unknown;
  #failed = false;

  constructor(store: SessionStore) {
    this.#store = store;
  }

  /**
   * Deletes (`namespace`, `id`); resolves once there is room for the next one.
   * @throws the first failure of any delete issued so far
   */
  async push(namespace: string, id: Uint8Array): Promise<void> {
    this.#check();
    const result = this.#store.delete(namespace, id);
    if (typeof result === 'boolean') {
      if (result) this.removed++;
      return;
    }
    const pending: Promise<void> = result.then(
      (deleted) => {
        if (deleted) this.removed++;
      },
      (error: unknown) => {
        if (!this.#failed) {
          this.#failed = true;
          this.#failure = error;
        }
      },
    );
    this.#pending.add(pending);
    void pending.finally(() => this.#pending.delete(pending));
    if (this.#pending.size >= DELETE_CONCURRENCY) await Promise.race(this.#pending);
    this.#check();
  }

  /** Waits for every delete issued. @throws the first failure */
  async drain(): Promise<void> {
    await Promise.all(this.#pending);
    this.#check();
  }

  #check(): void {
    if (this.#failed) throw this.#failure;
  }
}
