// The session-cache scenarios of OpenSSL's test/sslapitest.c, replayed at the engine level with an
// injected clock: execute_test_session (only internal / only external / both caches),
// test_session_timeout, test_session_cache_overflow, test_multi_resume.
import { describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/index.js';
import { T0, hex, recordedCache, session } from './fixtures.js';

/** Node fires newSession once per TLS 1.2 full handshake and once per ticket in TLS 1.3 (2). */
const TICKETS = { '1.2': 1, '1.3': 2 } as const;

describe.each(['1.2', '1.3'] as const)('execute_test_session, TLS %s', (tls) => {
  const singleUse = tls === '1.3';
  const handshake = (cache: SessionCache, base: number) => {
    const made = Array.from({ length: TICKETS[tls] }, (_, i) => session(base + i));
    for (const s of made) cache.sessionNegotiated(s);
    return made;
  };

  it('only internal cache: resumes from memory, callbacks never involved', () => {
    const cache = new SessionCache({ clock: () => T0 * 1000 });
    const [first] = handshake(cache, 1);
    expect(cache.stats().number).toBe(TICKETS[tls]);
    // SSL_CTX_add_session of a session already cached returns 0.
    expect(cache.add(first!)).toBe(false);
    const hit = cache.lookup(first!.id, { singleUse });
    expect(hit).toEqual({ session: first, source: 'internal' });
    expect(cache.has(first!.id)).toBe(!singleUse);
    const again = cache.lookup(first!.id, { singleUse });
    expect((again as { source: string }).source).toBe(singleUse ? 'none' : 'internal');
    const stats = cache.stats();
    expect(stats.hits).toBe(singleUse ? 1 : 2);
    expect(stats.misses).toBe(singleUse ? 1 : 0);
    expect(stats.cbHits).toBe(0);
  });

  it('only external cache: new per ticket, get on resume, nothing kept in memory', () => {
    const r = recordedCache({ noInternalStore: true });
    const [first] = handshake(r.cache, 1);
    expect(r.news).toHaveLength(TICKETS[tls]);
    expect(r.removes).toHaveLength(0);
    expect(r.gets).toHaveLength(0);
    expect(r.cache.stats().number).toBe(0);
    r.reset();

    const hit = r.cache.lookup(first!.id, { singleUse });
    expect(hit).toEqual({ session: first, source: 'external' });
    expect(r.gets).toEqual([{ id: hex(first!.id), singleUse }]);
    expect(r.cache.stats()).toMatchObject({ hits: 1, cbHits: 1, misses: 1, number: 0 });
    // A resumed TLS 1.2 connection makes no new session; a TLS 1.3 one gets a new ticket.
    if (singleUse) handshake(r.cache, 100).slice(0, 1);
    expect(r.news).toHaveLength(singleUse ? TICKETS[tls] : 0);
    // Single use: the external cache gave it away once.
    const again = r.cache.lookup(first!.id, { singleUse });
    expect((again as { source: string }).source).toBe(singleUse ? 'none' : 'external');
  });

  it('both caches: internal first; after a removal the get callback refills the internal cache', () => {
    const r = recordedCache();
    const [first] = handshake(r.cache, 1);
    expect(r.news).toHaveLength(TICKETS[tls]);
    r.reset();
    if (!singleUse) {
      expect(r.cache.lookup(first!.id)).toEqual({ session: first, source: 'internal' });
      expect(r.gets).toHaveLength(0);
      // Evict from memory only (the external callbacks keep it on 'evicted').
      r.cache.cacheSize = 1;
      r.cache.cacheSize = 20480;
      r.cache.clear();
      r.external.set(hex(first!.id), first!);
      r.reset();
      expect(r.cache.lookup(first!.id)).toEqual({ session: first, source: 'external' });
      expect(r.gets).toHaveLength(1);
      expect(r.cache.has(first!.id)).toBe(true);
      expect(r.cache.stats()).toMatchObject({ hits: 2, cbHits: 1 });
    } else {
      // TLS 1.3 with an external cache: the external take decides, the memory copy is dropped.
      expect(r.cache.lookup(first!.id, { singleUse })).toEqual({
        session: first,
        source: 'external',
      });
      expect(r.gets).toEqual([{ id: hex(first!.id), singleUse: true }]);
      expect(r.removes).toEqual([]);
      expect(r.cache.has(first!.id)).toBe(false);
      expect(r.external.has(hex(first!.id))).toBe(false);
    }
  });

  it('SSL_CTX_remove_session: true only if cached, remove callback told either way', () => {
    const r = recordedCache();
    const [first] = handshake(r.cache, 1);
    r.reset();
    expect(r.cache.remove(first!.id)).toBe(true);
    expect(r.removes).toEqual([{ id: hex(first!.id), reason: 'removed', had: true }]);
    r.reset();
    expect(r.cache.remove(first!.id)).toBe(false);
    expect(r.removes).toEqual([{ id: hex(first!.id), reason: 'removed', had: false }]);
    expect(r.news).toHaveLength(0);
  });

  it('a failed handshake with a session removes it as bad (ssl_clear_bad_session)', () => {
    const r = recordedCache();
    const [first] = handshake(r.cache, 1);
    r.reset();
    expect(r.cache.removeBad(first!.id)).toBe(true);
    expect(r.removes).toEqual([{ id: hex(first!.id), reason: 'bad', had: true }]);
    expect(r.external.has(hex(first!.id))).toBe(false);
    expect((r.cache.lookup(first!.id) as { source: string }).source).toBe('none');
  });
});

describe('test_session_timeout', () => {
  const TIMEOUT = 60;
  it('keeps sessions ordered by expiry and flushes them at their deadlines', () => {
    const now = T0;
    const r = recordedCache({ ext: true });
    const early = session(1, now - 10, TIMEOUT);
    const middle = session(2, now, TIMEOUT);
    const late = session(3, now + 10, TIMEOUT);
    // Added out of order; the list is still soonest-first.
    for (const s of [late, early, middle]) expect(r.cache.add(s)).toBe(true);
    expect([...r.cache.sessions()]).toEqual([early, middle, late]);

    expect(r.cache.flush((now + TIMEOUT - 1) * 1000)).toBe(1); // removes early
    expect([...r.cache.sessions()]).toEqual([middle, late]);
    expect(r.cache.flush((now + TIMEOUT - 1) * 1000 + 999)).toBe(0); // middle still valid
    expect(r.cache.flush((now + TIMEOUT) * 1000)).toBe(1); // middle expires exactly at its deadline
    expect(r.cache.flush((now + TIMEOUT + 11) * 1000)).toBe(1); // late
    expect(r.removes.map((x) => x.reason)).toEqual(['expired', 'expired', 'expired']);

    for (const s of [early, middle, late]) r.cache.add(s);
    expect(r.cache.clear()).toBe(3); // SSL_CTX_flush_sessions(ctx, 0)
    expect(r.cache.stats().number).toBe(0);
  });

  it('updateTime: adding stamps the session with the current time', () => {
    const r = recordedCache({ updateTime: true });
    const s = session(7, T0 - 10, TIMEOUT);
    r.clock.at(T0);
    r.cache.add(s);
    expect(r.cache.expiresAt(s.id)).toBe((T0 + TIMEOUT) * 1000);
    // ... and every hit renews it: still valid long after its own time + timeout.
    r.clock.at(T0 + TIMEOUT - 1);
    expect(r.cache.lookup(s.id)).toMatchObject({ source: 'internal' });
    r.clock.at(T0 + 2 * TIMEOUT - 2);
    expect(r.cache.lookup(s.id)).toMatchObject({ source: 'internal' });
  });

  it('resumes at timeout − 1 s, not at timeout, and never from the future', () => {
    const r = recordedCache({ ext: false });
    const s = session(9, T0, TIMEOUT);
    r.cache.add(s);
    r.clock.at(T0 + TIMEOUT - 1);
    expect(r.cache.lookup(s.id)).toMatchObject({ source: 'internal' });
    r.clock.at(T0 + TIMEOUT);
    expect(r.cache.lookup(s.id)).toMatchObject({ source: 'none' });
    expect(r.cache.stats()).toMatchObject({ timeouts: 1, number: 0 });

    const future = session(10, T0 + 5, TIMEOUT);
    r.clock.at(T0);
    r.cache.add(future);
    expect(r.cache.lookup(future.id)).toMatchObject({ source: 'none' });
    expect(r.cache.stats().timeouts).toBe(2);
  });
});

describe('test_session_cache_overflow', () => {
  it.each([
    ['new session expires later: the old one is evicted', 10, 'old'],
    ['new session expires sooner: the new one itself is evicted', -10, 'new'],
  ])('%s', (_name, delta, victim) => {
    const r = recordedCache({ cacheSize: 1 });
    const old = session(1, T0, 300);
    r.cache.sessionNegotiated(old);
    r.reset();
    const fresh = session(2, T0, 300 + delta);
    r.cache.sessionNegotiated(fresh);
    const evicted = victim === 'old' ? old : fresh;
    expect(r.removes).toEqual([{ id: hex(evicted.id), reason: 'evicted', had: true }]);
    expect(r.cache.stats()).toMatchObject({ number: 1, cacheFull: 1 });
    // The new callback still ran after the eviction, so the external cache has the new session and
    // resumption works from there even when memory dropped it.
    expect(r.news).toEqual([fresh]);
    expect(r.cache.lookup(fresh.id)).toMatchObject({ session: fresh });
  });

  it('cacheSize 0 is unbounded', () => {
    const cache = new SessionCache({ cacheSize: 0, clock: () => T0 * 1000 });
    for (let i = 0; i < 30_000; i++) cache.add(session(i));
    expect(cache.stats()).toMatchObject({ number: 30_000, cacheFull: 0 });
  });
});

describe('test_multi_resume', () => {
  it('TLS 1.2: one session resumes many times', () => {
    const cache = new SessionCache({ clock: () => T0 * 1000 });
    const s = session(1);
    cache.sessionNegotiated(s);
    for (let i = 0; i < 100; i++) expect(cache.lookup(s.id)).toMatchObject({ session: s });
    expect(cache.stats().hits).toBe(100);
  });

  it('TLS 1.3: each ticket resumes once; the tickets of resumed connections resume in turn', () => {
    const r = recordedCache();
    let tickets = [session(1), session(2)];
    for (const t of tickets) r.cache.sessionNegotiated(t);
    let next = 100;
    for (let round = 0; round < 50; round++) {
      const offered = tickets.shift()!;
      expect(r.cache.lookup(offered.id, { singleUse: true })).toMatchObject({ session: offered });
      expect(r.cache.lookup(offered.id, { singleUse: true })).toMatchObject({ source: 'none' });
      const fresh = [session(next++), session(next++)];
      for (const t of fresh) r.cache.sessionNegotiated(t);
      tickets = [...tickets, ...fresh];
    }
    expect(r.cache.stats().hits).toBe(50);
  });
});

describe('auto-clear every 255 completed handshakes', () => {
  it.each([false, true])('noAutoClear=%s', (noAutoClear) => {
    const r = recordedCache({ noAutoClear, ext: false });
    const s = session(1, T0, 10);
    r.cache.add(s);
    r.clock.at(T0 + 11);
    for (let i = 0; i < 254; i++) r.cache.handshakeCompleted();
    expect(r.cache.stats().number).toBe(1);
    r.cache.handshakeCompleted();
    expect(r.cache.stats()).toMatchObject({ acceptGood: 255, number: noAutoClear ? 1 : 0 });
  });
});
