// Revocation reaches every cache's memory: a session removed from the store (store.delete,
// store.clear, or cache.remove in any cache) leaves every bound cache's internal cache, with reason
// `revoked`, without a second delete; a store read overtaken by a revocation is a miss. Real
// sessions from real handshakes, one MemoryStore shared by two caches (two "servers" of one process).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/index.js';
import type { RemoveReason } from '../../src/cache/types.js';
import { onEvent } from '../../src/cache/events.js';
import { sessionRecordFromDer, type SessionRecord } from '../../src/session/session-record.js';
import { storeCallbacks, type StoreAdapter } from '../../src/stores/cache-adapter.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { encodeStoredSession } from '../../src/session/stored-record.js';
import {
  MAX_BATCH_IDS,
  MAX_BATCH_NAMESPACES,
  RevocationBatch,
  covers,
} from '../../src/stores/revocations.js';
import type { RevocationListener, SessionStore } from '../../src/stores/store.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { nodeHandshake } from '../helpers/session-handshakes.js';

const NS = 'ns';
let pki: TestPki;
let ders: Buffer[];

beforeAll(async () => {
  pki = makeTestPki();
  // Two TLS 1.2 sessions (two handshakes): two distinct ids.
  ders = [];
  for (let i = 0; i < 2; i++) {
    ders.push(
      (await nodeHandshake({ pki, version: 'TLSv1.2', servername: 'localhost' })).server[0]!,
    );
  }
});
afterAll(() => pki.cleanup());

const record = (der: Buffer, namespace = NS): SessionRecord =>
  sessionRecordFromDer(der, namespace, 'localhost');

interface Server {
  cache: SessionCache;
  adapter: StoreAdapter;
  removals: RemoveReason[];
}

/** A cache in front of `store`, bound to it, as `serve` makes one per process. */
function server(store: SessionStore): Server {
  const adapter = storeCallbacks(store);
  const removals: RemoveReason[] = [];
  const cache = new SessionCache({
    ...adapter.callbacks,
    onRemove: (id, reason, session, namespace) => {
      removals.push(reason);
      adapter.onRemove(id, reason, session, namespace);
    },
  });
  adapter.bind(cache);
  return { cache, adapter, removals };
}

/** A session made on `a` (in a's memory and the store) and resumed on `b` (now in b's memory). */
function shared(a: Server, b: Server, session: SessionRecord): void {
  a.cache.sessionNegotiated(session);
  const found = b.cache.lookup(session.id, { namespace: session.namespace ?? '' });
  expect(found).toMatchObject({ source: 'external' });
  expect(a.cache.has(session.id, session.namespace)).toBe(true);
  expect(b.cache.has(session.id, session.namespace)).toBe(true);
}

describe('revocation through a shared MemoryStore', () => {
  it('store.delete drops the session from every bound cache, reason revoked, no second delete', () => {
    const store = new MemoryStore();
    const [a, b] = [server(store), server(store)];
    const session = record(ders[0]!);
    shared(a, b, session);
    const events: RemoveReason[] = [];
    const unsubscribe = onEvent('remove', (event) => events.push(event.reason));
    try {
      expect(store.delete(NS, session.id)).toBe(true);
    } finally {
      unsubscribe();
    }
    for (const s of [a, b]) {
      expect(s.cache.has(session.id, NS)).toBe(false);
      expect(s.removals).toEqual(['revoked']);
      // A lookup now finds it nowhere: a full handshake.
      expect(s.cache.lookup(session.id, { namespace: NS })).toMatchObject({ source: 'none' });
      expect(s.adapter.stats()).toMatchObject({ deletes: 0, revocations: 1, revokedSessions: 1 });
    }
    expect(events).toEqual(['revoked', 'revoked']);
  });

  it('cache.remove in one cache deletes from the store once and drops the copy in the other', () => {
    const store = new MemoryStore();
    const [a, b] = [server(store), server(store)];
    const session = record(ders[0]!);
    shared(a, b, session);
    expect(a.cache.remove(session.id, NS)).toBe(true);
    expect(a.removals).toEqual(['removed']);
    expect(b.removals).toEqual(['revoked']);
    expect(b.cache.has(session.id, NS)).toBe(false);
    expect(a.adapter.stats().deletes).toBe(1);
    expect(b.adapter.stats().deletes).toBe(0);
    expect(store.get(NS, session.id)).toBeUndefined();
  });

  it('a delete of a session the store no longer holds still reaches every memory', () => {
    const store = new MemoryStore();
    const [a, b] = [server(store), server(store)];
    const session = record(ders[0]!);
    shared(a, b, session);
    // Evicted from the store, say; the copies in memory must still go.
    store.clear();
    a.cache.add(session);
    b.cache.add(session);
    expect(store.delete(NS, session.id)).toBe(false);
    expect(a.cache.has(session.id, NS)).toBe(false);
    expect(b.cache.has(session.id, NS)).toBe(false);
  });

  it('clear(namespace) drops that namespace from memory, clear() everything', () => {
    const store = new MemoryStore();
    const [a, b] = [server(store), server(store)];
    const one = record(ders[0]!, 'one');
    const two = record(ders[1]!, 'two');
    shared(a, b, one);
    shared(a, b, two);
    expect(store.clear('one')).toBe(1);
    for (const s of [a, b]) {
      expect(s.cache.has(one.id, 'one')).toBe(false);
      expect(s.cache.has(two.id, 'two')).toBe(true);
    }
    expect(store.clear()).toBe(1);
    for (const s of [a, b]) {
      expect(s.cache.stats().number).toBe(0);
      expect(s.removals).toEqual(['revoked', 'revoked']);
      expect(s.adapter.stats().deletes).toBe(0);
    }
  });

  it('an unbound cache (or a closed adapter) keeps its copy', async () => {
    const store = new MemoryStore();
    const a = server(store);
    const adapter = storeCallbacks(store);
    const cache = new SessionCache({ ...adapter.callbacks });
    const unbind = adapter.bind(cache);
    const session = record(ders[0]!);
    a.cache.sessionNegotiated(session);
    cache.lookup(session.id, { namespace: NS });
    unbind();
    unbind();
    store.delete(NS, session.id);
    expect(cache.has(session.id, NS)).toBe(true);
    expect(a.cache.has(session.id, NS)).toBe(false);
    // A closed adapter stops listening before it closes the store.
    a.cache.add(session);
    await a.adapter.close();
    expect(() => store.delete(NS, session.id)).toThrow(/closed/);
    expect(a.cache.has(session.id, NS)).toBe(true);
  });

  it('a store read overtaken by a revocation is a miss, not a revoked session back in memory', async () => {
    const store = new GatedStore(new MemoryStore());
    const a = server(store);
    const session = record(ders[0]!);
    store.inner.set(NS, session.id, encodeStoredSession(session), Date.now() + 60_000);
    store.hold();
    const pending = a.cache.lookup(session.id, { namespace: NS });
    expect(pending).toBeInstanceOf(Promise);
    // The GET has been answered by the store; the report of a delete overtakes the answer.
    store.inner.delete(NS, session.id);
    store.release();
    expect(await pending).toMatchObject({ source: 'none' });
    expect(a.cache.has(session.id, NS)).toBe(false);
    expect(a.adapter.stats()).toMatchObject({ staleReads: 1, found: 0 });
    // Without a revocation the same read resumes (the test can fail).
    store.inner.set(NS, session.id, encodeStoredSession(session), Date.now() + 60_000);
    expect(await a.cache.lookup(session.id, { namespace: NS })).toMatchObject({
      source: 'external',
    });
  });

  it('a store without watchRevocations: bind does nothing, and says so', () => {
    const inner = new MemoryStore();
    const store: SessionStore = {
      kind: 'plain',
      maxValueBytes: inner.maxValueBytes,
      set: (...args) => inner.set(...args),
      get: (...args) => inner.get(...args),
      take: (...args) => inner.take(...args),
      delete: (...args) => inner.delete(...args),
      close: () => inner.close(),
    };
    const adapter = storeCallbacks(store);
    expect(adapter.propagatesRevocations).toBe(false);
    expect(storeCallbacks(inner).propagatesRevocations).toBe(true);
    const unbind = adapter.bind(new SessionCache({ ...adapter.callbacks }));
    unbind();
    expect(() => adapter.bind({} as never)).toThrow(TypeError);
  });
});

