// MemoryStore: the conformance suite, then what only the in-process store promises (bounds by
// count and bytes, eviction order, the unref'd sweep, synchronous answers).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { ManualClock, runStoreConformance } from '../../src/testing/index.js';

runStoreConformance('MemoryStore', ({ clock }) => new MemoryStore({ clock }), { describe, it });

const far = (clock: ManualClock, s = 3600): number => clock.nowMs + s * 1000;
const id = (n: number): Uint8Array => Uint8Array.of(n);

describe('MemoryStore bounds and eviction', () => {
  it('bounded by count: a full store evicts the soonest-expiring entry, then the oldest', () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ maxEntries: 3, clock: clock.now });
    store.set('ns', id(1), id(1), far(clock, 300));
    store.set('ns', id(2), id(2), far(clock, 100)); // soonest
    store.set('ns', id(3), id(3), far(clock, 200));
    expect(store.set('ns', id(4), id(4), far(clock, 400))).toBe(true);
    expect(store.get('ns', id(2))).toBeUndefined();
    expect([1, 3, 4].map((n) => store.get('ns', id(n)) !== undefined)).toEqual([true, true, true]);
    // Equal deadlines: the oldest goes.
    store.set('ns', id(5), id(5), far(clock, 400));
    expect(store.get('ns', id(3))).toBeUndefined(); // 200 s, the soonest left
    store.set('ns', id(6), id(6), far(clock, 400));
    expect(store.get('ns', id(1))).toBeUndefined(); // 300 s
    store.set('ns', id(7), id(7), far(clock, 400));
    expect(store.get('ns', id(4))).toBeUndefined(); // 400 s, oldest of the equals
    expect(store.stats().entries).toBe(3);
    expect(store.evictions).toBe(4);
    store.close();
  });

  it('expired entries go first, and do not count as evictions', () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ maxEntries: 2, clock: clock.now, sweepIntervalMs: 0 });
    store.set('ns', id(1), id(1), far(clock, 1));
    store.set('ns', id(2), id(2), far(clock, 10));
    clock.advance(2000);
    store.set('ns', id(3), id(3), far(clock, 5));
    expect(store.get('ns', id(2))).toBeDefined();
    expect(store.evictions).toBe(0);
    store.close();
  });

  it('a new entry that would expire first in a full store is not stored, the others stay', () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ maxEntries: 2, clock: clock.now });
    store.set('ns', id(1), id(1), far(clock, 100));
    store.set('ns', id(2), id(2), far(clock, 100));
    expect(store.set('ns', id(3), id(3), far(clock, 50))).toBe(false);
    expect(store.get('ns', id(3))).toBeUndefined();
    expect(store.stats()).toEqual({ entries: 2, bytes: 2 });
    store.close();
  });

  it('bounded by bytes of values', () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ maxBytes: 100, clock: clock.now });
    expect(store.maxValueBytes).toBe(100);
    for (let n = 1; n <= 5; n++) store.set('ns', id(n), new Uint8Array(40), far(clock, n));
    expect(store.stats()).toEqual({ entries: 2, bytes: 80 });
    expect(store.get('ns', id(4))).toBeDefined();
    expect(store.get('ns', id(5))).toBeDefined();
    // An overwrite with a larger value counts the difference.
    store.set('ns', id(5), new Uint8Array(60), far(clock, 9));
    expect(store.stats()).toEqual({ entries: 2, bytes: 100 });
    store.set('ns', id(5), new Uint8Array(61), far(clock, 9));
    expect(store.stats()).toEqual({ entries: 1, bytes: 61 });
    store.close();
  });

  it('matches a simple model under random operations (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant('set' as const),
              key: fc.nat(9),
              ttl: fc.integer({ min: -5, max: 50 }),
              size: fc.integer({ min: 1, max: 30 }),
            }),
            fc.record({
              op: fc.constantFrom('get' as const, 'take' as const, 'delete' as const),
              key: fc.nat(9),
            }),
            fc.record({ op: fc.constant('advance' as const), ms: fc.nat(20) }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const clock = new ManualClock(1_000_000);
          const store = new MemoryStore({
            maxEntries: 4,
            maxBytes: 64,
            clock: clock.now,
            sweepIntervalMs: 0,
          });
          // The model: live entries with their deadline and insertion order.
          let model: { key: number; exp: number; seq: number; size: number }[] = [];
          let seq = 0;
          const live = () => (model = model.filter((e) => e.exp > clock.nowMs));
          for (const o of ops) {
            if (o.op === 'advance') {
              clock.advance(o.ms);
              continue;
            }
            if (o.op === 'set') {
              const exp = clock.nowMs + o.ttl;
              const stored = store.set('ns', id(o.key), new Uint8Array(o.size).fill(o.key), exp);
              if (o.ttl <= 0) {
                expect(stored).toBe(false);
                continue;
              }
              model = model.filter((e) => e.key !== o.key);
              const entry = { key: o.key, exp, seq: seq++, size: o.size };
              model.push(entry);
              // Evict like the store: expired first (they expire soonest), then by deadline, then age.
              const order = () => model.sort((a, b) => a.exp - b.exp || a.seq - b.seq);
              while (model.length > 4 || model.reduce((n, e) => n + e.size, 0) > 64)
                model = order().slice(1);
              expect(stored).toBe(model.includes(entry));
              continue;
            }
            live();
            const expected = model.find((e) => e.key === o.key);
            const got = store[o.op]('ns', id(o.key));
            if (o.op === 'delete') expect(got).toBe(expected !== undefined);
            else
              expect(got === undefined ? undefined : (got as Uint8Array).byteLength).toBe(
                expected?.size,
              );
            if (o.op !== 'get' && expected !== undefined)
              model = model.filter((e) => e !== expected);
          }
          live();
          const listed = [...model].map((e) => e.key).sort();
          const actual = Array.from({ length: 10 }, (_, k) => k).filter(
            (k) => store.get('ns', id(k)) !== undefined,
          );
          expect(actual).toEqual(listed);
          store.close();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('MemoryStore behaviour', () => {
  it('answers synchronously: no promise on the handshake path', () => {
    const store = new MemoryStore();
    const exp = Date.now() + 60_000;
    expect(store.set('ns', id(1), id(1), exp)).toBe(true);
    expect(store.get('ns', id(1))).toBeInstanceOf(Uint8Array);
    expect(store.take('ns', id(1))).toBeInstanceOf(Uint8Array);
    expect(store.delete('ns', id(1))).toBe(false);
    expect(store.clear()).toBe(0);
    store.close();
  });

  it('the sweep timer drops expired entries without any access, and never holds the process', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const store = new MemoryStore({ sweepIntervalMs: 20 });
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
    store.set('ns', id(1), id(1), Date.now() + 30);
    store.set('ns', id(2), id(2), Date.now() + 60_000);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(store.stats().entries).toBe(1);
    expect(store.sweep(Date.now() + 120_000)).toBe(1);
    store.close();
  });

  it('treats ids it cannot hold as misses, and refuses them in set', () => {
    const store = new MemoryStore();
    expect(store.get('ns', new Uint8Array(33))).toBeUndefined();
    expect(store.take('ns', new Uint8Array(0))).toBeUndefined();
    expect(store.delete('ns', new Uint8Array(40))).toBe(false);
    expect(() => store.set('ns', new Uint8Array(33), id(1), Date.now() + 1000)).toThrow(RangeError);
    expect(() => store.get('ns', 'abc' as never)).toThrow(TypeError);
    expect(() => store.get('a\u0000b', id(1))).toThrow(/NUL/);
    expect(() => store.set('ns', id(1), id(1), Number.NaN)).toThrow(/expiresAtMs/);
    store.close();
  });

  it('after close every call throws; close is idempotent', () => {
    const store = new MemoryStore();
    store.close();
    store.close();
    expect(() => store.get('ns', id(1))).toThrow(/MemoryStore is closed/);
    expect(() => store.set('ns', id(1), id(1), Date.now() + 1000)).toThrow(/closed/);
  });

  it('refuses invalid options, naming them', () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new MemoryStore({ maxBytes: -1 })).toThrow(/maxBytes/);
    expect(() => new MemoryStore({ maxBytes: 10, maxValueBytes: 11 })).toThrow(/maxValueBytes/);
    expect(() => new MemoryStore({ sweepIntervalMs: 1.5 })).toThrow(RangeError);
    expect(() => new MemoryStore({ clock: 'now' as never })).toThrow(/clock/);
    expect(() => new MemoryStore(null as never)).toThrow(TypeError);
  });
});
