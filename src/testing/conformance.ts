// The store conformance suite: what every SessionStore must do, as tests any store runs in a few
// lines. It registers its tests through the `describe`/`it` it is given, so it runs under vitest,
// node:test, mocha or jest alike, and checks with node:assert/strict, which every runner reports.
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { SessionCacheError } from '../common/errors.js';
import { covers } from '../stores/revocations.js';
import type { MaybePromise, Revocation, SessionStore, StoredEntry } from '../stores/store.js';

/** The part of a test runner the suite needs: vitest's, node:test's, mocha's and jest's fit. */
export interface ConformanceTestApi {
  /** Groups tests (`describe` of the runner). */
  describe: (name: string, fn: () => void) => unknown;
  /** Registers one test; the suite's test functions take no arguments and return a promise. */
  it: (name: string, fn: () => Promise<void>) => unknown;
}

/** What the suite hands the store factory. */
export interface StoreFactoryContext {
  /**
   * The suite's clock, in ms since the epoch: it stands still until a test moves it. Pass it as the
   * store's `clock` option when `ConformanceOptions.clock` is `'injected'` (the default).
   */
  readonly clock: () => number;
}

/** Options of {@link runStoreConformance}. */
export interface ConformanceOptions extends ConformanceTestApi {
  /**
   * Whose clock decides expiry: `'injected'` — the store takes `context.clock`, and expiry is
   * checked to the millisecond (valid at deadline − 1 ms, gone at the deadline); `'real'` — the
   * store keeps real time (e.g. a Redis server's clock), and expiry is checked with real waits of
   * a few hundred ms, a little before and after the deadline.
   * @default 'injected'
   */
  clock?: 'injected' | 'real';
  /**
   * Opens another instance on the same backend as `store` (another connection to the same file or
   * server, as another process would). With it the suite also checks that writes are shared and
   * that concurrent takes from several instances have exactly one winner.
   * @default undefined (those tests are skipped)
   */
  makeSibling?: (store: SessionStore, context: StoreFactoryContext) => MaybePromise<SessionStore>;
  /**
   * Concurrent `take`s of one id in the take race.
   * @default 50
   */
  concurrency?: number;
  /**
   * Check that `close()` leaves no timer, socket, or file descriptor behind (async_hooks, and
   * `/proc/self/fd` on Linux). Turn off for a store whose client library keeps process-wide
   * resources by design.
   * @default true
   */
  checkResources?: boolean;
}

/** A store factory: must return a new, empty store each time (a fresh file, a fresh key prefix). */
export type StoreFactory = (context: StoreFactoryContext) => MaybePromise<SessionStore>;

/** A clock that stands still unless moved; what {@link StoreFactoryContext.clock} reads. */
export class ManualClock {
  /** The current time, ms since the epoch. */
  nowMs: number;

  /** @param startMs - the initial time @default Date.now() */
  constructor(startMs: number = Date.now()) {
    this.nowMs = startMs;
  }

