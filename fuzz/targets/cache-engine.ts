/**
 * Targets for the engine: random operation sequences on a `SessionCache` with callbacks that keep,
 * drop, throw and re-enter the cache, and a get callback that answers right, wrong, expired,
 * garbage, late or not at all. Nothing may throw except the documented option errors (`TypeError`
 * / `RangeError` for invalid options or sessions), and the cache never holds more than `cacheSize`.
 *
 * @module
 */
import fc from 'fast-check';
import { SessionCache } from '../../src/cache/session-cache.js';
import type {
  CachedSession,
  GetSessionCallback,
  LookupResult,
  SessionCacheMode,
} from '../../src/cache/types.js';
import {
  asyncProperty,
  expectThat,
  property,
  PropertyViolation,
  type AnyTarget,
} from '../target.js';

const NAMESPACES = ['', 'tenant-a/ctx', 'b'];
const IDS: Buffer[] = [
  Buffer.from([1]),
  Buffer.alloc(32, 0xa1),
  Buffer.alloc(32, 0xb2),
  Buffer.alloc(16, 0xc3),
  Buffer.alloc(33, 0xd4),
  Buffer.alloc(64, 0xe5),
  Buffer.alloc(0),
  Buffer.from('00ff00ff', 'hex'),
];
const START_MS = 1_700_000_000_000;

interface SessionSpec {
  id: number;
  ns: number;
  time: 'now' | 'past' | 'future' | 'none' | 'ancient';
  timeout: number | undefined;
  data: number;
}

type Op =
  | { k: 'add' | 'negotiated'; s: SessionSpec }
  | { k: 'lookup'; id: number; ns: number; singleUse: boolean; accept: 'none' | 'yes' | 'no' }
  | { k: 'remove' | 'removeBad'; id: number; ns: number }
  | { k: 'flush'; offset: number }
  | { k: 'clear' | 'close' | 'read' }
  | { k: 'completed'; n: number }
  | { k: 'advance'; seconds: number }
  | { k: 'cacheSize' | 'timeout'; value: number | string }
  | { k: 'mode'; value: string }
  | {
      k: 'flag';
      flag: 'noInternalLookup' | 'noInternalStore' | 'noAutoClear' | 'updateTime';
      value: unknown;
    };

interface Config {
  cacheSize: number;
  timeout: number;
  mode: SessionCacheMode;
  noInternalLookup: boolean;
  noInternalStore: boolean;
  noAutoClear: boolean;
  updateTime: boolean;
  onNew: 'none' | 'keep' | 'drop' | 'throw' | 'mixed';
  onRemove: 'none' | 'ok' | 'throw' | 'reenter';
  onGet: 'none' | 'miss' | 'hit' | 'wrong-id' | 'expired' | 'throw' | 'garbage' | 'reenter';
  onCallbackError: 'quiet' | 'throw';
}

interface EngineCase {
  config: Config;
  ops: Op[];
}

const sessionArb: fc.Arbitrary<SessionSpec> = fc.record({
  id: fc.nat(IDS.length - 1),
  ns: fc.nat(NAMESPACES.length - 1),
  time: fc.constantFrom(
    'now' as const,
    'now' as const,
    'past' as const,
    'future' as const,
    'none' as const,
    'ancient' as const,
  ),
  timeout: fc.oneof(fc.constant(undefined), fc.constantFrom(0, 1, 2, 300, 7200, 1e9)),
  data: fc.nat(3),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 60,
    arbitrary: fc.record({
      k: fc.constantFrom('add' as const, 'negotiated' as const),
      s: sessionArb,
    }),
  },
  {
    weight: 60,
    arbitrary: fc.record({
      k: fc.constant('lookup' as const),
      id: fc.nat(IDS.length - 1),
      ns: fc.nat(NAMESPACES.length - 1),
      singleUse: fc.boolean(),
      accept: fc.constantFrom('none' as const, 'yes' as const, 'no' as const),
    }),
  },
  {
    weight: 20,
    arbitrary: fc.record({
      k: fc.constantFrom('remove' as const, 'removeBad' as const),
      id: fc.nat(IDS.length - 1),
      ns: fc.nat(NAMESPACES.length - 1),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant('flush' as const),
      offset: fc.integer({ min: -10_000, max: 10_000_000 }),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constantFrom('clear' as const, 'read' as const, 'read' as const),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant('completed' as const),
      n: fc.integer({ min: 1, max: 300 }),
    }),
  },
  {
    weight: 20,
    arbitrary: fc.record({
      k: fc.constant('advance' as const),
      seconds: fc.constantFrom(0, 1, 2, 299, 300, 301, 7200, 1e6),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constantFrom('cacheSize' as const, 'timeout' as const),
      value: fc.oneof(
        fc.nat(8),
        fc.constantFrom(-1, 1.5, Number.NaN, Infinity, '3' as number | string),
      ),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant('mode' as const),
      value: fc.constantFrom('off', 'server', 'client', 'both', 'bogus'),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant('flag' as const),
      flag: fc.constantFrom(
        'noInternalLookup' as const,
        'noInternalStore' as const,
        'noAutoClear' as const,
        'updateTime' as const,
      ),
      value: fc.constantFrom<unknown>(true, false, undefined, 'yes', 1),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('close' as const) }) },
);

