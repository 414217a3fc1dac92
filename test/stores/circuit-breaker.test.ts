// The circuit breaker on its own, with an injected clock and random source: no sleeping.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CIRCUIT_BREAKER_DEFAULTS,
  CircuitBreaker,
  BREAKER_REFUSED,
  type CircuitBreakerOptions,
  type CircuitState,
} from '../../src/stores/circuit-breaker.js';

function makeBreaker(options: CircuitBreakerOptions = {}) {
  const time = { now: 1_000 };
  const changes: CircuitState[] = [];
  const breaker = new CircuitBreaker(
    { clock: () => time.now, random: () => 0, ...options },
    (state) => changes.push(state),
  );
  const fail = (times = 1): void => {
    for (let i = 0; i < times; i++) breaker.failure(breaker.tryAcquire());
  };
  return { breaker, time, changes, fail };
}

describe('CircuitBreaker', () => {
  it('lets calls through while closed and opens after failureThreshold consecutive failures', () => {
    const { breaker, changes, fail } = makeBreaker({ failureThreshold: 3 });
    expect(breaker.state).toBe('closed');
    fail(2);
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).not.toBe(BREAKER_REFUSED);
    fail(1);
    expect(breaker.state).toBe('open');
    expect(breaker.opens).toBe(1);
    expect(breaker.tryAcquire()).toBe(BREAKER_REFUSED);
    expect(changes).toEqual(['open']);
  });

  it('counts only consecutive failures: a success starts the count again', () => {
    const { breaker, fail } = makeBreaker({ failureThreshold: 3 });
    fail(2);
    breaker.success(breaker.tryAcquire());
    fail(2);
    expect(breaker.state).toBe('closed');
    fail(1);
    expect(breaker.state).toBe('open');
  });

  it('forgets failures older than failureWindowMs', () => {
    const { breaker, time, fail } = makeBreaker({ failureThreshold: 3, failureWindowMs: 1000 });
    fail(2);
    time.now += 1001;
    fail(2); // a new streak of 2, the old one expired
    expect(breaker.state).toBe('closed');
    time.now += 1000; // exactly at the window's end: still counts
    fail(1);
    expect(breaker.state).toBe('open');
  });

  it('stays open for cooldownMs plus jitter, then lets exactly one probe through', () => {
    const { breaker, time, changes, fail } = makeBreaker({
      failureThreshold: 1,
      cooldownMs: 500,
      cooldownJitterMs: 100,
      random: () => 0.5,
    });
    fail(1);
    const openedAt = time.now;
    time.now = openedAt + 549;
    expect(breaker.tryAcquire()).toBe(BREAKER_REFUSED);
    expect(breaker.state).toBe('open');
    time.now = openedAt + 550; // 500 + floor(0.5 × 101)
    const probe = breaker.tryAcquire();
    expect(probe).not.toBe(BREAKER_REFUSED);
    expect(breaker.state).toBe('half-open');
    // Everyone else waits for the probe's verdict.
    for (let i = 0; i < 10; i++) expect(breaker.tryAcquire()).toBe(BREAKER_REFUSED);
    breaker.success(probe);
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).not.toBe(BREAKER_REFUSED);
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('opens again for a fresh cool-down when the probe fails', () => {
    const { breaker, time, changes, fail } = makeBreaker({ failureThreshold: 2, cooldownMs: 500 });
    fail(2);
    time.now += 500;
    const probe = breaker.tryAcquire();
    time.now += 30;
    breaker.failure(probe);
    expect(breaker.state).toBe('open');
    expect(breaker.opens).toBe(2);
    time.now += 499;
    expect(breaker.tryAcquire()).toBe(BREAKER_REFUSED);
    time.now += 1;
    expect(breaker.tryAcquire()).not.toBe(BREAKER_REFUSED);
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open']);
  });

  it('ignores outcomes of calls made before the last state change', () => {
    const { breaker, time } = makeBreaker({ failureThreshold: 2, cooldownMs: 100 });
    const early = breaker.tryAcquire(); // in flight while the breaker opens
    const late = breaker.tryAcquire();
    breaker.failure(breaker.tryAcquire());
    breaker.failure(breaker.tryAcquire());
    expect(breaker.state).toBe('open');
    time.now += 100;
    const probe = breaker.tryAcquire();
    expect(breaker.state).toBe('half-open');
    // A slow call from the closed period answers now: it says nothing about the store today.
    breaker.success(early);
    expect(breaker.state).toBe('half-open');
    breaker.failure(late);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(BREAKER_REFUSED);
    breaker.success(probe);
    expect(breaker.state).toBe('closed');
    // And one from before the reopening does not count towards the next opening.
    breaker.failure(early);
    breaker.failure(breaker.tryAcquire());
    expect(breaker.state).toBe('closed');
  });

  it('lets another call probe when the probe was released unused', () => {
    const { breaker, time, fail } = makeBreaker({ failureThreshold: 1, cooldownMs: 10 });
    fail(1);
    time.now += 10;
    const probe = breaker.tryAcquire();
    expect(breaker.tryAcquire()).toBe(BREAKER_REFUSED);
    breaker.release(probe);
    expect(breaker.state).toBe('half-open');
    const second = breaker.tryAcquire();
    expect(second).not.toBe(BREAKER_REFUSED);
    expect(breaker.tryAcquire()).toBe(BREAKER_REFUSED);
    breaker.success(second);
    expect(breaker.state).toBe('closed');
    // Releasing while closed changes nothing.
    breaker.release(breaker.tryAcquire());
    expect(breaker.state).toBe('closed');
  });

  it('reads no clock while closed and a throwing listener changes nothing', () => {
    let reads = 0;
    const breaker = new CircuitBreaker(
      {
        failureThreshold: 1,
        clock: () => {
          reads++;
          return 0;
        },
      },
      () => {
        throw new Error('listener bug');
      },
    );
    for (let i = 0; i < 1000; i++) breaker.success(breaker.tryAcquire());
    expect(reads).toBe(0);
    breaker.failure(breaker.tryAcquire());
    expect(breaker.state).toBe('open');
  });

  it('spreads cool-downs by up to cooldownJitterMs', () => {
    const ends: number[] = [];
    for (const r of [0, 0.25, 0.999999]) {
      const { breaker, time, fail } = makeBreaker({
        failureThreshold: 1,
        cooldownMs: 500,
        cooldownJitterMs: 100,
        random: () => r,
      });
      fail(1);
      const start = time.now;
      while (breaker.tryAcquire() === BREAKER_REFUSED) time.now++;
      ends.push(time.now - start);
    }
    expect(ends).toEqual([500, 525, 600]);
  });

  it('has documented defaults', () => {
    expect(CIRCUIT_BREAKER_DEFAULTS).toEqual({
      failureThreshold: 5,
      failureWindowMs: 10_000,
      cooldownMs: 500,
      cooldownJitterMs: 100,
    });
    const { breaker, time, fail } = makeBreaker();
    fail(4);
    expect(breaker.state).toBe('closed');
    fail(1);
    expect(breaker.state).toBe('open');
    time.now += 499;
    expect(breaker.tryAcquire()).toBe(BREAKER_REFUSED);
    time.now += 1;
    expect(breaker.tryAcquire()).not.toBe(BREAKER_REFUSED);
  });

  it('refuses bad options with TypeError/RangeError naming them', () => {
    const make = (options: unknown) => () =>
      new CircuitBreaker(options as CircuitBreakerOptions, undefined, 'breaker.');
    expect(make({ failureThreshold: 0 })).toThrow(RangeError);
    expect(make({ failureThreshold: 0 })).toThrow(/breaker\.failureThreshold/);
    expect(make({ failureThreshold: 1.5 })).toThrow(/breaker\.failureThreshold/);
    expect(make({ failureWindowMs: 0 })).toThrow(/breaker\.failureWindowMs/);
    expect(make({ cooldownMs: -1 })).toThrow(/breaker\.cooldownMs/);
    expect(make({ cooldownMs: '500' })).toThrow(TypeError);
    expect(make({ cooldownJitterMs: -1 })).toThrow(/breaker\.cooldownJitterMs/);
    expect(make({ clock: 5 })).toThrow(/breaker\.clock/);
    expect(make({ random: 'x' })).toThrow(/breaker\.random/);
    expect(make('fast')).toThrow(TypeError);
    expect(make({ cooldownJitterMs: 0 })).not.toThrow();
  });

  it('agrees with a reference model on random sequences of calls, outcomes and time', () => {
    type Step =
      | { kind: 'call'; outcome: 'success' | 'failure' | 'release' | 'pending' }
      | { kind: 'settle'; index: number; outcome: 'success' | 'failure' }
      | { kind: 'tick'; ms: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({
        kind: fc.constant('call' as const),
        outcome: fc.constantFrom('success', 'failure', 'release', 'pending') as fc.Arbitrary<
          'success' | 'failure' | 'release' | 'pending'
        >,
      }),
      fc.record({
        kind: fc.constant('settle' as const),
        index: fc.nat(20),
        outcome: fc.constantFrom('success', 'failure') as fc.Arbitrary<'success' | 'failure'>,
      }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 300 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const threshold = 3;
        const windowMs = 400;
        const cooldownMs = 200;
        const { breaker, time } = makeBreaker({
          failureThreshold: threshold,
          failureWindowMs: windowMs,
          cooldownMs,
          cooldownJitterMs: 0,
        });
        // The model: the same rules, written the obvious way.
        let state: CircuitState = 'closed';
        let epoch = 0;
        let streak: number[] = [];
        let openUntil = 0;
        let probing = false;
        const pending: { ticket: number; epoch: number }[] = [];
        const modelAcquire = (): number | undefined => {
          if (state === 'closed') return epoch;
          if (state === 'open') {
            if (time.now < openUntil) return undefined;
            state = 'half-open';
            epoch++;
            probing = true;
            return epoch;
          }
          if (probing) return undefined;
          probing = true;
          return epoch;
        };
        const open = (): void => {
          state = 'open';
          epoch++;
          streak = [];
          openUntil = time.now + cooldownMs;
        };
        const modelSettle = (e: number, outcome: 'success' | 'failure' | 'release'): void => {
          if (e !== epoch) return;
          if (outcome === 'release') {
            if (state === 'half-open') probing = false;
          } else if (state === 'half-open') {
            probing = false;
            if (outcome === 'success') {
              state = 'closed';
              epoch++;
              streak = [];
            } else open();
          } else if (state === 'closed') {
            if (outcome === 'success') streak = [];
            else {
              if (streak.length > 0 && time.now - streak[0]! > windowMs) streak = [];
              streak.push(time.now);
              if (streak.length >= threshold) open();
            }
          }
        };
        const report = (ticket: number, outcome: 'success' | 'failure' | 'release'): void => {
          if (outcome === 'success') breaker.success(ticket);
          else if (outcome === 'failure') breaker.failure(ticket);
          else breaker.release(ticket);
        };
        for (const s of steps) {
          if (s.kind === 'tick') time.now += s.ms;
          else if (s.kind === 'call') {
            const expected = modelAcquire();
            const ticket = breaker.tryAcquire();
            if ((ticket === BREAKER_REFUSED) !== (expected === undefined)) return false;
            if (expected !== undefined) {
              if (s.outcome === 'pending') pending.push({ ticket, epoch: expected });
              else {
                report(ticket, s.outcome);
                modelSettle(expected, s.outcome);
              }
            }
          } else {
            const call = pending.splice(s.index % Math.max(1, pending.length), 1)[0];
            if (call !== undefined) {
              report(call.ticket, s.outcome);
              modelSettle(call.epoch, s.outcome);
            }
          }
          if (breaker.state !== state) return false;
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });
});
