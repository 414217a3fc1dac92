// storeCallbacks with its circuit breaker and per-operation timeouts: a store that throws, rejects
// or never answers costs misses and dropped writes, never waiting or unbounded pending work; the
// breaker's clock is injected, the operation timeouts are real (tens of ms).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/index.js';
import { onEvent, type BreakerEvent } from '../../src/cache/events.js';
import { sessionRecordFromDer, type SessionRecord } from '../../src/session/session-record.js';
import { storeCallbacks } from '../../src/stores/cache-adapter.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import type { MaybePromise, SessionStore } from '../../src/stores/store.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { nodeHandshake } from '../helpers/session-handshakes.js';
import { eventually } from '../helpers/eventually.js';

const NS = 'ns';
let pki: TestPki;
let session: SessionRecord;

beforeAll(async () => {
  pki = makeTestPki();
  const der = (await nodeHandshake({ pki, version: 'TLSv1.2', servername: 'localhost' }))
    .server[0]!;
  session = sessionRecordFromDer(der, NS, 'localhost');
});
afterAll(() => pki.cleanup());

type Mode = 'sync' | 'throw' | 'reject' | 'hang' | 'async';

/** A MemoryStore that can be made to throw, reject, hang (never settle) or answer later. */
class ControlledStore implements SessionStore {
  readonly kind = 'controlled';
  readonly inner = new MemoryStore();
  readonly maxValueBytes = this.inner.maxValueBytes;
  mode: Mode = 'sync';
  calls = 0;

  #run<T>(op: () => T): MaybePromise<T> {
    this.calls++;
    switch (this.mode) {
      case 'sync':
        return op();
      case 'throw':
        throw new Error('store down');
      case 'reject':
        return Promise.reject(new Error('store down'));
      case 'hang':
        return new Promise<T>(() => undefined);
      case 'async':
        return new Promise<T>((resolve) => setImmediate(() => resolve(op())));
    }
  }
  set(namespace: string, id: Uint8Array, value: Uint8Array, expiresAtMs: number) {
    return this.#run(() => this.inner.set(namespace, id, value, expiresAtMs));
  }
  get(namespace: string, id: Uint8Array) {
    return this.#run(() => this.inner.get(namespace, id));
  }
  take(namespace: string, id: Uint8Array) {
    return this.#run(() => this.inner.take(namespace, id));
  }
  delete(namespace: string, id: Uint8Array) {
    return this.#run(() => this.inner.delete(namespace, id));
  }
  close(): void {
    this.inner.close();
  }
}

const ID = new Uint8Array(32).fill(7);
const NONE = { session: undefined, source: 'none' };

function until(check: () => boolean): Promise<void> {
  return eventually(check, 'adapter condition', { everyMs: 2 });
}

function breakerEvents(): { events: BreakerEvent[]; stop: () => void } {
  const events: BreakerEvent[] = [];
  const stop = onEvent('breaker', (event) => {
    if (event.store === 'controlled') events.push(event);
  });
  return { events, stop };
}

