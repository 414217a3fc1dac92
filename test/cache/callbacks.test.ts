import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CachedSession, LookupResult } from '../../src/cache/index.js';
import { SessionCache } from '../../src/cache/index.js';
import { T0, TestClock, hex, recordedCache, session } from './fixtures.js';

const source = (r: LookupResult | Promise<LookupResult>) => (r as LookupResult).source;

describe('callbacks', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('new returning false removes the session from the internal cache at once (notKept)', () => {
    const reasons: string[] = [];
    const cache = new SessionCache({
      clock: () => T0 * 1000,
      onNew: () => false,
      onRemove: (_id, reason) => reasons.push(reason),
    });
    const s = session(1);
    cache.sessionNegotiated(s);
    expect(cache.has(s.id)).toBe(false);
    expect(reasons).toEqual(['notKept']);
  });

  it('replacing a session under the same id tells the remove callback', () => {
    const r = recordedCache();
    const a = session(1);
    const b = { ...session(1), data: Buffer.from('other') };
    r.cache.add(a);
    expect(r.cache.add(b)).toBe(true);
    expect(r.removes).toEqual([{ id: hex(a.id), reason: 'replaced', had: true }]);
    expect(r.cache.peek(a.id)).toBe(b);
  });

  it('close() removes every session with reason closed, then ignores adds and misses lookups', () => {
    const r = recordedCache();
    for (let i = 0; i < 5; i++) r.cache.add(session(i));
    r.cache.close();
    r.cache.close();
    expect(r.removes.map((x) => x.reason)).toEqual(Array(5).fill('closed'));
    expect(r.cache.closed).toBe(true);
    expect(r.cache.add(session(9))).toBe(false);
    expect(source(r.cache.lookup(session(1).id))).toBe('none');
    expect(r.cache.stats().number).toBe(0);
  });

  it('callbacks may call back into the cache: no recursion, no lost entry', () => {
    const clock = new TestClock();
    const order: string[] = [];
    const cache: SessionCache = new SessionCache({
      clock: clock.now,
      cacheSize: 2,
      onRemove: (id, reason) => {
        order.push(`remove ${hex(id).slice(-2)} ${reason}`);
        // A remove callback that re-adds a fresh session, which evicts another one.
        if (reason === 'evicted' && order.length < 6) {
          cache.add(session(100 + order.length, T0, 1000));
        }
      },
      onNew: (s) => {
        order.push(`new ${hex(s.id).slice(-2)}`);
        // A new callback that looks up and removes other sessions.
        expect(source(cache.lookup(s.id))).toBe('internal');
        cache.remove(session(77).id);
        return true;
      },
    });
    cache.sessionNegotiated(session(1, T0, 10));
    cache.sessionNegotiated(session(2, T0, 20));
    cache.sessionNegotiated(session(3, T0, 30));
    expect(cache.stats().number).toBe(2);
    expect(order[0]).toBe('new 01');
    // Every callback ran to completion before the next one started.
    expect(order.filter((x) => x.startsWith('new'))).toEqual(['new 01', 'new 02', 'new 03']);
    const ids = [...cache.sessions()].map((s) => hex(s.id).slice(-2));
    expect(ids).toHaveLength(2);
  });

  it('a throwing callback is caught and counted; the cache stays consistent', () => {
    const errors: string[] = [];
    const cache = new SessionCache({
      clock: () => T0 * 1000,
      onNew: () => {
        throw new Error('boom');
      },
      onRemove: () => {
        throw new Error('bang');
      },
      onCallbackError: (_e, which) => errors.push(which),
    });
    const s = session(1);
    cache.sessionNegotiated(s);
    expect(cache.has(s.id)).toBe(true);
    expect(cache.remove(s.id)).toBe(true);
    expect(cache.stats().callbackErrors).toBe(2);
    expect(errors).toEqual(['new', 'remove']);
  });

  it('a throwing callback without a handler emits one process warning', async () => {
    const warnings: string[] = [];
    const listener = (w: Error) => warnings.push(w.message);
    process.on('warning', listener);
    const cache = new SessionCache({
      clock: () => T0 * 1000,
      onNew: () => {
        throw new Error('secret-ish detail');
      },
    });
    cache.sessionNegotiated(session(1));
    cache.sessionNegotiated(session(2));
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', listener);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/new callback threw/);
    expect(warnings[0]).not.toMatch(/secret-ish/);
  });
});

