// storeCallbacks(): any SessionStore as a SessionCache's external cache. Real handshakes between
// servers that share one store, and the callbacks' semantics on real sessions: background writes
// with a bound, deletes only for "never again", take for single use, synchronous answers from a
// synchronous store, every failure a counted miss.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/index.js';
import type { RemoveReason } from '../../src/cache/types.js';
import { sessionRecordFromDer, type SessionRecord } from '../../src/session/session-record.js';
import { storeCallbacks, type StoreAdapter } from '../../src/stores/cache-adapter.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { encodeStoredSession, type StoredSessionCodec } from '../../src/session/stored-record.js';
import type { SessionStore } from '../../src/stores/store.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { nodeHandshake } from '../helpers/session-handshakes.js';
import { connect, startServer, type TestServer } from '../helpers/tls-server.js';

const NS = 'ns';
let pki: TestPki;
let tls12Der: Buffer;
let tls13Ders: Buffer[];

beforeAll(async () => {
  pki = makeTestPki();
  tls12Der = (await nodeHandshake({ pki, version: 'TLSv1.2', servername: 'localhost' })).server[0]!;
  tls13Ders = (await nodeHandshake({ pki, version: 'TLSv1.3', servername: 'localhost' })).server;
  expect(tls13Ders.length).toBe(2);
});
afterAll(() => pki.cleanup());

const record = (der: Buffer = tls12Der, namespace = NS): SessionRecord =>
  sessionRecordFromDer(der, namespace, 'localhost');

/**
 * An asynchronous store: a MemoryStore whose answers arrive after `delayMs` (as a networked store's
 * would), whose writes can be held at a gate, and which can be told to fail.
 */
class AsyncStore implements SessionStore {
  readonly kind = 'async-memory';
  readonly inner: MemoryStore;
  readonly maxValueBytes: number;
  delayMs = 1;
  fail: 'none' | 'throw' | 'reject' = 'none';
  #gate: Promise<void> | undefined;
  #openGate: (() => void) | undefined;

  constructor(inner = new MemoryStore()) {
    this.inner = inner;
    this.maxValueBytes = inner.maxValueBytes;
  }

  holdWrites(): void {
    this.#gate = new Promise((resolve) => (this.#openGate = resolve));
  }

  releaseWrites(): void {
    this.#openGate?.();
    this.#gate = undefined;
  }

  async #answer<T>(op: () => T, gated = false): Promise<T> {
    if (this.fail === 'throw') throw new Error('store down (sync)');
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (gated) await this.#gate;
    if (this.fail === 'reject') throw new Error('store down');
    return op();
  }

  set(namespace: string, id: Uint8Array, value: Uint8Array, expiresAtMs: number): Promise<boolean> {
    if (this.fail === 'throw') throw new Error('store down (sync)');
    return this.#answer(() => this.inner.set(namespace, id, value, expiresAtMs), true);
  }
  get(namespace: string, id: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.fail === 'throw') throw new Error('store down (sync)');
    return this.#answer(() => this.inner.get(namespace, id));
  }
  take(namespace: string, id: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.fail === 'throw') throw new Error('store down (sync)');
    return this.#answer(() => this.inner.take(namespace, id));
  }
  delete(namespace: string, id: Uint8Array): Promise<boolean> {
    if (this.fail === 'throw') throw new Error('store down (sync)');
    return this.#answer(() => this.inner.delete(namespace, id), true);
  }
  close(): void {
    this.inner.close();
  }
}

describe('storeCallbacks: real handshakes through a shared store', () => {
  for (const store of ['sync', 'async'] as const) {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`${version}, ${store} store: a session made on server A resumes on server B`, async () => {
        const memory = new MemoryStore();
        const shared: SessionStore = store === 'sync' ? memory : new AsyncStore(memory);
        const servers: TestServer[] = [];
        const adapters: StoreAdapter[] = [];
        try {
          for (let i = 0; i < 2; i++) {
            const adapter = storeCallbacks(shared);
            adapters.push(adapter);
            // External cache only: whatever resumes on B came from the store.
            const cache = new SessionCache({
              ...adapter.callbacks,
              noInternalLookup: true,
              noInternalStore: true,
            });
            servers.push(await startServer(pki, { maxVersion: version, cache }));
          }
          const [a, b] = servers as [TestServer, TestServer];
          const first = await connect(a.port, { maxVersion: version });
          expect(first.reused).toBe(false);
          await adapters[0]!.drain();
          expect(memory.stats().entries).toBe(version === 'TLSv1.3' ? 2 : 1);
          const onB = await connect(b.port, { maxVersion: version, session: first.sessions[0] });
          expect(onB).toMatchObject({ reused: true, protocol: version, data: 'hello' });
          expect(b.cache.stats()).toMatchObject({ cbHits: 1, hits: 1 });
          const again = await connect(a.port, { maxVersion: version, session: first.sessions[0] });
          // A TLS 1.3 ticket was taken out of the store by B: A cannot resume it again.
          expect(again.reused).toBe(version === 'TLSv1.2');
          expect(adapters[1]!.stats()).toMatchObject({ found: 1, readErrors: 0, decodeErrors: 0 });
        } finally {
          for (const server of servers) await server.close();
          for (const server of servers) server.cache.close();
          await adapters[0]!.close();
        }
      });
    }
  }
});