const configArb: fc.Arbitrary<Config> = fc.record({
  cacheSize: fc.oneof(fc.constantFrom(0, 1, 2, 3), fc.nat(8)),
  timeout: fc.constantFrom(0, 1, 300, 7200),
  mode: fc.constantFrom(
    'server' as const,
    'server' as const,
    'both' as const,
    'client' as const,
    'off' as const,
  ),
  noInternalLookup: fc.boolean(),
  noInternalStore: fc.boolean(),
  noAutoClear: fc.boolean(),
  updateTime: fc.boolean(),
  onNew: fc.constantFrom(
    'none' as const,
    'keep' as const,
    'drop' as const,
    'throw' as const,
    'mixed' as const,
  ),
  onRemove: fc.constantFrom('none' as const, 'ok' as const, 'throw' as const, 'reenter' as const),
  onGet: fc.constantFrom(
    'none' as const,
    'miss' as const,
    'hit' as const,
    'wrong-id' as const,
    'expired' as const,
    'throw' as const,
    'garbage' as const,
    'reenter' as const,
  ),
  onCallbackError: fc.constantFrom('quiet' as const, 'throw' as const),
});

/** Whether an op is meant to be refused with a documented option error. */
function isInvalid(op: Op): boolean {
  switch (op.k) {
    case 'add':
    case 'negotiated':
      return IDS[op.s.id]!.length === 0;
    case 'cacheSize':
    case 'timeout':
      return !(typeof op.value === 'number' && Number.isInteger(op.value) && op.value >= 0);
    case 'mode':
      return op.value === 'bogus';
    case 'flag':
      return op.value !== undefined && typeof op.value !== 'boolean';
    default:
      return false;
  }
}

class Engine {
  now = START_MS;
  readonly cache: SessionCache;
  /** Re-entrant calls made by callbacks during the current top-level op (bounded: a callback that
   * re-adds on every removal would otherwise ping-pong forever, in OpenSSL as here). */
  private reentries = 0;
  private calls = 0;
  /** Once `updateTime` was on, a session's own time no longer bounds its life in the cache. */
  private touched: boolean;
  private rejected = false;

  constructor(
    readonly config: Config,
    private readonly asyncGet: 'sync' | 'async',
  ) {
    const c = config;
    this.touched = c.updateTime;
    this.cache = new SessionCache({
      cacheSize: c.cacheSize,
      timeout: c.timeout,
      mode: c.mode,
      noInternalLookup: c.noInternalLookup,
      noInternalStore: c.noInternalStore,
      noAutoClear: c.noAutoClear,
      updateTime: c.updateTime,
      lookupDeadlineMs: 1,
      clock: () => this.now,
      onCallbackError: () => {
        if (c.onCallbackError === 'throw') throw new Error('onCallbackError fails too');
      },
      onNew: c.onNew === 'none' ? undefined : (s) => this.onNew(s),
      onRemove: c.onRemove === 'none' ? undefined : () => this.onRemove(),
      onGet: c.onGet === 'none' ? undefined : (id, info) => this.onGet(id, info.namespace),
    });
  }

  session(spec: SessionSpec): CachedSession {
    const nowS = Math.floor(this.now / 1000);
    const time =
      spec.time === 'now'
        ? nowS
        : spec.time === 'past'
          ? nowS - 100
          : spec.time === 'future'
            ? nowS + 100
            : spec.time === 'ancient'
              ? 1
              : undefined;
    const s: {
      id: Uint8Array;
      data: Uint8Array;
      time?: number;
      timeout?: number;
      namespace?: string;
    } = {
      id: IDS[spec.id]!,
      data: Buffer.from([spec.data, spec.id, spec.ns]),
    };
    if (time !== undefined) s.time = time;
    if (spec.timeout !== undefined) s.timeout = spec.timeout;
    if (spec.ns !== 0) s.namespace = NAMESPACES[spec.ns]!;
    return s;
  }

  private onNew(_s: CachedSession): boolean | void {
    this.calls++;
    switch (this.config.onNew) {
      case 'drop':
        return false;
      case 'throw':
        throw new Error('onNew fails');
      case 'mixed':
        if (this.calls % 3 === 0) throw new Error('onNew fails');
        return this.calls % 2 === 0;
      default:
        return true;
    }
  }