describe('get callback', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is called even when caching is off (mode off), and stores nothing then', () => {
    const r = recordedCache({ mode: 'off' });
    const s = session(1);
    r.cache.sessionNegotiated(s);
    expect(r.news).toHaveLength(0);
    expect(r.cache.stats().number).toBe(0);
    r.external.set(hex(s.id), s);
    expect(source(r.cache.lookup(s.id))).toBe('external');
    expect(r.gets).toHaveLength(1);
    expect(r.cache.stats().number).toBe(0);
  });

  it('client mode does not keep server sessions', () => {
    const r = recordedCache({ mode: 'client' });
    r.cache.sessionNegotiated(session(1));
    expect(r.cache.stats().number).toBe(0);
    expect(r.news).toHaveLength(0);
  });

  it('noInternalLookup: sessions are stored in memory but looked up only through the callback', () => {
    const r = recordedCache({ noInternalLookup: true });
    const s = session(1);
    r.cache.sessionNegotiated(s);
    expect(r.cache.has(s.id)).toBe(true);
    expect(source(r.cache.lookup(s.id))).toBe('external');
    expect(r.gets).toHaveLength(1);
    expect(r.cache.stats()).toMatchObject({ misses: 0, cbHits: 1, hits: 1 });
  });

  it('an answer under another id is never returned', () => {
    const s = session(1);
    const cache = new SessionCache({ clock: () => T0 * 1000, onGet: () => session(2) });
    expect(source(cache.lookup(s.id))).toBe('none');
    expect(cache.stats().getErrors).toBe(1);
  });

  it('an expired or future session from the callback is a timeout, and the external cache is told', () => {
    const r = recordedCache();
    const old = session(1, T0 - 301, 300);
    const future = session(2, T0 + 60, 300);
    r.external.set(hex(old.id), old);
    r.external.set(hex(future.id), future);
    expect(source(r.cache.lookup(old.id))).toBe('none');
    expect(source(r.cache.lookup(future.id))).toBe('none');
    expect(r.cache.stats().timeouts).toBe(2);
    expect(r.removes.map((x) => x.reason)).toEqual(['expired', 'expired']);
    expect(r.cache.stats().number).toBe(0);
  });

  it('the accept check refuses a session without removing it', () => {
    const r = recordedCache();
    const s = session(1);
    r.cache.sessionNegotiated(s);
    expect(source(r.cache.lookup(s.id, { accept: () => false }))).toBe('none');
    expect(r.cache.has(s.id)).toBe(true);
    expect(r.cache.stats().rejected).toBe(1);
    expect(source(r.cache.lookup(s.id, { accept: () => true }))).toBe('internal');
  });

  it('answers synchronously when the callback does; asynchronously when it returns a promise', async () => {
    const s = session(1);
    const sync = new SessionCache({ clock: () => T0 * 1000, onGet: () => s });
    expect(sync.lookup(s.id)).toEqual({ session: s, source: 'external' });
    const async = new SessionCache({ clock: () => T0 * 1000, onGet: async () => s });
    const pending = async.lookup(s.id);
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toEqual({ session: s, source: 'external' });
    expect(async.has(s.id)).toBe(true);
  });

  it('a rejecting or throwing callback is a miss, never an error', async () => {
    const s = session(1);
    const rejecting = new SessionCache({
      onGet: () => Promise.reject(new Error('store down')),
    });
    await expect(rejecting.lookup(s.id)).resolves.toMatchObject({ source: 'none' });
    const throwing = new SessionCache({
      onGet: () => {
        throw new Error('store down');
      },
    });
    expect(throwing.lookup(s.id)).toMatchObject({ source: 'none' });
    expect(rejecting.stats().getErrors + throwing.stats().getErrors).toBe(2);
  });

  it('a callback that never answers becomes a miss at the deadline (no timer left behind)', async () => {
    vi.useFakeTimers();
    const s = session(1);
    const cache = new SessionCache({
      clock: () => T0 * 1000,
      lookupDeadlineMs: 40,
      onGet: () => new Promise<CachedSession | undefined>(() => undefined),
    });
    const pending = cache.lookup(s.id) as Promise<LookupResult>;
    let settled = false;
    void pending.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(39);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    // The deadline is declared in the check phase after it (setImmediate): I/O that arrived by the
    // deadline is read first.
    expect(settled).toBe(false);
    await vi.advanceTimersToNextTimerAsync();
    await expect(pending).resolves.toMatchObject({ source: 'none' });
    expect(cache.stats().getTimeouts).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('single use across callers: concurrent lookups of one id give exactly one winner', async () => {
    const s = session(1);
    const store = new Map([[hex(s.id), s]]);
    // Two caches (two processes) in front of one external store with an atomic take.
    const make = () =>
      new SessionCache({
        clock: () => T0 * 1000,
        onGet: async (id, { singleUse }) => {
          await Promise.resolve();
          const found = store.get(hex(id));
          if (singleUse) store.delete(hex(id));
          return found;
        },
      });
    const a = make();
    const b = make();
    a.add(s); // A also holds a copy in memory
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).lookup(s.id, { singleUse: true })),
    );
    expect(results.filter((x) => x.session !== undefined)).toHaveLength(1);
    expect(a.has(s.id)).toBe(false);
  });
});