describe('storeCallbacks: onNew', () => {
  it('writes the envelope under (namespace, id) until (time + timeout) × 1000', async () => {
    const store = new MemoryStore();
    const adapter = storeCallbacks(store);
    const r = record();
    adapter.onNew(r);
    const [entry] = await collect(store.list({ withValues: true }));
    expect(entry).toMatchObject({ namespace: NS, expiresAtMs: (r.time + r.timeout) * 1000 });
    expect(Buffer.from(entry!.id).equals(Buffer.from(r.id))).toBe(true);
    expect(Buffer.from(entry!.value!).equals(Buffer.from(encodeStoredSession(r)))).toBe(true);
    expect(adapter.stats()).toMatchObject({ writes: 1, notStored: 0, writeErrors: 0 });
    store.close();
  });

  it('counts refused writes, failed writes, and sessions it cannot encode; never throws', async () => {
    const tiny = new MemoryStore({ maxValueBytes: 16 });
    const a = storeCallbacks(tiny);
    a.onNew(record());
    expect(a.stats()).toMatchObject({ writes: 1, notStored: 1 });
    a.onNew({ id: new Uint8Array(40), data: Buffer.alloc(10) });
    expect(a.stats()).toMatchObject({ writes: 1, writeErrors: 1 });

    const failing = new AsyncStore();
    const errors: string[] = [];
    const b = storeCallbacks(failing, { onError: (_e, op) => errors.push(op) });
    failing.fail = 'throw';
    b.onNew(record());
    failing.fail = 'reject';
    b.onNew(record());
    await b.drain();
    expect(b.stats()).toMatchObject({ writes: 2, writeErrors: 2, inFlight: 0 });
    expect(errors).toEqual(['set', 'set']);
    tiny.close();
    failing.close();
  });

  it('keeps at most maxInFlightWrites writes pending, drops and counts the rest', async () => {
    const store = new AsyncStore();
    const adapter = storeCallbacks(store, { maxInFlightWrites: 3 });
    store.holdWrites();
    const r = record();
    for (let i = 0; i < 5; i++) adapter.onNew(r);
    expect(adapter.stats()).toMatchObject({ writes: 3, droppedWrites: 2, inFlight: 3 });
    // A delete that must happen is subject to the same bound.
    adapter.onRemove(r.id, 'removed', undefined, NS);
    expect(adapter.stats()).toMatchObject({ deletes: 0, droppedDeletes: 1 });
    let drained = false;
    const draining = adapter.drain().then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(drained).toBe(false);
    store.releaseWrites();
    await draining;
    expect(adapter.stats()).toMatchObject({ inFlight: 0, writeErrors: 0 });
    // Room again.
    adapter.onNew(r);
    expect(adapter.stats().writes).toBe(4);
    await adapter.close();
  });
});

