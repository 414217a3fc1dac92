// A store of your own checked by the shared conformance suite. Shown in docs/stores.md; imported by
// test/docs/examples.test.ts, which runs the suite against this (memory-backed) store.
import { MemoryStore, type MemoryStoreOptions, type SessionStore } from 'tls-session-cache';

/** Stands in for a user's store: one that keeps sessions in a MemoryStore. */
class MyStore extends MemoryStore {
  constructor(options: MemoryStoreOptions) {
    super(options);
  }
  static connectToSameBackend(store: SessionStore): SessionStore {
    return store;
  }
}

// #region docs
import { describe, it } from 'vitest'; // or: import { describe, it } from 'node:test';
import { runStoreConformance } from 'tls-session-cache/testing';

runStoreConformance('MyStore', ({ clock }) => new MyStore({ clock }), {
  describe,
  it,
  makeSibling: (store) => MyStore.connectToSameBackend(store), // optional
});
// #endregion docs