describe('namespaces', () => {
  it('keep sessions of different contexts apart, even under the same id', () => {
    const removed: string[] = [];
    const asked: string[] = [];
    const cache = new SessionCache({
      clock: () => T0 * 1000,
      onRemove: (_id, reason, _s, namespace) => removed.push(`${namespace}:${reason}`),
      onGet: (_id, info) => {
        asked.push(info.namespace);
        return undefined;
      },
    });
    const a = { ...session(1), namespace: 'tenant-a' };
    const b = { ...session(1), namespace: 'tenant-b' };
    cache.add(a);
    cache.add(b);
    expect(cache.stats().number).toBe(2);
    expect(cache.lookup(a.id, { namespace: 'tenant-a' })).toMatchObject({ session: a });
    expect(cache.lookup(a.id, { namespace: 'tenant-b' })).toMatchObject({ session: b });
    expect(cache.lookup(a.id)).toMatchObject({ source: 'none' });
    expect(asked).toEqual(['']);
    expect(cache.remove(a.id, 'tenant-a')).toBe(true);
    expect(cache.has(b.id, 'tenant-b')).toBe(true);
    expect(removed).toEqual(['tenant-a:removed']);
  });

  it('an external answer from another namespace is not accepted', () => {
    const s = { ...session(1), namespace: 'a' };
    const cache = new SessionCache({ clock: () => T0 * 1000, onGet: () => s });
    expect(cache.lookup(s.id, { namespace: 'b' })).toMatchObject({ source: 'none' });
    expect(cache.lookup(s.id, { namespace: 'a' })).toMatchObject({ session: s });
  });

  it('a namespace containing NUL is refused', () => {
    const cache = new SessionCache();
    expect(() => cache.add({ ...session(1), namespace: 'a\u0000b' })).toThrow(RangeError);
    expect(() => cache.lookup(session(1).id, { namespace: 'a\u0000' })).toThrow(RangeError);
  });
});