describe('storeCallbacks: onRemove', () => {
  it('deletes from the store only for removed and bad', () => {
    const reasons: RemoveReason[] = [
      'expired',
      'evicted',
      'replaced',
      'removed',
      'flushed',
      'notKept',
      'resumed',
      'bad',
      'closed',
    ];
    const deleted: RemoveReason[] = [];
    for (const reason of reasons) {
      const store = new MemoryStore();
      const adapter = storeCallbacks(store);
      const r = record();
      adapter.onNew(r);
      adapter.onRemove(r.id, reason, r, NS);
      if (store.get(NS, r.id) === undefined) deleted.push(reason);
      store.close();
    }
    expect(deleted).toEqual(['removed', 'bad']);
  });

  it('through the engine: remove() and removeBad() delete; eviction, clear() and close() do not', () => {
    const store = new MemoryStore();
    const adapter = storeCallbacks(store);
    const cache = new SessionCache({ ...adapter.callbacks, cacheSize: 1 });
    const [t1, t2] = tls13Ders.map((der) => record(der)) as [SessionRecord, SessionRecord];
    const r12 = record();
    cache.sessionNegotiated(t1);
    cache.sessionNegotiated(t2); // evicts t1 from memory (cacheSize 1)
    cache.sessionNegotiated(r12); // evicts t2
    expect(cache.stats().cacheFull).toBe(2);
    expect(store.stats().entries).toBe(3);
    cache.clear(); // flushed
    expect(store.stats().entries).toBe(3);
    cache.remove(t1.id, NS);
    cache.removeBad(t2.id, NS);
    expect(store.get(NS, t1.id)).toBeUndefined();
    expect(store.get(NS, t2.id)).toBeUndefined();
    cache.sessionNegotiated(record());
    cache.close();
    expect(store.get(NS, r12.id)).toBeDefined();
    expect(adapter.stats()).toMatchObject({ deletes: 2, deleteErrors: 0 });
    store.close();
  });
});

describe('storeCallbacks: onGet', () => {
  it('answers synchronously from a synchronous store: get for TLS 1.2, take for TLS 1.3', () => {
    const store = new MemoryStore();
    const adapter = storeCallbacks(store);
    const cache = new SessionCache({ ...adapter.callbacks, noInternalStore: true });
    const r12 = record();
    const r13 = record(tls13Ders[0]);
    cache.sessionNegotiated(r12);
    cache.sessionNegotiated(r13);
    const hit12 = cache.lookup(r12.id, { namespace: NS });
    expect(hit12).not.toBeInstanceOf(Promise);
    expect(hit12).toMatchObject({ source: 'external', session: r12 });
    expect(store.get(NS, r12.id)).toBeDefined(); // get: still there
    const hit13 = cache.lookup(r13.id, { namespace: NS, singleUse: true });
    expect(hit13).not.toBeInstanceOf(Promise);
    expect(hit13).toMatchObject({ source: 'external', session: r13 });
    expect(store.get(NS, r13.id)).toBeUndefined(); // take: gone
    expect(cache.lookup(r13.id, { namespace: NS, singleUse: true })).toMatchObject({
      source: 'none',
    });
    // Another namespace does not see it.
    expect(cache.lookup(r12.id, { namespace: 'other' })).toMatchObject({ source: 'none' });
    expect(adapter.stats()).toMatchObject({ reads: 4, found: 2, decodeErrors: 0 });
    store.close();
  });

  it('answers with a promise from an asynchronous store', async () => {
    const store = new AsyncStore();
    const adapter = storeCallbacks(store);
    const cache = new SessionCache({ ...adapter.callbacks, noInternalStore: true });
    const r = record();
    cache.sessionNegotiated(r);
    await adapter.drain();
    const pending = cache.lookup(r.id, { namespace: NS });
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toMatchObject({ source: 'external', session: r });
    await adapter.close();
  });

  it('a failing store is a counted miss, never an error', async () => {
    const store = new AsyncStore();
    const errors: string[] = [];
    const adapter = storeCallbacks(store, { onError: (_e, op) => errors.push(op) });
    const cache = new SessionCache({ ...adapter.callbacks, noInternalStore: true });
    const r = record();
    store.fail = 'throw';
    expect(cache.lookup(r.id, { namespace: NS })).toMatchObject({ source: 'none' });
    store.fail = 'reject';
    expect(await cache.lookup(r.id, { namespace: NS, singleUse: true })).toMatchObject({
      source: 'none',
    });
    expect(adapter.stats()).toMatchObject({ reads: 2, readErrors: 2 });
    expect(errors).toEqual(['get', 'take']);
    store.fail = 'none';
    await adapter.close();
  });

  it('a value that does not decode for the key asked is a counted miss', () => {
    const store = new MemoryStore();
    const adapter = storeCallbacks(store);
    const cache = new SessionCache({ ...adapter.callbacks, noInternalStore: true });
    const r = record();
    const far = Date.now() + 60_000;
    store.set(NS, r.id, Uint8Array.of(1, 0, 0xff), far); // garbage
    expect(cache.lookup(r.id, { namespace: NS })).toMatchObject({ source: 'none' });
    // A genuine value of another namespace, copied under this key.
    store.set(NS, r.id, encodeStoredSession(record(tls12Der, 'other')), far);
    expect(cache.lookup(r.id, { namespace: NS })).toMatchObject({ source: 'none' });
    // A genuine value of another id.
    const t = record(tls13Ders[0]);
    store.set(NS, r.id, encodeStoredSession(t), far);
    expect(cache.lookup(r.id, { namespace: NS })).toMatchObject({ source: 'none' });
    expect(adapter.stats()).toMatchObject({ reads: 3, found: 0, decodeErrors: 3 });
    store.close();
  });

  it("a value over the store's maxValueBytes is refused before parsing", () => {
    const inner = new MemoryStore();
    const r = record();
    const value = encodeStoredSession(r);
    // A store that says it keeps at most value.length - 1 bytes, yet returns more (planted by
    // whoever can write to it): the adapter refuses it without decoding.
    const store: SessionStore = {
      kind: 'small',
      maxValueBytes: value.byteLength - 1,
      set: (...a) => inner.set(...a),
      get: (...a) => inner.get(...a),
      take: (...a) => inner.take(...a),
      delete: (...a) => inner.delete(...a),
      close: () => inner.close(),
    };
    const codes: string[] = [];
    const adapter = storeCallbacks(store, {
      onError: (e) => codes.push((e as { code?: string }).code ?? '?'),
    });
    const cache = new SessionCache({ ...adapter.callbacks, noInternalStore: true });
    inner.set(NS, r.id, value, Date.now() + 60_000);
    expect(cache.lookup(r.id, { namespace: NS })).toMatchObject({ source: 'none' });
    expect(adapter.stats()).toMatchObject({ reads: 1, found: 0, decodeErrors: 1 });
    expect(codes).toEqual(['TOO_LARGE']);
    store.close();
  });

  it('ids no store can hold never reach the store', () => {
    const store = new MemoryStore();
    const adapter = storeCallbacks(store);
    expect(adapter.onGet(new Uint8Array(33), { namespace: NS, singleUse: true })).toBeUndefined();
    expect(adapter.onGet(new Uint8Array(0), { namespace: NS, singleUse: false })).toBeUndefined();
    expect(adapter.stats().reads).toBe(0);
    store.close();
  });
});

