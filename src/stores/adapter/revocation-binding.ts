// Keeps the memory of bound caches in step with the store: every revocation the store reports
// (a delete or clear made anywhere) drops the session from each bound cache, and marks the reads
// in flight that it overtook. A read of a shared store may be answered with a session just before
// it was deleted and reach us after the report of that delete (two connections, no order between
// them); its answer would put the revoked session back into memory. Only reads whose answer the
// cache keeps matter (`get`; a `take`'s answer resumes once and is not kept). Bounded by the
// store's pending commands.
import { covers } from '../revocations.js';
import type { Revocation, SessionStore } from '../store.js';
import type { StoreOperation } from './timed-call.js';

/** What a binding needs of a cache: `SessionCache`'s `revoke` and `revokeAll`. */
export interface RevocableCache {
  /** Drops the session from memory; see `SessionCache.revoke`. */
  revoke(id: Uint8Array, namespace: string): boolean;
  /** Drops every session of `namespace` (every session when `undefined`); see `SessionCache.revokeAll`. */
  revokeAll(namespace?: string): number;
}

/** A read in flight that a revocation may overtake. */
export interface ReadInFlight {
  readonly namespace: string;
  readonly id: Uint8Array;
  stale: boolean;
}

/** The counters the binding keeps (fields of `StoreAdapterStats`). */
export interface RevocationCounters {
  revocations: number;
  revokedSessions: number;
}

/** The bound caches and the reads in flight of one adapter; see the file comment. */
export class RevocationBinding {
  readonly #store: SessionStore;
  readonly #counters: RevocationCounters;
  readonly #report: (error: unknown, operation: StoreOperation) => void;
  readonly #bound = new Set<RevocableCache>();
  readonly #reads = new Set<ReadInFlight>();
  #unwatch: (() => void) | undefined;
  /** Whether the store reports revocations (has `watchRevocations`). */
  readonly propagates: boolean;

  /**
   * @param store - the adapter's store
   * @param counters - updated in place (the adapter's stats object)
   * @param report - told of an exception a cache's revoke threw
   */
  constructor(
    store: SessionStore,
    counters: RevocationCounters,
    report: (error: unknown, operation: StoreOperation) => void,
  ) {
    this.#store = store;
    this.#counters = counters;
    this.#report = report;
    this.propagates = typeof store.watchRevocations === 'function';
  }

  /** Whether reports are being received (some cache is bound): only then are reads tracked. */
  get watching(): boolean {
    return this.#unwatch !== undefined;
  }

  /**
   * Binds `cache` (see `StoreAdapter.bind`); `closed` makes it a no-op.
   * @returns a function that unbinds it (idempotent)
   */
  bind(cache: RevocableCache, closed: boolean): () => void {
    if (
      typeof cache !== 'object' ||
      cache === null ||
      typeof cache.revoke !== 'function' ||
      typeof cache.revokeAll !== 'function'
    ) {
      throw new TypeError('cache must be a SessionCache (with revoke and revokeAll)');
    }
    if (!this.propagates || closed) return () => undefined;
    this.#bound.add(cache);
    this.#unwatch ??= this.#store.watchRevocations!(this.#onRevocation);
    return () => {
      this.#bound.delete(cache);
      if (this.#bound.size === 0) this.stop();
    };
  }

  /**
   * Resolves once the store's reports reach the bound caches (see
   * `SessionStore.revocationsInForce`), at once when nothing is bound. Never rejects.
   */
  async inForce(): Promise<boolean> {
    if (!this.watching || this.#store.revocationsInForce === undefined) return true;
    try {
      return await this.#store.revocationsInForce();
    } catch {
      // A user store that breaks the rule: its reports may come late, which costs misses only.
      return false;
    }
  }

  /** Starts tracking a read (call only while {@link watching}); pair with {@link endRead}. */
  beginRead(read: ReadInFlight): void {
    this.#reads.add(read);
  }

  /** Stops tracking a read; its `stale` says whether a revocation overtook it. */
  endRead(read: ReadInFlight): void {
    this.#reads.delete(read);
  }

  /** Unbinds every cache and stops watching (at the adapter's close). */
  close(): void {
    this.#bound.clear();
    this.stop();
  }

  /** Stops watching the store's revocations. */
  stop(): void {
    const stop = this.#unwatch;
    this.#unwatch = undefined;
    stop?.();
  }

  readonly #onRevocation = (revocation: Revocation): void => {
    this.#counters.revocations++;
    for (const read of this.#reads) {
      if (covers(revocation, read.namespace, read.id)) read.stale = true;
    }
    for (const cache of this.#bound) {
      try {
        if (revocation.namespace === undefined || revocation.id === undefined) {
          this.#counters.revokedSessions += cache.revokeAll(revocation.namespace);
        } else if (cache.revoke(revocation.id, revocation.namespace)) {
          this.#counters.revokedSessions++;
        }
      } catch (error) {
        this.#report(error, 'revoke');
      }
    }
  };
}
