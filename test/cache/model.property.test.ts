// Model-based property test: random sequences of cache operations against a deliberately naive
// reference (an array scanned and sorted on every step) must agree on every answer and callback.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { expect } from 'vitest';
import type { CachedSession, RemoveReason } from '../../src/cache/index.js';
import { SessionCache } from '../../src/cache/index.js';
import { T0, hex } from './fixtures.js';

interface ModelEntry {
  session: CachedSession;
  expiresAtMs: number;
  timeMs: number;
  seq: number;
}

class Model {
  entries: ModelEntry[] = [];
  removed: string[] = [];
  seq = 0;
  constructor(public size: number) {}
  private drop(e: ModelEntry, reason: RemoveReason) {
    this.entries = this.entries.filter((x) => x !== e);
    this.removed.push(`${hex(e.session.id)}:${reason}`);
  }
  find(id: string) {
    return this.entries.find((e) => hex(e.session.id) === id);
  }
  add(s: CachedSession): void {
    const existing = this.find(hex(s.id));
    if (existing && Buffer.compare(existing.session.data, s.data) === 0) return;
    if (existing) this.drop(existing, 'replaced');
    const timeMs = s.time! * 1000;
    this.entries.push({
      session: s,
      timeMs,
      expiresAtMs: timeMs + s.timeout! * 1000,
      seq: this.seq++,
    });
    while (this.size > 0 && this.entries.length > this.size) {
      const victim = [...this.entries].sort(
        (a, b) => a.expiresAtMs - b.expiresAtMs || a.seq - b.seq,
      )[0]!;
      this.drop(victim, 'evicted');
    }
  }
  lookup(id: string, now: number, singleUse: boolean): CachedSession | undefined {
    const e = this.find(id);
    if (!e) return undefined;
    if (!(e.timeMs <= now && now < e.expiresAtMs)) {
      this.drop(e, 'expired');
      return undefined;
    }
    if (singleUse) this.drop(e, 'resumed');
    return e.session;
  }
  remove(id: string): void {
    const e = this.find(id);
    if (e) this.drop(e, 'removed');
    else this.removed.push(`${id}:removed`);
  }
  flush(now: number): void {
    for (const e of [...this.entries].sort(
      (a, b) => a.expiresAtMs - b.expiresAtMs || a.seq - b.seq,
    )) {
      if (e.expiresAtMs <= now) this.drop(e, 'expired');
    }
  }
}

const idArb = fc.integer({ min: 0, max: 11 });
const op = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const),
    id: idArb,
    age: fc.integer({ min: -2, max: 10 }),
    timeout: fc.integer({ min: 0, max: 8 }),
    variant: fc.integer({ min: 0, max: 1 }),
  }),
  fc.record({ kind: fc.constant('lookup' as const), id: idArb, singleUse: fc.boolean() }),
  fc.record({ kind: fc.constant('remove' as const), id: idArb }),
  fc.record({ kind: fc.constant('flush' as const) }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 5000 }) }),
);

const idOf = (n: number) => Buffer.from([n, 0xff, n ^ 0x5a]);

describe('SessionCache against a naive model', () => {
  it('agrees on every lookup, size, and remove callback', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(op, { maxLength: 80 }), (size, ops) => {
        let now = T0 * 1000;
        const removed: string[] = [];
        const cache = new SessionCache({
          cacheSize: size,
          clock: () => now,
          noAutoClear: true,
          onRemove: (id, reason) => removed.push(`${hex(id)}:${reason}`),
        });
        const model = new Model(size);
        for (const o of ops) {
          switch (o.kind) {
            case 'add': {
              const s: CachedSession = {
                id: idOf(o.id),
                data: Buffer.from([o.id, o.variant]),
                time: Math.floor(now / 1000) - o.age,
                timeout: o.timeout,
              };
              cache.add(s);
              model.add(s);
              break;
            }
            case 'lookup': {
              const got = cache.lookup(idOf(o.id), { singleUse: o.singleUse });
              const want = model.lookup(hex(idOf(o.id)), now, o.singleUse);
              expect('then' in got).toBe(false);
              expect((got as { session?: CachedSession }).session).toBe(want);
              break;
            }
            case 'remove':
              cache.remove(idOf(o.id));
              model.remove(hex(idOf(o.id)));
              break;
            case 'flush':
              cache.flush();
              model.flush(now);
              break;
            case 'tick':
              now += o.ms;
              break;
          }
          expect(cache.stats().number).toBe(model.entries.length);
          if (size > 0) expect(cache.stats().number).toBeLessThanOrEqual(size);
          expect(removed).toEqual(model.removed);
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 500) },
    );
  });
});