describe('storeCallbacks: options and lifecycle', () => {
  it('writes and reads through a codec', () => {
    const codec: StoredSessionCodec = {
      id: 9,
      encode: (body) => Buffer.from(body).reverse(),
      decode: (payload) => Buffer.from(payload).reverse(),
    };
    const store = new MemoryStore();
    const adapter = storeCallbacks(store, { codec });
    const r = record();
    adapter.onNew(r);
    expect(store.get(NS, r.id)![1]).toBe(9);
    expect(adapter.onGet(r.id, { namespace: NS, singleUse: false })).toMatchObject({ id: r.id });
    // A plain adapter refuses what the codec wrote.
    expect(storeCallbacks(store).onGet(r.id, { namespace: NS, singleUse: false })).toBeUndefined();
    store.close();
  });

  it('close() waits for pending writes, closes the store, then drops writes and misses', async () => {
    const store = new AsyncStore();
    const adapter = storeCallbacks(store);
    const r = record();
    adapter.onNew(r);
    expect(adapter.stats().inFlight).toBe(1);
    await adapter.close();
    expect(adapter.stats().inFlight).toBe(0);
    expect(() => store.inner.get(NS, r.id)).toThrow(/closed/);
    adapter.onNew(r);
    expect(adapter.stats().droppedWrites).toBe(1);
    expect(adapter.onGet(r.id, { namespace: NS, singleUse: false })).toBeUndefined();
    await adapter.close(); // idempotent
  });

  it('refuses invalid options, naming them', () => {
    const store = new MemoryStore();
    expect(() => storeCallbacks({} as SessionStore)).toThrow(TypeError);
    expect(() => storeCallbacks(store, { maxInFlightWrites: 0 })).toThrow(/maxInFlightWrites/);
    expect(() => storeCallbacks(store, { maxInFlightWrites: 1.5 })).toThrow(RangeError);
    expect(() => storeCallbacks(store, { timeout: -1 })).toThrow(/timeout/);
    expect(() => storeCallbacks(store, { clock: 5 as never })).toThrow(/clock/);
    expect(() => storeCallbacks(store, { onError: 'x' as never })).toThrow(/onError/);
    expect(() => storeCallbacks(store, { codec: { id: 300 } as never })).toThrow(/codec/);
    store.close();
  });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