describe('RevocationBatch: many removals, one bounded report', () => {
  const id = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);

  it('keeps up to 64 ids as they are', () => {
    const batch = new RevocationBatch();
    expect(batch.empty).toBe(true);
    for (let i = 0; i < MAX_BATCH_IDS; i++) batch.add({ namespace: 'a', id: id(i) });
    const reports = batch.reports();
    expect(reports).toHaveLength(MAX_BATCH_IDS);
    for (let i = 0; i < MAX_BATCH_IDS; i++) {
      expect(reports.some((r) => covers(r, 'a', id(i)))).toBe(true);
    }
    expect(reports.some((r) => covers(r, 'a', id(MAX_BATCH_IDS)))).toBe(false);
  });

  it('beyond 64 ids reports their namespaces; beyond 16 namespaces everything', () => {
    const batch = new RevocationBatch();
    for (let i = 0; i <= MAX_BATCH_IDS; i++) batch.add({ namespace: `ns${i % 3}`, id: id(i) });
    expect(batch.reports()).toEqual([
      { namespace: 'ns0' },
      { namespace: 'ns1' },
      { namespace: 'ns2' },
    ]);
    for (let i = 0; i < MAX_BATCH_NAMESPACES; i++) batch.add({ namespace: `other${i}` });
    expect(batch.reports()).toEqual([{}]);
    batch.add({ namespace: 'x', id: id(1) });
    expect(batch.reports()).toEqual([{}]);
  });

  it('a namespace report absorbs that namespace’s ids', () => {
    const batch = new RevocationBatch();
    batch.add({ namespace: 'a', id: id(1) });
    batch.add({ namespace: 'b', id: id(2) });
    batch.add({ namespace: 'a' });
    batch.add({ namespace: 'a', id: id(3) });
    expect(batch.reports()).toEqual([{ namespace: 'a' }, { namespace: 'b', id: id(2) }]);
  });
});

/**
 * A MemoryStore answering `get` with a promise that can be held after the value was read, like a
 * networked store whose answer is on its way while a revocation report overtakes it.
 */
class GatedStore implements SessionStore {
  readonly kind = 'gated-memory';
  readonly maxValueBytes: number;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  constructor(readonly inner: MemoryStore) {
    this.maxValueBytes = inner.maxValueBytes;
  }

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open?.();
  }

  async get(namespace: string, id: Uint8Array): Promise<Uint8Array | undefined> {
    const value = this.inner.get(namespace, id);
    await this.#gate;
    this.#gate = undefined;
    return value;
  }
  set(namespace: string, id: Uint8Array, value: Uint8Array, expiresAtMs: number): boolean {
    return this.inner.set(namespace, id, value, expiresAtMs);
  }
  take(namespace: string, id: Uint8Array): Uint8Array | undefined {
    return this.inner.take(namespace, id);
  }
  delete(namespace: string, id: Uint8Array): boolean {
    return this.inner.delete(namespace, id);
  }
  watchRevocations(listener: RevocationListener): () => void {
    return this.inner.watchRevocations(listener);
  }
  close(): void {
    this.inner.close();
  }
}
