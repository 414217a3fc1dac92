// Revocation reports (`SessionStore.watchRevocations`): the pieces every store shares — the set of
// listeners of one store instance, and the batch that merges many removals into a bounded report.
import { sameBytes } from '../common/id-key.js';
import type { Revocation, RevocationListener } from './store.js';

/** A report that covers every session: `clear()`, or a watcher that may have missed reports. */
export const EVERYTHING: Revocation = Object.freeze({});

/** Ids one batch reports one by one; more become a report per namespace. */
export const MAX_BATCH_IDS = 64;
/** Namespaces one batch reports; more become one report of everything. */
export const MAX_BATCH_NAMESPACES = 16;

/** Whether `revocation` covers the session (`namespace`, `id`). */
export function covers(revocation: Revocation, namespace: string, id: Uint8Array): boolean {
  if (revocation.namespace === undefined) return true;
  if (revocation.namespace !== namespace) return false;
  return revocation.id === undefined || sameBytes(revocation.id, id);
}

/**
 * The listeners of one store instance. Reports go out synchronously, in order; a listener that
 * throws is ignored (a store's delete must not fail because a listener did).
 */
export class RevocationWatchers {
  readonly #listeners = new Set<RevocationListener>();

  /** Listeners registered now. */
  get size(): number {
    return this.#listeners.size;
  }

  /**
   * Registers `listener`; the returned function removes it (idempotent). A function registered
   * twice is two registrations.
   */
  add(listener: RevocationListener): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError('listener must be a function');
    }
    // Wrapped, so that the same function may be registered twice and removed once.
    const own: RevocationListener = (revocation) => listener(revocation);
    this.#listeners.add(own);
    return () => {
      this.#listeners.delete(own);
    };
  }

  /** Tells every listener. Ids are copied per listener: a listener may keep or change its copy. */
  announce(revocation: Revocation): void {
    for (const listener of [...this.#listeners]) {
      const copy =
        revocation.id === undefined
          ? revocation
          : { namespace: revocation.namespace, id: revocation.id.slice() };
      try {
        listener(copy);
      } catch {
        // A listener's failure is its own; the removal has happened either way.
      }
    }
  }

  /** Removes every listener (on close). */
  clear(): void {
    this.#listeners.clear();
  }
}

/**
 * Removals waiting to be reported together, kept bounded: beyond {@link MAX_BATCH_IDS} ids the
 * ids give way to their namespaces, beyond {@link MAX_BATCH_NAMESPACES} namespaces to one report
 * of everything. Reporting more than was removed is allowed (a watcher then drops more of its
 * memory than needed, which costs store reads, never a wrong resumption); reporting less is not.
 */
export class RevocationBatch {
  #everything = false;
  /** Namespaces reported whole. */
  readonly #namespaces = new Set<string>();
  /** Single ids, by namespace. */
  readonly #ids = new Map<string, Uint8Array[]>();
  #idCount = 0;

  /** Whether nothing was added. */
  get empty(): boolean {
    return !this.#everything && this.#namespaces.size === 0 && this.#idCount === 0;
  }

  /** Adds one removal. */
  add(revocation: Revocation): void {
    if (this.#everything) return;
    const { namespace, id } = revocation;
    if (namespace === undefined) {
      this.#everything = true;
      this.#namespaces.clear();
      this.#ids.clear();
      this.#idCount = 0;
      return;
    }
    if (this.#namespaces.has(namespace)) return;
    if (id === undefined) {
      this.#idCount -= this.#ids.get(namespace)?.length ?? 0;
      this.#ids.delete(namespace);
      this.#namespaces.add(namespace);
    } else {
      let ids = this.#ids.get(namespace);
      if (ids === undefined) this.#ids.set(namespace, (ids = []));
      ids.push(id.slice());
      this.#idCount++;
      if (this.#idCount > MAX_BATCH_IDS) {
        for (const name of this.#ids.keys()) this.#namespaces.add(name);
        this.#ids.clear();
        this.#idCount = 0;
      }
    }
    if (this.#namespaces.size + this.#ids.size > MAX_BATCH_NAMESPACES) this.add(EVERYTHING);
  }

  /** The reports that cover everything added: at most 64 ids in at most 16 namespaces. */
  reports(): Revocation[] {
    if (this.#everything) return [EVERYTHING];
    const out: Revocation[] = [];
    for (const namespace of this.#namespaces) out.push({ namespace });
    for (const [namespace, ids] of this.#ids) {
      for (const id of ids) out.push({ namespace, id });
    }
    return out;
  }
}

/**
 * Publishes removals for a networked store, merged and bounded: at most one publication in flight
 * per store instance; the removals made while it is on its way wait, merged by
 * {@link RevocationBatch}, and go out together in the next one. Concurrent deletes of many ids
 * thus become a few reports of at most 64 ids (or their namespaces, or everything), never one per
 * id; sequential deletes are one each, paced by the store's round trips.
 */
export class RevocationPublisher {
  readonly #send: (reports: Revocation[]) => Promise<unknown>;
  #next:
    | {
        batch: RevocationBatch;
        done: Promise<void>;
        resolve: () => void;
        reject: (error: unknown) => void;
      }
    | undefined;
  #sending = false;

  /** @param send - publishes one set of reports; its failure fails every removal in it */
  constructor(send: (reports: Revocation[]) => Promise<unknown>) {
    this.#send = send;
  }

  /** Publishes `revocation` (with whatever else is waiting); settles when it was published. */
  publish(revocation: Revocation): Promise<void> {
    if (this.#next === undefined) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#next = { batch: new RevocationBatch(), done, resolve, reject };
    }
    const next = this.#next;
    next.batch.add(revocation);
    if (!this.#sending) this.#flush();
    return next.done;
  }

  #flush(): void {
    const current = this.#next;
    if (current === undefined) return;
    this.#next = undefined;
    this.#sending = true;
    let sent: Promise<unknown>;
    try {
      sent = this.#send(current.batch.reports());
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      () => {
        current.resolve();
        this.#sending = false;
        this.#flush();
      },
      (error: unknown) => {
        current.reject(error);
        this.#sending = false;
        this.#flush();
      },
    );
  }
}