  private onRemove(): void {
    this.calls++;
    if (this.config.onRemove === 'throw') throw new Error('onRemove fails');
    if (this.config.onRemove === 'reenter' && this.reentries < 4) {
      this.reentries++;
      {
        const k = this.calls % 4;
        if (k === 0)
          this.cache.add(
            this.session({ id: this.calls % 4, ns: 0, time: 'now', timeout: 300, data: 9 }),
          );
        else if (k === 1) this.cache.remove(IDS[this.calls % 4]!);
        else if (k === 2) this.cache.flush();
        else {
          const r = this.cache.lookup(IDS[1]!);
          if (r instanceof Promise) r.catch(() => (this.rejected = true));
        }
      }
    }
  }

  private onGet(id: Uint8Array, namespace: string): ReturnType<GetSessionCallback> {
    this.calls++;
    const answer = ((): CachedSession | undefined => {
      const base = {
        id: Buffer.from(id),
        data: Buffer.from([7]),
        namespace,
        time: Math.floor(this.now / 1000),
        timeout: 300,
      };
      switch (this.config.onGet) {
        case 'hit':
          return base;
        case 'wrong-id':
          return { ...base, id: Buffer.concat([Buffer.from(id), Buffer.from([0])]) };
        case 'expired':
          return { ...base, time: 1 };
        case 'throw':
          throw new Error('onGet fails');
        case 'garbage':
          return [null, 42, {}, { id: 'x', data: 'y' }][this.calls % 4] as unknown as CachedSession;
        case 'reenter':
          if (this.reentries < 4) {
            this.reentries++;
            this.cache.add({ ...base, data: Buffer.from([8]) });
            this.cache.remove(id, namespace);
          }
          return base;
        default:
          return undefined;
      }
    })();
    if (this.asyncGet === 'sync') return answer;
    switch (this.calls % 4) {
      case 0:
        return Promise.resolve(answer);
      case 1:
        return Promise.reject(new Error('store down'));
      case 2:
        return new Promise<CachedSession | undefined>(() => {}); // never answers: the deadline
      default:
        return {
          then: (resolve: (v: CachedSession | undefined) => void) => resolve(answer),
        } as PromiseLike<CachedSession | undefined>;
    }
  }

  /** Runs one op; returns a promise for async lookups. */
  apply(op: Op): LookupResult | Promise<LookupResult> | undefined {
    const c = this.cache;
    this.reentries = 0;
    switch (op.k) {
      case 'add':
        c.add(this.session(op.s));
        return undefined;
      case 'negotiated':
        c.sessionNegotiated(this.session(op.s));
        return undefined;
      case 'lookup': {
        const id = IDS[op.id]!;
        const namespace = NAMESPACES[op.ns]!;
        const accepted: CachedSession[] = [];
        const options: Parameters<SessionCache['lookup']>[1] = {
          singleUse: op.singleUse,
          namespace,
        };
        if (op.accept !== 'none') {
          options.accept = (s) => {
            if (op.accept === 'yes') accepted.push(s);
            return op.accept === 'yes';
          };
        }
        const check = (r: LookupResult): LookupResult => {
          this.checkLookup(r, id, namespace, op, accepted);
          return r;
        };
        const result = c.lookup(id, options);
        return result instanceof Promise ? result.then(check) : check(result);
      }
      case 'remove':
        c.remove(IDS[op.id]!, NAMESPACES[op.ns]!);
        return undefined;
      case 'removeBad':
        c.removeBad(IDS[op.id]!, NAMESPACES[op.ns]!);
        return undefined;
      case 'flush':
        c.flush(this.now + op.offset);
        return undefined;
      case 'clear':
        c.clear();
        return undefined;
      case 'close':
        c.close();
        return undefined;
      case 'read':
        for (const id of IDS)
          for (const ns of NAMESPACES) {
            c.has(id, ns);
            c.peek(id, ns);
            c.expiresAt(id, ns);
          }
        return undefined;
      case 'completed':
        for (let i = 0; i < op.n; i++) c.handshakeCompleted();
        return undefined;
      case 'advance':
        this.now += op.seconds * 1000;
        return undefined;
      case 'cacheSize':
        c.cacheSize = op.value as number;
        return undefined;
      case 'timeout':
        c.timeout = op.value as number;
        return undefined;
      case 'mode':
        c.mode = op.value as SessionCacheMode;
        return undefined;
      case 'flag':
        (c as unknown as Record<string, unknown>)[op.flag] = op.value;
        if (op.flag === 'updateTime' && op.value === true) this.touched = true;
        return undefined;
    }
  }

