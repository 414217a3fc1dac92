// Proves the store adapter's pieces on their own (src/stores/adapter/), each with what it alone
// promises: the write queue bounds pending writes, writes off one that hangs past its timeout
// (giving its slot back, telling the breaker, reporting ERR_STORE_TIMEOUT) and drains; the breaker
// gate hands out tickets and refuses once open; the revocation binding drops revoked sessions
// from a bound cache and marks the reads a revocation overtook, with a real MemoryStore reporting
// them; the stored-value codec refuses an oversize value before parsing and counts it.
import { describe, expect, it } from 'vitest';
import type { SessionCacheError } from '../../src/common/errors.js';
import { BREAKER_REFUSED, BreakerGate } from '../../src/stores/adapter/breaker-gate.js';
import { WriteQueue } from '../../src/stores/adapter/write-queue.js';
import { RevocationBinding } from '../../src/stores/adapter/revocation-binding.js';
import { StoredValues } from '../../src/stores/adapter/stored-value.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { SessionCache } from '../../src/cache/index.js';

const counters = () => ({ inFlight: 0, writeTimeouts: 0, writeErrors: 0, deleteErrors: 0 });

describe('WriteQueue', () => {
  it('is full at maxInFlight, settles in order of answers, and drains', async () => {
    const c = counters();
    const queue = new WriteQueue(2, 60_000, new BreakerGate(false, 'test'), c, () => undefined);
    const results: unknown[] = [];
    let answer!: (value: boolean) => void;
    queue.track(new Promise<boolean>((resolve) => (answer = resolve)), 'set', 0, (r) =>
      results.push(r),
    );
    expect(queue.full).toBe(false);
    queue.track(Promise.reject(new Error('refused')), 'delete', 0, () => undefined);
    expect(queue.full).toBe(true);
    expect(c.inFlight).toBe(2);
    const drained = queue.drain();
    answer(false);
    await drained;
    expect(c).toEqual({ inFlight: 0, writeTimeouts: 0, writeErrors: 0, deleteErrors: 1 });
    expect(results).toEqual([false]);
    expect(queue.full).toBe(false);
  });

  it('writes off a write that never settles after its timeout, reporting ERR_STORE_TIMEOUT', async () => {
    const c = counters();
    const reported: unknown[] = [];
    const gate = new BreakerGate({ failureThreshold: 1 }, 'test');
    const queue = new WriteQueue(1, 20, gate, c, (error) => reported.push(error));
    const ticket = gate.acquire();
    queue.track(new Promise(() => undefined), 'set', ticket, () => undefined);
    expect(queue.full).toBe(true);
    // drain() resolves exactly when the slot is given back, at the 20 ms write-off.
    await queue.drain();
    expect(c.writeTimeouts).toBe(1);
    expect(queue.full).toBe(false);
    expect(reported).toHaveLength(1);
    expect((reported[0] as SessionCacheError).code).toBe('ERR_STORE_TIMEOUT');
    // The failure reached the breaker (threshold 1): it is open now.
    expect(gate.state).toBe('open');
    expect(gate.acquire()).toBe(BREAKER_REFUSED);
  });
});

describe('BreakerGate', () => {
  it('without a breaker every call goes through, with ticket 0', () => {
    const gate = new BreakerGate(false, 'test');
    expect(gate.acquire()).toBe(0);
    gate.failed(0);
    expect(gate.state).toBe('disabled');
    expect(gate.opens).toBe(0);
  });

  it('refuses a non-object breaker option, naming it', () => {
    expect(() => new BreakerGate(5 as never, 'test')).toThrow(TypeError);
    expect(() => new BreakerGate({ failureThreshold: 0 }, 'test')).toThrow(
      'breaker.failureThreshold must be an integer from 1 to 1000000, got 0',
    );
  });
});

describe('RevocationBinding (a real MemoryStore reporting its deletes)', () => {
  it('drops a revoked session from a bound cache and marks the reads it overtook', () => {
    const store = new MemoryStore();
    const seen = { revocations: 0, revokedSessions: 0 };
    const binding = new RevocationBinding(store, seen, () => undefined);
    expect(binding.propagates).toBe(true);
    expect(binding.watching).toBe(false);
    const cache = new SessionCache();
    const id = Buffer.alloc(8, 1);
    cache.add({ id, data: Buffer.from('x'), namespace: 'ns' });
    expect(cache.stats().number).toBe(1);
    const unbind = binding.bind(cache, false);
    expect(binding.watching).toBe(true);
    const overtaken = { namespace: 'ns', id, stale: false };
    const other = { namespace: 'ns', id: Buffer.alloc(8, 2), stale: false };
    binding.beginRead(overtaken);
    binding.beginRead(other);
    store.delete('ns', id);
    expect(overtaken.stale).toBe(true);
    expect(other.stale).toBe(false);
    expect(cache.stats().number).toBe(0);
    expect(seen).toEqual({ revocations: 1, revokedSessions: 1 });
    binding.endRead(overtaken);
    binding.endRead(other);
    unbind();
    expect(binding.watching).toBe(false);
    store.delete('ns', id);
    expect(seen.revocations).toBe(1);
    store.close();
  });

  it('binds nothing once closed, and refuses what is not a cache', () => {
    const store = new MemoryStore();
    const binding = new RevocationBinding(store, { revocations: 0, revokedSessions: 0 }, () => {});
    expect(() => binding.bind({} as never, false)).toThrow(TypeError);
    binding.bind(new SessionCache(), true);
    expect(binding.watching).toBe(false);
    store.close();
  });
});

describe('StoredValues', () => {
  it('round-trips a session and refuses an oversize value before parsing it', () => {
    const store = new MemoryStore({ maxValueBytes: 64 });
    const seen = { found: 0, decodeErrors: 0 };
    const reported: unknown[] = [];
    const values = new StoredValues(undefined, store, seen, (error) => reported.push(error));
    expect(values.decode(new Uint8Array(65), Uint8Array.of(1), 'ns')).toBeUndefined();
    expect(seen).toEqual({ found: 0, decodeErrors: 1 });
    expect((reported[0] as SessionCacheError).code).toBe('TOO_LARGE');
    expect(values.decode(undefined, Uint8Array.of(1), 'ns')).toBeUndefined();
    expect(seen.decodeErrors).toBe(1);
    store.close();
  });
});
