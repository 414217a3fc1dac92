// BoringSSL's ssl_test.cc InternalSessionCache and SessionTimeout, at the engine level.
import { describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/cache/index.js';
import { T0, TestClock, session } from './fixtures.js';

describe('InternalSessionCache', () => {
  it('holds at most cacheSize sessions, evicting in expiry order; remove unlinks from the middle', () => {
    const clock = new TestClock();
    const cache = new SessionCache({ cacheSize: 10, clock: clock.now });
    const sessions = Array.from({ length: 10 }, (_, i) => session(i, T0, 100 + i));
    for (const s of sessions) expect(cache.add(s)).toBe(true);
    expect([...cache.sessions()]).toEqual(sessions);

    // Adding an 11th evicts the one expiring soonest.
    const extra = session(10, T0, 200);
    cache.add(extra);
    expect([...cache.sessions()]).toEqual([...sessions.slice(1), extra]);
    expect(cache.stats().cacheFull).toBe(1);

    // Removing from the middle keeps the rest linked in order.
    expect(cache.remove(sessions[5]!.id)).toBe(true);
    expect([...cache.sessions()]).toEqual([...sessions.slice(1, 5), ...sessions.slice(6), extra]);

    // Re-adding the same session is a no-op; a different session under the same id replaces it.
    expect(cache.add(sessions[6]!)).toBe(false);
    const replacement = { ...session(6, T0, 50) };
    expect(cache.add(replacement)).toBe(true);
    expect([...cache.sessions()][0]).toBe(replacement);
    expect(cache.stats().number).toBe(9);
  });

  it('lowering cacheSize evicts at once', () => {
    const cache = new SessionCache({ clock: () => T0 * 1000 });
    for (let i = 0; i < 20; i++) cache.add(session(i, T0, 100 + i));
    cache.cacheSize = 5;
    expect(cache.stats()).toMatchObject({ number: 5, cacheFull: 15 });
    expect([...cache.sessions()].map((s) => s.timeout)).toEqual([115, 116, 117, 118, 119]);
  });
});

describe('SessionTimeout', () => {
  it.each([1, 10, 300, 86_400])(
    'timeout %i s: valid until timeout − 1 s, invalid at timeout',
    (timeout) => {
      const clock = new TestClock();
      const cache = new SessionCache({ clock: clock.now, noAutoClear: true });
      const s = session(1, T0, timeout);
      cache.add(s);
      clock.at(T0 + timeout - 1);
      expect(cache.lookup(s.id)).toMatchObject({ source: 'internal' });
      clock.nowMs = (T0 + timeout) * 1000 - 1;
      expect(cache.lookup(s.id)).toMatchObject({ source: 'internal' });
      clock.at(T0 + timeout);
      expect(cache.lookup(s.id)).toMatchObject({ source: 'none' });
    },
  );

  it('a session from the future is not valid, even if within its timeout', () => {
    const clock = new TestClock();
    const cache = new SessionCache({ clock: clock.now });
    const s = session(1, T0 + 1, 300);
    cache.add(s);
    expect(cache.lookup(s.id)).toMatchObject({ source: 'none' });
    expect(cache.stats().timeouts).toBe(1);
  });

  it('sessions without their own time/timeout get the add time and the default timeout', () => {
    const clock = new TestClock();
    const cache = new SessionCache({ clock: clock.now, timeout: 30 });
    const s = { id: Buffer.from([1, 2, 3]), data: Buffer.from([4]) };
    cache.add(s);
    expect(cache.expiresAt(s.id)).toBe((T0 + 30) * 1000);
  });
});

describe('binary ids', () => {
  it('ids that differ only in bytes invalid as UTF-8 never collide', () => {
    const cache = new SessionCache({ clock: () => T0 * 1000 });
    const a = { id: Buffer.from([0xff, 0xfe]), data: Buffer.from('a'), time: T0 };
    const b = { id: Buffer.from([0xfe, 0xff]), data: Buffer.from('b'), time: T0 };
    const c = { id: Buffer.from([0xc3]), data: Buffer.from('c'), time: T0 };
    const d = { id: Buffer.from([0xc4]), data: Buffer.from('d'), time: T0 };
    for (const s of [a, b, c, d]) cache.add(s);
    expect(cache.stats().number).toBe(4);
    for (const s of [a, b, c, d]) expect(cache.lookup(s.id)).toMatchObject({ session: s });
  });

  it('ids of every length 1–32 round-trip', () => {
    const cache = new SessionCache({ clock: () => T0 * 1000 });
    for (let len = 1; len <= 32; len++) cache.add(session(len, T0, 300, len));
    for (let len = 1; len <= 32; len++) {
      expect(cache.lookup(session(len, T0, 300, len).id)).toMatchObject({ source: 'internal' });
    }
  });
});