  private checkLookup(
    r: LookupResult,
    id: Buffer,
    namespace: string,
    op: Op & { k: 'lookup' },
    accepted: CachedSession[],
  ) {
    expectThat(r !== null && typeof r === 'object', 'lookup answered a non-object');
    expectThat(
      ['internal', 'external', 'none'].includes(r.source),
      `lookup source ${String(r.source)}`,
    );
    const s = r.session;
    if (s === undefined) {
      expectThat(r.source === 'none', 'no session but a source');
      return;
    }
    expectThat(Buffer.from(s.id).equals(id), 'lookup returned a session with another id');
    expectThat((s.namespace ?? '') === namespace, 'lookup returned a session of another namespace');
    if (op.accept === 'no')
      throw new PropertyViolation('lookup returned a session that accept refused');
    if (op.accept === 'yes')
      expectThat(accepted.includes(s), 'lookup returned a session accept never saw');
    if (s.time !== undefined && s.timeout !== undefined && !this.touched) {
      expectThat(
        s.time * 1000 <= this.now && this.now < (s.time + s.timeout) * 1000,
        'lookup returned a session outside its lifetime',
      );
    }
    // (Asynchronous answers arrive after later ops, and re-entrant callbacks may add the id again.)
    const reentrant = this.config.onRemove === 'reenter' || this.config.onGet === 'reenter';
    // With noInternalLookup the memory copy is never consulted, so it may stay (and cannot resume).
    if (op.singleUse && this.asyncGet === 'sync' && !reentrant && !this.cache.noInternalLookup) {
      expectThat(
        !this.cache.has(id, namespace),
        'a single-use session stayed cached after it was used',
      );
    }
  }

  /** The invariants that hold after every op. */
  checkInvariants(): void {
    const c = this.cache;
    const st = c.stats();
    expectThat(!this.rejected, 'a lookup made inside a callback rejected');
    for (const [key, value] of Object.entries(st)) {
      expectThat(Number.isSafeInteger(value) && value >= 0, `stats.${key} = ${value}`);
    }
    expectThat(st.hits >= st.cbHits, 'cbHits > hits');
    if (c.cacheSize > 0)
      expectThat(
        st.number <= c.cacheSize,
        () => `${st.number} sessions in a cache of ${c.cacheSize}`,
      );
    if (c.closed) expectThat(st.number === 0, 'a closed cache holds sessions');
    let count = 0;
    let last = -Infinity;
    for (const s of c.sessions()) {
      count++;
      const ns = s.namespace ?? '';
      expectThat(c.has(s.id, ns) && c.peek(s.id, ns) === s, 'a listed session cannot be found');
      const at = c.expiresAt(s.id, ns)!;
      expectThat(at >= last, 'sessions() is not in expiry order');
      last = at;
    }
    expectThat(
      count === st.number,
      () => `sessions() lists ${count}, stats().number is ${st.number}`,
    );
  }
}

/** Runs one op, allowing only documented option errors for invalid ops. */
function guarded(engine: Engine, op: Op): LookupResult | Promise<LookupResult> | undefined {
  try {
    const r = engine.apply(op);
    expectThat(!isInvalid(op), () => `invalid op ${JSON.stringify(op)} accepted`);
    return r;
  } catch (error) {
    if (error instanceof PropertyViolation) throw error;
    if (isInvalid(op) && (error instanceof TypeError || error instanceof RangeError))
      return undefined;
    throw error;
  }
}

function runSync(c: EngineCase): void {
  const engine = new Engine(c.config, 'sync');
  for (const op of c.ops) {
    const r = guarded(engine, op);
    expectThat(!(r instanceof Promise), 'a synchronous get callback produced a promise');
    engine.checkInvariants();
  }
  engine.cache.close();
  engine.checkInvariants();
}

async function runAsync(c: EngineCase): Promise<void> {
  const engine = new Engine(c.config, 'async');
  const pending: Promise<unknown>[] = [];
  for (const op of c.ops) {
    const r = guarded(engine, op);
    if (r instanceof Promise) {
      // A lookup promise must never reject, whatever the store does.
      pending.push(
        r.then(undefined, (error: unknown) => {
          throw error instanceof PropertyViolation
            ? error
            : new PropertyViolation(`lookup rejected: ${String(error)}`);
        }),
      );
    }
    engine.checkInvariants();
  }
  await Promise.all(pending);
  engine.checkInvariants();
  engine.cache.close();
  engine.checkInvariants();
}

/** The engine targets. */
export function cacheEngineTargets(): AnyTarget[] {
  const caseArb = (maxOps: number) =>
    fc.record({ config: configArb, ops: fc.array(opArb, { maxLength: maxOps }) });
  return [
    property<EngineCase>({
      name: 'cache/ops',
      weight: 7,
      arbitrary: () => caseArb(60),
      run: runSync,
      reproducer: (c) => JSON.stringify(c),
    }),
    asyncProperty<EngineCase>({
      name: 'cache/async-get',
      weight: 0.5,
      arbitrary: () => caseArb(20),
      run: runAsync,
      reproducer: (c) => JSON.stringify(c),
    }),
  ];
}