  /** The clock as a function, for a store's `clock` option. */
  readonly now = (): number => this.nowMs;

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits (real time, polling every 10 ms) until `done()`, failing after `ms` with `what`: for
 * revocation reports, which a store may deliver later (a poll, a message from the server).
 */
async function until(done: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`not reported within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

/** Whether a report covers every session of `namespace` (a whole namespace, or everything). */
const coversNamespace = (revocation: Revocation, namespace: string): boolean =>
  revocation.namespace === undefined ||
  (revocation.namespace === namespace && revocation.id === undefined);

/** Hex, for assertion messages (test values only: never use this on real sessions). */
const hex = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('hex');

function assertBytes(actual: unknown, expected: Uint8Array, message: string): void {
  assert.ok(actual instanceof Uint8Array, `${message}: expected bytes, got ${String(actual)}`);
  assert.equal(hex(actual), hex(expected), message);
}

async function collect(iterable: AsyncIterable<StoredEntry>): Promise<StoredEntry[]> {
  const entries: StoredEntry[] = [];
  for await (const entry of iterable) entries.push(entry);
  return entries;
}

/** Ids of every length 1–32 whose bytes are not valid UTF-8 (a lossy encoding would merge them). */
function binaryIds(): Uint8Array[] {
  const ids: Uint8Array[] = [];
  for (let length = 1; length <= 32; length++) {
    const id = new Uint8Array(length);
    for (let i = 0; i < length; i++) id[i] = (0xff - i * 7 - length) & 0xff;
    // A lone continuation byte, an overlong NUL and a surrogate: invalid UTF-8 wherever they fit.
    id[0] = 0x80 | length;
    if (length >= 2) id.set([0xc0, 0x80], length - 2);
    if (length >= 5) id.set([0xed, 0xa0, 0x80], 2);
    ids.push(id);
  }
  return ids;
}

/**
 * Registers the store conformance suite: the store contract of `src/stores/store.ts` as tests.
 *
 * @param name - the store's name in the test titles
 * @param makeStore - makes a new, empty store; with `clock: 'injected'` it must pass
 * `context.clock` to the store
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { runStoreConformance } from 'tls-session-cache/testing';
 *
 * runStoreConformance('MemoryStore', ({ clock }) => new MemoryStore({ clock }), { describe, it });
 * ```
 */
export function runStoreConformance(
  name: string,
  makeStore: StoreFactory,
  options: ConformanceOptions,
): void {
  const { describe, it } = options;
  if (typeof describe !== 'function' || typeof it !== 'function') {
    throw new TypeError('options.describe and options.it must be the test runner’s functions');
  }
  const injected = (options.clock ?? 'injected') === 'injected';
  const concurrency = options.concurrency ?? 50;
  const makeSibling = options.makeSibling;
  const checkResources = options.checkResources ?? true;

  /** Runs `body` with a fresh store (and clock); closes every store it opened, pass or fail. */
  const withStore = async (
    body: (
      store: SessionStore,
      clock: ManualClock,
      sibling: () => Promise<SessionStore>,
    ) => Promise<void>,
  ): Promise<void> => {
    const clock = new ManualClock();
    const context: StoreFactoryContext = { clock: clock.now };
    const opened: SessionStore[] = [];
    try {
      const store = await makeStore(context);
      opened.push(store);
      const sibling = async (): Promise<SessionStore> => {
        assert.ok(makeSibling !== undefined);
        const other = await makeSibling(store, context);
        opened.push(other);
        return other;
      };
      await body(store, clock, sibling);
    } finally {
      for (const store of opened.reverse()) await store.close();
    }
  };

  /** "Now" as the store sees it. */
  const nowOf = (clock: ManualClock): number => (injected ? clock.nowMs : Date.now());
  const HOUR = 3_600_000;

  describe(`${name}: store conformance`, () => {
    it('describes itself: kind and maxValueBytes', () =>
      withStore(async (store) => {
        assert.equal(typeof store.kind, 'string');
        assert.ok(store.kind.length > 0, 'kind must not be empty');
        assert.ok(
          Number.isInteger(store.maxValueBytes) && store.maxValueBytes > 0,
          `maxValueBytes must be a positive whole number, got ${store.maxValueBytes}`,
        );
      }));

    it('keeps binary ids of every length 1–32 apart, including bytes invalid as UTF-8', () =>
      withStore(async (store, clock) => {
        const ids = binaryIds();
        // Pairs a lossy (UTF-8 → U+FFFD) or NUL-terminated encoding would merge.
        ids.push(
          Uint8Array.of(0xff),
          Uint8Array.of(0xfe),
          Uint8Array.of(0x00),
          Uint8Array.of(0x00, 0x00),
          Uint8Array.of(0x61, 0x00),
          Uint8Array.of(0x61),
        );
        const expiresAtMs = nowOf(clock) + HOUR;
        for (const [i, id] of ids.entries()) {
          assert.equal(await store.set('ns', id, Uint8Array.of(i, 0xaa), expiresAtMs), true);
        }
        for (const [i, id] of ids.entries()) {
          assertBytes(await store.get('ns', id), Uint8Array.of(i, 0xaa), `id #${i} (${hex(id)})`);
        }
        // A copy of the id (another buffer, same bytes) finds the same entry.
        const copy = Uint8Array.from(ids[31]!);
        assertBytes(await store.get('ns', copy), Uint8Array.of(31, 0xaa), 'id copy');
        // An id inside a larger buffer (a Buffer view with an offset) is just its bytes.
        const backing = new Uint8Array(40).fill(0x55);
        backing.set(ids[9]!, 3);
        assertBytes(
          await store.get('ns', backing.subarray(3, 3 + 10)),
          Uint8Array.of(9, 0xaa),
          'id view',
        );
      }));

    it('keeps equal ids in different namespaces apart', () =>
      withStore(async (store, clock) => {
        const namespaces = ['', 'a', 'a/b', 'b', 'tenant/AbCdEf0123456789', 'ü-ß', 'a/'];
        const id = Uint8Array.of(1, 2, 3);
        const expiresAtMs = nowOf(clock) + HOUR;
        for (const [i, ns] of namespaces.entries()) {
          assert.equal(await store.set(ns, id, Uint8Array.of(i), expiresAtMs), true);
        }
        for (const [i, ns] of namespaces.entries()) {
          assertBytes(await store.get(ns, id), Uint8Array.of(i), `namespace ${JSON.stringify(ns)}`);
        }
        assert.equal(await store.get('c', id), undefined, 'a namespace never written');
        assert.equal(await store.delete('a', id), true);
        assertBytes(await store.take('a/b', id), Uint8Array.of(2), 'take in a/b');
        assert.equal(await store.get('a', id), undefined);
        assert.equal(await store.get('a/b', id), undefined);
        for (const ns of ['', 'b', 'a/']) {
          assert.ok((await store.get(ns, id)) !== undefined, `${JSON.stringify(ns)} untouched`);
        }
      }));

    it('keeps namespaces apart that only a lossy encoding would merge (or refuses them)', () =>
      withStore(async (store, clock) => {
        const id = Uint8Array.of(4, 2);
        const expiresAtMs = nowOf(clock) + HOUR;
        // UTF-8 turns a lone surrogate into U+FFFD: a store keyed by UTF-8 bytes must refuse such
        // a namespace, or it would share entries with its twin.
        for (const [odd, twin] of [
          ['t/\uD800', 't/\uFFFD'],
          ['t/\uDC00', 't/\uFFFD'],
        ] as const) {
          let accepted = true;
          try {
            await store.set(odd, id, Uint8Array.of(1), expiresAtMs);
          } catch {
            accepted = false;
          }
          await store.set(twin, id, Uint8Array.of(2), expiresAtMs);
          if (accepted)
            assertBytes(await store.get(odd, id), Uint8Array.of(1), JSON.stringify(odd));
          else assert.equal(hex(await store.get(twin, id)), '02');
        }
      }));

    it('overwrites: a second set replaces the value and the deadline', () =>
      withStore(async (store, clock) => {
        const id = Uint8Array.of(7);
        const now = nowOf(clock);
        assert.equal(await store.set('ns', id, Uint8Array.of(1), now + HOUR), true);
        const soon = injected ? now + 1000 : now + 400;
        assert.equal(await store.set('ns', id, Uint8Array.of(2, 2), soon), true);
        assertBytes(await store.get('ns', id), Uint8Array.of(2, 2), 'the second value');
        if (injected) clock.nowMs = soon;
        else await sleep(soon - Date.now() + 50);
        assert.equal(await store.get('ns', id), undefined, 'the second deadline applies');
      }));

    it('delete is idempotent and reports whether it deleted', () =>
      withStore(async (store, clock) => {
        const id = Uint8Array.of(9, 9);
        assert.equal(await store.delete('ns', id), false, 'nothing to delete');
        await store.set('ns', id, Uint8Array.of(1), nowOf(clock) + HOUR);
        assert.equal(await store.delete('ns', id), true);
        assert.equal(await store.get('ns', id), undefined);
        assert.equal(await store.delete('ns', id), false, 'second delete');
        assert.equal(await store.take('ns', id), undefined);
      }));

    if (injected) {
      it('expires exactly at the deadline: valid at deadline − 1 ms, gone at the deadline', () =>
        withStore(async (store, clock) => {
          const deadline = clock.nowMs + 10_000;
          const [a, b, c] = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)];
          for (const id of [a, b, c]) await store.set('ns', id, Uint8Array.of(0x42), deadline);
          clock.nowMs = deadline - 1;
          assertBytes(await store.get('ns', a), Uint8Array.of(0x42), 'get at deadline − 1 ms');
          clock.nowMs = deadline;
          assert.equal(await store.get('ns', a), undefined, 'get at the deadline');
          assert.equal(await store.take('ns', b), undefined, 'take at the deadline');
          // delete's answer for an entry expiring right now is the store's choice; the entry is
          // gone afterwards either way.
          await store.delete('ns', c);
          assert.equal(await store.get('ns', c), undefined, 'after delete at the deadline');
          clock.nowMs = deadline - 1;
          // Once seen expired, an entry may be gone for good; it must not come back as another.
          const again = await store.get('ns', a);
          assert.ok(again === undefined || hex(again) === '42');
        }));

      it('take at deadline − 1 ms still succeeds', () =>
        withStore(async (store, clock) => {
          const deadline = clock.nowMs + 5000;
          await store.set('ns', Uint8Array.of(1), Uint8Array.of(0x42), deadline);
          clock.nowMs = deadline - 1;
          assertBytes(await store.take('ns', Uint8Array.of(1)), Uint8Array.of(0x42), 'take');
        }));
    } else {
      it('expires at the deadline (real clock)', () =>
        withStore(async (store) => {
          const deadline = Date.now() + 500;
          const id = Uint8Array.of(1);
          assert.equal(await store.set('ns', id, Uint8Array.of(0x42), deadline), true);
          assertBytes(await store.get('ns', id), Uint8Array.of(0x42), 'well before the deadline');
          await sleep(deadline - Date.now() + 20);
          assert.equal(await store.get('ns', id), undefined, 'after the deadline');
          assert.equal(await store.take('ns', id), undefined, 'take after the deadline');
        }));
    }

    it('does not store a value whose deadline has already passed', () =>
      withStore(async (store, clock) => {
        const now = nowOf(clock);
        const past = injected ? now : now - 1000;
        assert.equal(await store.set('ns', Uint8Array.of(1), Uint8Array.of(1), past), false);
        assert.equal(await store.set('ns', Uint8Array.of(2), Uint8Array.of(1), now - HOUR), false);
        assert.equal(await store.get('ns', Uint8Array.of(1)), undefined);
        assert.equal(await store.get('ns', Uint8Array.of(2)), undefined);
      }));

    it('round-trips values from 1 byte up to maxValueBytes', () =>
      withStore(async (store, clock) => {
        const expiresAtMs = nowOf(clock) + HOUR;
        const sizes = [1, 2, 255, 256, 4096, store.maxValueBytes - 1, store.maxValueBytes];
        for (const size of sizes) {
          if (size < 1) continue;
          const value = randomBytes(size);
          const id = Uint8Array.of(size & 0xff, (size >> 8) & 0xff, (size >> 16) & 0xff);
          assert.equal(await store.set('ns', id, value, expiresAtMs), true, `set ${size} bytes`);
          const got = await store.get('ns', id);
          assert.ok(got instanceof Uint8Array, `get ${size} bytes`);
          assert.equal(got.byteLength, size);
          assert.ok(Buffer.from(got).equals(value), `${size} bytes round-trip`);
        }
      }));

    it('refuses a value over maxValueBytes, and keeps what was there', () =>
      withStore(async (store, clock) => {
        const expiresAtMs = nowOf(clock) + HOUR;
        const id = Uint8Array.of(5);
        await store.set('ns', id, Uint8Array.of(1, 2, 3), expiresAtMs);
        const big = new Uint8Array(store.maxValueBytes + 1).fill(7);
        assert.equal(await store.set('ns', id, big, expiresAtMs), false, 'oversize over an entry');
        assertBytes(await store.get('ns', id), Uint8Array.of(1, 2, 3), 'the old value stays');
        assert.equal(await store.set('ns', Uint8Array.of(6), big, expiresAtMs), false, 'oversize');
        assert.equal(await store.get('ns', Uint8Array.of(6)), undefined, 'nothing stored');
      }));

    it('copies values: changing a buffer after set or after get changes nothing stored', () =>
      withStore(async (store, clock) => {
        const id = Uint8Array.of(1);
        const value = Uint8Array.of(1, 2, 3);
        await store.set('ns', id, value, nowOf(clock) + HOUR);
        value.fill(0);
        const got = await store.get('ns', id);
        assertBytes(got, Uint8Array.of(1, 2, 3), 'after changing the input');
        got!.fill(9);
        assertBytes(await store.get('ns', id), Uint8Array.of(1, 2, 3), 'after changing the output');
      }));

    it('take returns the value once, then never again', () =>
      withStore(async (store, clock) => {
        const id = Uint8Array.of(0xde, 0xad);
        await store.set('ns', id, Uint8Array.of(1, 2), nowOf(clock) + HOUR);
        assertBytes(await store.take('ns', id), Uint8Array.of(1, 2), 'first take');
        assert.equal(await store.take('ns', id), undefined, 'second take');
        assert.equal(await store.get('ns', id), undefined, 'get after take');
        assert.equal(await store.delete('ns', id), false, 'delete after take');
        assert.equal(await store.take('ns', Uint8Array.of(0xbe, 0xef)), undefined, 'never stored');
        // Taken ids can be stored again (a new session may reuse an id).
        assert.equal(await store.set('ns', id, Uint8Array.of(3), nowOf(clock) + HOUR), true);
        assertBytes(await store.take('ns', id), Uint8Array.of(3), 'take after a new set');
      }));

    it(`${concurrency} concurrent takes of one id: exactly one winner`, () =>
      withStore(async (store, clock) => {
        for (let round = 0; round < 10; round++) {
          const id = Uint8Array.of(round, 0x77);
          await store.set('ns', id, Uint8Array.of(round), nowOf(clock) + HOUR);
          const results = await Promise.all(
            Array.from({ length: concurrency }, () =>
              Promise.resolve().then(() => store.take('ns', id)),
            ),
          );
          const winners = results.filter((r) => r !== undefined);
          assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
          assertBytes(winners[0], Uint8Array.of(round), 'the winner got the value');
        }
      }));

    if (makeSibling !== undefined) {
      it('instances on one backend share entries', () =>
        withStore(async (store, clock, sibling) => {
          const other = await sibling();
          const id = Uint8Array.of(0xab);
          await store.set('ns', id, Uint8Array.of(1), nowOf(clock) + HOUR);
          assertBytes(
            await other.get('ns', id),
            Uint8Array.of(1),
            'written on one, read on another',
          );
          assert.equal(await other.delete('ns', id), true);
          assert.equal(await store.get('ns', id), undefined, 'deleted on another');
        }));

      it(`${concurrency} concurrent takes from 3 instances on one backend: exactly one winner`, () =>
        withStore(async (store, clock, sibling) => {
          const stores = [store, await sibling(), await sibling()];
          for (let round = 0; round < 10; round++) {
            const id = Uint8Array.of(round, 0x88);
            await stores[round % 3]!.set('ns', id, Uint8Array.of(round), nowOf(clock) + HOUR);
            const results = await Promise.all(
              Array.from({ length: concurrency }, (_, i) =>
                Promise.resolve().then(() => stores[i % 3]!.take('ns', id)),
              ),
            );
            const winners = results.filter((r) => r !== undefined);
            assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
          }
        }));
      it(`setIfAbsent, when implemented: concurrent calls from 3 instances, one winner all see`, () =>
        withStore(async (store, clock, sibling) => {
          if (store.setIfAbsent === undefined) return;
          const stores = [store, await sibling(), await sibling()];
          for (let round = 0; round < 10; round++) {
            const id = Uint8Array.of(round, 0x54);
            const results = await Promise.all(
              Array.from({ length: concurrency }, (_, i) =>
                Promise.resolve().then(() =>
                  stores[i % 3]!.setIfAbsent!('ns', id, Uint8Array.of(i), nowOf(clock) + HOUR),
                ),
              ),
            );
            const winners = results.flatMap((won, i) => (won ? [i] : []));
            assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
            for (const each of stores) {
              assertBytes(await each.get('ns', id), Uint8Array.of(winners[0]!), 'every instance');
            }
          }
        }));
    }

    it('setIfAbsent, when implemented: stores only where nothing live is, and says which', () =>
      withStore(async (store, clock) => {
        if (store.setIfAbsent === undefined) return;
        const id = Uint8Array.of(0x51, 0x00, 0xff);
        const deadline = nowOf(clock) + HOUR;
        assert.equal(await store.setIfAbsent('ns', id, Uint8Array.of(1), deadline), true, 'first');
        assert.equal(
          await store.setIfAbsent('ns', id, Uint8Array.of(2), deadline),
          false,
          'second',
        );
        assertBytes(await store.get('ns', id), Uint8Array.of(1), 'the first value stays');
        // Another namespace is another entry.
        assert.equal(await store.setIfAbsent('other', id, Uint8Array.of(3), deadline), true);
        // A value set over it with set() counts as present too.
        await store.set('ns', Uint8Array.of(9), Uint8Array.of(4), deadline);
        assert.equal(
          await store.setIfAbsent('ns', Uint8Array.of(9), Uint8Array.of(5), deadline),
          false,
        );
        // Refusals of set() apply: a past deadline or an oversize value stores nothing.
        const past = nowOf(clock) - 1;
        assert.equal(
          await store.setIfAbsent('ns', Uint8Array.of(7), Uint8Array.of(1), past),
          false,
        );
        assert.equal(await store.get('ns', Uint8Array.of(7)), undefined, 'nothing stored');
        const big = new Uint8Array(store.maxValueBytes + 1);
        assert.equal(await store.setIfAbsent('ns', Uint8Array.of(8), big, deadline), false);
        assert.equal(await store.get('ns', Uint8Array.of(8)), undefined, 'nothing stored');
        // After delete the id is absent again.
        await store.delete('ns', id);
        assert.equal(await store.setIfAbsent('ns', id, Uint8Array.of(6), deadline), true);
        assertBytes(await store.get('ns', id), Uint8Array.of(6), 'the new value');
      }));

    it('setIfAbsent, when implemented: an expired entry counts as absent', () =>
      withStore(async (store, clock) => {
        if (store.setIfAbsent === undefined) return;
        const id = Uint8Array.of(0x52);
        const short = injected ? clock.nowMs + 5000 : Date.now() + 300;
        assert.equal(await store.setIfAbsent('ns', id, Uint8Array.of(1), short), true);
        if (injected) clock.nowMs = short - 1;
        assert.equal(
          await store.setIfAbsent('ns', id, Uint8Array.of(2), nowOf(clock) + HOUR),
          false,
          'still live',
        );
        if (injected) clock.nowMs = short;
        else await sleep(short - Date.now() + 20);
        assert.equal(
          await store.setIfAbsent('ns', id, Uint8Array.of(3), nowOf(clock) + HOUR),
          true,
          'at the deadline the old entry is absent',
        );
        assertBytes(await store.get('ns', id), Uint8Array.of(3), 'the new value');
      }));

    it(`setIfAbsent, when implemented: ${concurrency} concurrent calls on one id, one winner`, () =>
      withStore(async (store, clock) => {
        if (store.setIfAbsent === undefined) return;
        for (let round = 0; round < 10; round++) {
          const id = Uint8Array.of(round, 0x53);
          const results = await Promise.all(
            Array.from({ length: concurrency }, (_, i) =>
              Promise.resolve().then(() =>
                store.setIfAbsent!('ns', id, Uint8Array.of(i), nowOf(clock) + HOUR),
              ),
            ),
          );
          const winners = results.flatMap((won, i) => (won ? [i] : []));
          assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
          assertBytes(await store.get('ns', id), Uint8Array.of(winners[0]!), 'the winner’s value');
        }
      }));

    it('watchRevocations, when implemented: every delete and clear is reported to watchers', () =>
      withStore(async (store, clock) => {
        if (store.watchRevocations === undefined) return;
        const seen: Revocation[] = [];
        const stop = store.watchRevocations((revocation) => seen.push(revocation));
        try {
          const after = (from: number): Revocation[] => seen.slice(from);
          const id = Uint8Array.of(0xfe, 0x80, 0);
          await store.set('ns', id, Uint8Array.of(1), nowOf(clock) + HOUR);
          let from = seen.length;
          assert.equal(await store.delete('ns', id), true);
          await until(() => after(from).some((r) => covers(r, 'ns', id)), 'a delete');
          // An id the store does not hold: another process may still hold it in memory.
          const absent = Uint8Array.of(7, 7);
          from = seen.length;
          assert.equal(await store.delete('other', absent), false);
          await until(
            () => after(from).some((r) => covers(r, 'other', absent)),
            'a delete of an id the store did not hold',
          );
          for (const r of seen) {
            if (r.id !== undefined) {
              assert.ok(r.id instanceof Uint8Array, 'ids are bytes');
              assert.equal(typeof r.namespace, 'string', 'an id comes with its namespace');
            }
          }
          if (store.clear !== undefined) {
            from = seen.length;
            await store.clear('a');
            await until(() => after(from).some((r) => coversNamespace(r, 'a')), 'clear(namespace)');
            from = seen.length;
            await store.clear();
            await until(
              () => after(from).some((r) => r.namespace === undefined),
              'clear() as everything',
            );
          }
        } finally {
          stop();
        }
      }));

    it('watchRevocations, when implemented: unwatching stops reports; a throwing listener breaks nothing', () =>
      withStore(async (store) => {
        if (store.watchRevocations === undefined) return;
        const first: Revocation[] = [];
        const second: Revocation[] = [];
        const stopThrowing = store.watchRevocations(() => {
          throw new Error('a listener that throws');
        });
        const stopFirst = store.watchRevocations((r) => first.push(r));
        const stopSecond = store.watchRevocations((r) => second.push(r));
        try {
          const id = Uint8Array.of(1, 2, 3);
          await store.delete('ns', id);
          await until(() => first.some((r) => covers(r, 'ns', id)), 'a delete, to the first');
          await until(() => second.some((r) => covers(r, 'ns', id)), 'a delete, to the second');
          stopFirst();
          stopFirst();
          const seenByFirst = first.length;
          const next = Uint8Array.of(4, 5, 6);
          await store.delete('ns', next);
          await until(() => second.some((r) => covers(r, 'ns', next)), 'a delete, to the second');
          // Both listeners of one instance are told together: the first would have been by now.
          assert.equal(first.length, seenByFirst, 'an unwatched listener was told');
        } finally {
          stopThrowing();
          stopSecond();
        }
      }));

    if (makeSibling !== undefined) {
      it('watchRevocations, when implemented: removals through another instance are reported', () =>
        withStore(async (store, clock, sibling) => {
          if (store.watchRevocations === undefined) return;
          const other = await sibling();
          const seen: Revocation[] = [];
          const stop = store.watchRevocations((revocation) => seen.push(revocation));
          try {
            const id = Uint8Array.of(0xab, 0xcd);
            await other.set('ns', id, Uint8Array.of(1), nowOf(clock) + HOUR);
            await other.delete('ns', id);
            await until(
              () => seen.some((r) => covers(r, 'ns', id)),
              'a delete on another instance',
            );
            // Many removals at once: reported, possibly merged into a namespace or everything.
            const many = Array.from({ length: 200 }, (_, i) => Uint8Array.of(0x10, i));
            const from = seen.length;
            await Promise.all(many.map((each) => other.delete('bulk', each)));
            await until(
              () => many.every((each) => seen.slice(from).some((r) => covers(r, 'bulk', each))),
              '200 concurrent deletes on another instance',
            );
            if (other.clear !== undefined) {
              const at = seen.length;
              await other.clear('gone');
              await until(
                () => seen.slice(at).some((r) => coversNamespace(r, 'gone')),
                'clear(namespace) on another instance',
              );
            }
          } finally {
            stop();
          }
        }));
    }

    it('list, when implemented, yields live entries and honours every filter', () =>
      withStore(async (store, clock) => {
        if (store.list === undefined) return;
        const now = nowOf(clock);
        const early = now + HOUR;
        const late = now + 2 * HOUR;
        const entries: [string, Uint8Array, number, Uint8Array][] = [
          ['a', Uint8Array.of(1), early, Uint8Array.of(0x11)],
          ['a', Uint8Array.of(0xff, 0), late, Uint8Array.of(0x12, 0x12)],
          ['a/x', Uint8Array.of(1), late, Uint8Array.of(0x13)],
          ['b', Uint8Array.of(2), early, Uint8Array.of(0x14)],
        ];
        for (const [ns, id, exp, value] of entries) await store.set(ns, id, value, exp);
        // An entry that expires before the listing: never listed.
        const shortLived = injected ? now + 10 : now + 300;
        await store.set('a', Uint8Array.of(3), Uint8Array.of(0x15), shortLived);
        if (injected) clock.advance(10);
        else await sleep(shortLived - Date.now() + 20);

        const key = (e: { namespace: string; id: Uint8Array }): string =>
          `${e.namespace}|${hex(e.id)}`;
        const keys = (list: StoredEntry[]): string[] => list.map(key).sort();
        const all = await collect(store.list());
        assert.deepEqual(
          keys(all),
          entries.map(([namespace, id]) => key({ namespace, id })).sort(),
        );
        for (const entry of all) {
          const source = entries.find(([ns, id]) => key({ namespace: ns, id }) === key(entry))!;
          assert.equal(entry.expiresAtMs, source[2], `expiresAtMs of ${key(entry)}`);
          assert.equal(entry.size, source[3].byteLength, `size of ${key(entry)}`);
          assert.equal(entry.value, undefined, 'no values unless asked');
        }
        assert.deepEqual(keys(await collect(store.list({ namespace: 'a' }))), ['a|01', 'a|ff00']);
        assert.deepEqual(keys(await collect(store.list({ namespacePrefix: 'a' }))), [
          'a/x|01',
          'a|01',
          'a|ff00',
        ]);
        assert.deepEqual(keys(await collect(store.list({ namespacePrefix: 'a/' }))), ['a/x|01']);
        assert.deepEqual(keys(await collect(store.list({ expiresBeforeMs: early + 1 }))), [
          'a|01',
          'b|02',
        ]);
        assert.equal((await collect(store.list({ limit: 2 }))).length, 2);
        assert.equal((await collect(store.list({ limit: 0 }))).length, 0);
        const withValues = await collect(store.list({ namespace: 'a/x', withValues: true }));
        assert.equal(withValues.length, 1);
        assertBytes(withValues[0]!.value, Uint8Array.of(0x13), 'withValues');
      }));

    it('clear, when implemented, deletes every entry or one namespace’s', () =>
      withStore(async (store, clock) => {
        if (store.clear === undefined) return;
        const exp = nowOf(clock) + HOUR;
        for (const ns of ['a', 'a', 'b', 'c']) {
          await store.set(ns, randomBytes(8), Uint8Array.of(1), exp);
        }
        assert.equal(await store.clear('a'), 2);
        assert.equal(await store.clear('a'), 0);
        assert.equal(await store.clear(), 2);
        assert.equal(await store.clear(), 0);
        assert.equal(await store.set('b', Uint8Array.of(1), Uint8Array.of(1), exp), true);
        assertBytes(await store.get('b', Uint8Array.of(1)), Uint8Array.of(1), 'usable after clear');
      }));

    it('stats, when implemented, counts entries and value bytes', () =>
      withStore(async (store, clock) => {
        if (store.stats === undefined) return;
        assert.deepEqual(await store.stats(), { entries: 0, bytes: 0 }, 'a new store is empty');
        const exp = nowOf(clock) + HOUR;
        await store.set('a', Uint8Array.of(1), new Uint8Array(10), exp);
        await store.set('b', Uint8Array.of(1), new Uint8Array(32), exp);
        await store.set('b', Uint8Array.of(1), new Uint8Array(20), exp); // overwrite
        assert.deepEqual(await store.stats(), { entries: 2, bytes: 30 });
        await store.take('a', Uint8Array.of(1));
        assert.deepEqual(await store.stats(), { entries: 1, bytes: 20 });
      }));

    it('after close every operation fails with code ERR_STORE_CLOSED', async () => {
      const clock = new ManualClock();
      const store = await makeStore({ clock: clock.now });
      const id = Uint8Array.of(1);
      await store.close();
      const operations: [string, () => unknown][] = [
        ['set', () => store.set('ns', id, Uint8Array.of(1), nowOf(clock) + HOUR)],
        ['get', () => store.get('ns', id)],
        ['take', () => store.take('ns', id)],
        ['delete', () => store.delete('ns', id)],
      ];
      for (const [name, operation] of operations) {
        let failure: unknown;
        try {
          // Thrown at the call (in-process stores) or a rejection (network stores): both count.
          await operation();
        } catch (error) {
          failure = error;
        }
        assert.ok(failure !== undefined, `${name} after close succeeded`);
        assert.ok(
          failure instanceof SessionCacheError,
          `${name} after close: not a SessionCacheError (${String(failure)})`,
        );
        assert.equal(failure.code, 'ERR_STORE_CLOSED', `${name} after close`);
      }
    });

    it('close releases everything (timers, sockets, files) and is idempotent', async () => {
      const before = checkResources ? snapshotResources() : undefined;
      const tracker = checkResources ? trackAsyncResources() : undefined;
      try {
        const clock = new ManualClock();
        const store = await makeStore({ clock: clock.now });
        // A watcher left registered: close() must release what watching holds (a poll timer,
        // a subscriber connection).
        store.watchRevocations?.(() => undefined);
        const id = Uint8Array.of(1);
        await store.set('ns', id, Uint8Array.of(1), nowOf(clock) + HOUR);
        await store.get('ns', id);
        await store.take('ns', id);
        if (store.list !== undefined) await collect(store.list());
        if (store.stats !== undefined) await store.stats();
        await store.close();
        await store.close();
        if (before === undefined || tracker === undefined) return;
        // Handles are released asynchronously (a socket closes, destroy hooks run later): poll.
        let leaks: string[] = [];
        for (let waited = 0; waited <= 3000; waited += 50) {
          leaks = [...tracker.alive(), ...newResources(before, snapshotResources())];
          if (leaks.length === 0) break;
          // The wait's own timer is not the store's.
          await tracker.untracked(() => sleep(50));
        }
        assert.deepEqual(leaks, [], 'left open after close()');
      } finally {
        tracker?.disable();
      }
    });
  });
}