describe('storeCallbacks: circuit breaker', () => {
  it('keeps a synchronous store synchronous: no promise per lookup or write', () => {
    const store = new MemoryStore();
    const adapter = storeCallbacks(store);
    const cache = new SessionCache({
      ...adapter.callbacks,
      noInternalLookup: true,
      noInternalStore: true,
    });
    adapter.onNew(session);
    const found = adapter.onGet(session.id, { namespace: NS, singleUse: false });
    expect(found).not.toBeInstanceOf(Promise);
    expect((found as SessionRecord | undefined)?.id).toEqual(session.id);
    const result = cache.lookup(session.id, { namespace: NS });
    expect(result).not.toBeInstanceOf(Promise);
    expect(adapter.stats()).toMatchObject({
      inFlight: 0,
      breakerState: 'closed',
      breakerOpens: 0,
      readTimeouts: 0,
    });
    cache.close();
  });

  it('opens after repeated failures: lookups then miss at once without asking the store, writes are dropped; a probe after the cool-down closes it', () => {
    const time = { now: 0 };
    const store = new ControlledStore();
    const { events, stop } = breakerEvents();
    try {
      const adapter = storeCallbacks(store, {
        breaker: {
          failureThreshold: 5,
          cooldownMs: 500,
          cooldownJitterMs: 0,
          clock: () => time.now,
        },
      });
      const cache = new SessionCache({ ...adapter.callbacks, noInternalLookup: true });
      store.mode = 'throw';
      for (let i = 0; i < 5; i++) expect(cache.lookup(ID, { namespace: NS })).toEqual(NONE);
      expect(store.calls).toBe(5);
      expect(cache.stats().getErrors).toBe(5);
      expect(adapter.stats()).toMatchObject({
        readErrors: 5,
        breakerState: 'open',
        breakerOpens: 1,
      });

      // Open: nothing reaches the store, and the answer is synchronous even for a store that would
      // answer with a promise.
      store.mode = 'hang';
      for (let i = 0; i < 100; i++) {
        const answer = cache.lookup(ID, { namespace: NS, singleUse: i % 2 === 0 });
        expect(answer).not.toBeInstanceOf(Promise);
      }
      adapter.onNew(session);
      adapter.onRemove(session.id, 'removed', session, NS);
      expect(store.calls).toBe(5);
      expect(adapter.stats()).toMatchObject({
        breakerRejectedReads: 100,
        droppedWrites: 1,
        droppedDeletes: 1,
        reads: 5,
        writes: 0,
        inFlight: 0,
      });

      // After the cool-down one call probes the (recovered) store; its success closes the breaker.
      store.mode = 'sync';
      time.now += 499;
      cache.lookup(ID, { namespace: NS });
      expect(store.calls).toBe(5);
      time.now += 1;
      cache.lookup(ID, { namespace: NS });
      expect(store.calls).toBe(6);
      expect(adapter.stats().breakerState).toBe('closed');
      adapter.onNew(session);
      expect(store.inner.stats().entries).toBe(1);
      expect(events.map((e) => e.state)).toEqual(['open', 'half-open', 'closed']);
      cache.close();
    } finally {
      stop();
    }
  });

  it('counts a hanging read as a failure at readTimeoutMs; the cache has answered by its own deadline', async () => {
    const store = new ControlledStore();
    store.mode = 'hang';
    const adapter = storeCallbacks(store, {
      readTimeoutMs: 20,
      breaker: { failureThreshold: 3 },
    });
    const cache = new SessionCache({
      ...adapter.callbacks,
      noInternalLookup: true,
      lookupDeadlineMs: 20,
    });
    const started = performance.now();
    const answers = await Promise.all([1, 2, 3].map(() => cache.lookup(ID, { namespace: NS })));
    const took = performance.now() - started;
    expect(answers).toEqual([NONE, NONE, NONE]);
    expect(took).toBeGreaterThanOrEqual(19);
    expect(cache.stats().getTimeouts).toBe(3);
    await until(() => adapter.stats().readTimeouts === 3);
    expect(adapter.stats()).toMatchObject({ breakerState: 'open', breakerOpens: 1 });
    // Open: the next lookup does not wait for any deadline.
    expect(cache.lookup(ID, { namespace: NS })).toEqual(NONE);
    expect(store.calls).toBe(3);
    cache.close();
  });

  it('does not count an answer that arrived in time as a timeout when the event loop was busy', async () => {
    // The answer travels through a real socket pair and lands while the loop is blocked past the
    // read timeout; after the block the timer is due before the socket is read.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const peer = await accepted;
    const store = new ControlledStore();
    store.get = () => new Promise((resolve) => socket.once('data', () => resolve(undefined)));
    const adapter = storeCallbacks(store, { readTimeoutMs: 5, breaker: { failureThreshold: 1 } });
    try {
      const answer = adapter.onGet(ID, { namespace: NS, singleUse: false });
      peer.write('x');
      const until = performance.now() + 40;
      while (performance.now() < until); // busy: the answer and the timer both become due
      await answer;
      await new Promise((resolve) => setImmediate(resolve));
      expect(adapter.stats()).toMatchObject({ readTimeouts: 0, breakerState: 'closed' });
    } finally {
      socket.destroy();
      peer.destroy();
      server.close();
    }
  });

  it('gives the in-flight slot of a write that never settles back after writeTimeoutMs', async () => {
    const store = new ControlledStore();
    store.mode = 'hang';
    const errors: string[] = [];
    const adapter = storeCallbacks(store, {
      breaker: false,
      maxInFlightWrites: 2,
      writeTimeoutMs: 30,
      onError: (error, operation) => errors.push(`${operation}: ${(error as Error).message}`),
    });
    adapter.onNew(session);
    adapter.onRemove(session.id, 'bad', session, NS);
    adapter.onNew(session);
    expect(adapter.stats()).toMatchObject({ inFlight: 2, writes: 1, deletes: 1, droppedWrites: 1 });
    const started = performance.now();
    await adapter.drain();
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(adapter.stats()).toMatchObject({
      inFlight: 0,
      writeTimeouts: 2,
      breakerState: 'disabled',
    });
    expect(errors).toEqual([
      'set: session store set did not settle within 30 ms',
      'delete: session store delete did not settle within 30 ms',
    ]);
    adapter.onNew(session);
    expect(adapter.stats()).toMatchObject({ inFlight: 1, writes: 2, droppedWrites: 1 });
    await adapter.drain();
  });

  it('counts failed writes towards opening, and a failed probe opens the breaker again', async () => {
    const time = { now: 0 };
    const store = new ControlledStore();
    store.mode = 'reject';
    const { events, stop } = breakerEvents();
    try {
      const adapter = storeCallbacks(store, {
        breaker: {
          failureThreshold: 4,
          cooldownMs: 100,
          cooldownJitterMs: 0,
          clock: () => time.now,
        },
      });
      for (let i = 0; i < 4; i++) adapter.onNew(session);
      await adapter.drain();
      expect(adapter.stats()).toMatchObject({ writeErrors: 4, breakerState: 'open' });
      for (let i = 0; i < 10; i++) adapter.onNew(session);
      expect(adapter.stats()).toMatchObject({ writes: 4, droppedWrites: 10, inFlight: 0 });
      time.now += 100;
      adapter.onNew(session); // the probe
      adapter.onNew(session); // refused while the probe is out
      expect(adapter.stats()).toMatchObject({
        writes: 5,
        droppedWrites: 11,
        breakerState: 'half-open',
      });
      await adapter.drain();
      expect(adapter.stats()).toMatchObject({ breakerState: 'open', breakerOpens: 2 });
      store.mode = 'async';
      time.now += 100;
      const probe = adapter.onGet(ID, { namespace: NS, singleUse: true });
      expect(probe).toBeInstanceOf(Promise);
      await probe;
      expect(adapter.stats().breakerState).toBe('closed');
      expect(events.map((e) => e.state)).toEqual([
        'open',
        'half-open',
        'open',
        'half-open',
        'closed',
      ]);
    } finally {
      stop();
    }
  });

  it('with breaker: false asks the store every time', () => {
    const store = new ControlledStore();
    store.mode = 'throw';
    const adapter = storeCallbacks(store, { breaker: false });
    for (let i = 0; i < 50; i++) {
      expect(() => adapter.onGet(ID, { namespace: NS, singleUse: false })).toThrow('store down');
    }
    expect(store.calls).toBe(50);
    expect(adapter.stats()).toMatchObject({
      readErrors: 50,
      breakerState: 'disabled',
      breakerOpens: 0,
    });
  });

  it('refuses bad breaker and timeout options, naming them', () => {
    const store = new MemoryStore();
    const make = (options: unknown) => () => storeCallbacks(store, options as never);
    expect(make({ breaker: { failureThreshold: 0 } })).toThrow(RangeError);
    expect(make({ breaker: { failureThreshold: 0 } })).toThrow(/breaker\.failureThreshold/);
    expect(make({ breaker: { cooldownMs: 'soon' } })).toThrow(/breaker\.cooldownMs/);
    expect(make({ breaker: 'on' })).toThrow(TypeError);
    expect(make({ breaker: true })).toThrow(/breaker/);
    expect(make({ breaker: null })).toThrow(/breaker/);
    expect(make({ readTimeoutMs: 0 })).toThrow(/readTimeoutMs/);
    expect(make({ writeTimeoutMs: 1.5 })).toThrow(/writeTimeoutMs/);
    expect(make({ writeTimeoutMs: '1' })).toThrow(TypeError);
    expect(make({ breaker: false, readTimeoutMs: 1, writeTimeoutMs: 1 })).not.toThrow();
    store.close();
  });
});