// --- resource tracking for the close test ------------------------------------------------------

/** Handle types a store could leave behind. Promises and one-shot requests are not handles. */
const HANDLE_TYPES = new Set([
  'Timeout',
  'Immediate',
  'TCPWRAP',
  'TLSWRAP',
  'PIPEWRAP',
  'UDPWRAP',
  'FSEVENTWRAP',
  'STATWATCHER',
  'PROCESSWRAP',
  'SIGNALWRAP',
  'GETADDRINFOREQWRAP',
  'TCPCONNECTWRAP',
  'WORKER',
  'MESSAGEPORT',
]);

/** Every handle of a tracked type made while enabled and not yet destroyed. */
function trackAsyncResources(): {
  alive(): string[];
  untracked<T>(start: () => T): T;
  disable(): void;
} {
  const live = new Map<number, string>();
  let ignoring = false;
  const hook = createHook({
    init(asyncId, type) {
      if (!ignoring && HANDLE_TYPES.has(type)) live.set(asyncId, type);
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  }).enable();
  return {
    alive: () => [...live.values()].map((type) => `async resource ${type}`),
    // Handles are created synchronously by the call that starts them (setTimeout, connect).
    untracked: (start) => {
      ignoring = true;
      try {
        return start();
      } finally {
        ignoring = false;
      }
    },
    disable: () => {
      hook.disable();
    },
  };
}

interface ResourceSnapshot {
  /** `process.getActiveResourcesInfo()` counts by type (ref'd handles and requests). */
  active: Map<string, number>;
  /** Open file descriptors and what they point to (Linux only; empty elsewhere). */
  fds: Map<string, string>;
}

function snapshotResources(): ResourceSnapshot {
  const active = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) {
    active.set(type, (active.get(type) ?? 0) + 1);
  }
  const fds = new Map<string, string>();
  if (process.platform === 'linux') {
    try {
      for (const fd of readdirSync('/proc/self/fd')) {
        try {
          fds.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
        } catch {
          // Closed between readdir and readlink (the directory's own fd, for one).
        }
      }
    } catch {
      // No /proc: the active-resource counts still apply.
    }
  }
  return { active, fds };
}

function newResources(before: ResourceSnapshot, after: ResourceSnapshot): string[] {
  const found: string[] = [];
  for (const [type, count] of after.active) {
    const extra = count - (before.active.get(type) ?? 0);
    if (extra > 0) found.push(`${extra} more active ${type}`);
  }
  for (const [fd, target] of after.fds) {
    // Anonymous inodes and pipes come and go with the runner's own I/O; files and sockets are what
    // a store opens.
    if (before.fds.get(fd) === target || !/^(\/|socket:)/.test(target)) continue;
    if (target.startsWith('/dev/') || target.startsWith('/proc/')) continue;
    found.push(`file descriptor ${fd} → ${target}`);
  }
  return found;
}
