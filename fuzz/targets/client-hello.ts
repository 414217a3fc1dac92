/**
 * Targets for `parseClientHello`: whatever the bytes, it returns a hello or throws
 * `ClientHelloParseError`, and it agrees with the independent oracle in `hello-oracle.ts`.
 *
 * @module
 */
import fc from 'fast-check';
import { SessionCache } from '../../src/cache/session-cache.js';
import {
  ClientHelloParseError,
  parseClientHello,
  type ClientHelloInfo,
  type ClientHelloParseErrorCode,
} from '../../src/wire/client-hello.js';
import { HelloFields, scanClientHello } from '../../src/wire/hello-fields.js';
import { fixHelloLengths, hexOf, u16, u24 } from '../bytes.js';
import type { Corpus } from '../corpus.js';
import { derive, pick, type DerivedHello } from '../derived.js';
import { firstDifference, normalize, oracleParse } from '../hello-oracle.js';
import { applyMutations, mutationsArb, type Mutation } from '../mutate.js';
import { knownIssueHit } from '../known.js';
import { enumeration, expectThat, property, type AnyTarget } from '../target.js';

const CODES = new Set<ClientHelloParseErrorCode>([
  'INVALID_INPUT',
  'NOT_CLIENT_HELLO',
  'TRUNCATED',
  'TRAILING_BYTES',
  'BAD_VERSION',
  'BAD_RANDOM',
  'BAD_SESSION_ID',
  'BAD_CIPHER_SUITES',
  'BAD_COMPRESSION_METHODS',
  'BAD_EXTENSIONS',
  'DUPLICATE_EXTENSION',
  'PSK_NOT_LAST',
  'BAD_SERVER_NAME',
  'BAD_ALPN',
  'BAD_SUPPORTED_VERSIONS',
  'BAD_PRE_SHARED_KEY',
  'BAD_PSK_KEY_EXCHANGE_MODES',
  'BAD_EARLY_DATA',
  'BAD_EXTENDED_MASTER_SECRET',
]);

/** Parses; returns the hello or the typed error's code. Anything else escapes (a crash). */
export function parseOrCode(bytes: Uint8Array): ClientHelloInfo | ClientHelloParseErrorCode {
  try {
    return parseClientHello(bytes);
  } catch (error) {
    if (!(error instanceof ClientHelloParseError)) throw error;
    expectThat(CODES.has(error.code), `unknown error code ${error.code}`);
    if (Number.isNaN(error.offset) && error.code === 'BAD_CIPHER_SUITES' && bytes.length === 38) {
      knownIssueHit('client-hello-no-session-id-byte', bytes);
      return error.code;
    }
    expectThat(
      Number.isInteger(error.offset) && error.offset >= 0 && error.offset <= bytes.length,
      `error offset ${error.offset} outside the ${bytes.length}-byte input`,
    );
    return error.code;
  }
}

/**
 * The core property of every hello target: typed outcome, agreement with the oracle, and no state
 * carried over into the next parse (the parser keeps a module-level duplicate-extension bitmap).
 */
export function checkHello(
  message: Buffer,
  corpus: Corpus,
): ClientHelloInfo | ClientHelloParseErrorCode {
  const result = parseOrCode(message);
  // The allocation-free reader attach() uses must never throw, and must agree where the parser
  // accepts (a throw escapes here as a crash).
  const fields = new HelloFields();
  const scanned = scanClientHello(message, 0, message.length, fields);
  if (typeof result !== 'string') checkScan(result, scanned, fields);
  const oracle = oracleParse(message);
  if (typeof result === 'string') {
    if (oracle !== undefined) {
      expectThat(
        result === 'BAD_SERVER_NAME',
        `parser refused (${result}) a hello the oracle accepts`,
      );
    }
    const reference = derive(corpus).reference;
    const again = parseOrCode(reference.message);
    expectThat(
      typeof again !== 'string',
      () => `after a ${result}, a real hello fails with ${String(again)}`,
    );
    return result;
  }
  expectThat(oracle !== undefined, 'parser accepted a hello the oracle rejects');
  const diff = firstDifference(normalize(result), oracle);
  expectThat(diff === undefined, () => `parser and oracle disagree on ${diff}`);
  expectThat(result.legacySessionId.length <= 32, 'legacy session id longer than 32 bytes');
  for (const psk of result.preSharedKey?.identities ?? []) {
    expectThat(psk.identity.length > 0, 'empty PSK identity accepted');
  }
  return result;
}

/** The scanner read the same resumption fields as the parser. */
function checkScan(parsed: ClientHelloInfo, scanned: boolean, f: HelloFields): void {
  expectThat(scanned, 'scanClientHello refused a hello parseClientHello accepts');
  const sni = parsed.serverName?.toLowerCase().replace(/\.$/, '');
  const psk = parsed.preSharedKey?.identities[0]?.identity;
  expectThat(
    f.length === parsed.length &&
      f.legacySessionId().equals(parsed.legacySessionId) &&
      f.serverName() === sni &&
      (psk === undefined ? f.pskIdentityLength === -1 : f.pskIdentity()?.equals(psk) === true) &&
      f.pskIdentities === (parsed.preSharedKey?.identities.length ?? 0) &&
      f.offersTls13 === (parsed.supportedVersions?.includes(0x0304) === true) &&
      f.extendedMasterSecret === parsed.extendedMasterSecret &&
      f.sessionTicketLength === (parsed.sessionTicket?.length ?? -1) &&
      f.earlyData === parsed.earlyData,
    'scanClientHello and parseClientHello disagree',
  );
}

export interface MutateCase {
  hello: number;
  ops: Mutation[];
  fix: 'none' | 'handshake' | 'both';
}

/** Mutated real hellos (shared with the assembler target). */
export function mutatedHelloArb(): fc.Arbitrary<MutateCase> {
  return fc.record({
    hello: fc.nat(),
    ops: mutationsArb(6),
    fix: fc.constantFrom('none' as const, 'handshake' as const, 'both' as const),
  });
}

/** Applies a {@link MutateCase}. */
export function mutatedHello(c: MutateCase, corpus: Corpus): Buffer {
  const h = pick(derive(corpus).hellos, c.hello);
  const m = applyMutations(h.message, h.layout.lengthFields, c.ops);
  if (c.fix !== 'none') fixHelloLengths(m, c.fix === 'both');
  return m;
}

interface RandomCase {
  shape: 'raw' | 'header' | 'hello-prefix';
  bytes: Uint8Array;
}

function randomHello(c: RandomCase): Buffer {
  const body = Buffer.from(c.bytes);
  if (c.shape === 'raw') return body;
  if (c.shape === 'header') return Buffer.concat([Buffer.from([1]), u24(body.length), body]);
  const fixed = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 0x5a), body]);
  return Buffer.concat([Buffer.from([1]), u24(fixed.length), fixed]);
}

/** Rebuilds `h` with a legacy session id of declared length `declared` holding `bytes`. */
function withSessionId(h: DerivedHello, declared: number, bytes: Buffer): Buffer {
  const at = h.layout.sessionIdAt;
  const m = Buffer.concat([
    h.message.subarray(0, at),
    Buffer.from([declared]),
    bytes,
    h.message.subarray(at + 1 + h.layout.sessionIdLength),
  ]);
  fixHelloLengths(m, false);
  return m;
}

interface SessionIdCase {
  hello: number;
  declared: number;
  /** Bytes actually present minus the declared length (0 = consistent). */
  skew: number;
  fill: number;
}

// One shared cache: the legacy id is what the wiring looks up for TLS 1.2.
const lookupCache = new SessionCache({ onGet: () => undefined });

interface PskSpec {
  hello: number;
  ids: { length: number; fill: number; age: number }[];
  many: number;
  manyLength: number;
  binders: 'match' | 'fewer' | 'more';
  binderLength: number;
  idsSkew: number;
  bindersSkew: number;
  notLast: boolean;
}

interface BuiltPsk {
  message: Buffer;
  identities: Buffer[];
  binderLengths: number[];
  expectOk: boolean;
  expectCode: ClientHelloParseErrorCode | undefined;
}

/** Builds a TLS 1.3 hello whose pre_shared_key extension is `spec`'s garbage. */
function buildPsk(spec: PskSpec, corpus: Corpus): BuiltPsk {
  const h = pick(derive(corpus).tls13, spec.hello);
  const m = h.message;
  const start = h.layout.extensionsAt + 2;
  const others: Buffer[] = [];
  for (const e of h.layout.extensions) {
    if (e.type !== 41) others.push(m.subarray(e.at, e.at + 4 + e.length));
  }
  const otherBytes = others.reduce((n, b) => n + b.length, 0);
  const available = 0xffff - otherBytes - 4;
  const ids = spec.ids.map((i) => ({ ...i }));
  let many = spec.many;
  const size = (): number => {
    const count = ids.length + many;
    const binderCount =
      spec.binders === 'match'
        ? count
        : spec.binders === 'fewer'
          ? Math.max(0, count - 1)
          : count + 1;
    return (
      2 +
      ids.reduce((n, i) => n + 6 + i.length, 0) +
      many * (6 + spec.manyLength) +
      2 +
      binderCount * (1 + spec.binderLength)
    );
  };
  while (size() > available && many > 0)
    many = Math.max(0, many - Math.ceil((size() - available) / 40) - 1);
  while (size() > available) {
    const biggest = ids.reduce((a, b) => (b.length > a.length ? b : a));
    biggest.length = Math.max(0, biggest.length - (size() - available));
  }
  const identities: Buffer[] = [];
  const idParts: Buffer[] = [];
  const addIdentity = (length: number, fill: number, age: number): void => {
    const identity = Buffer.alloc(length, fill);
    if (length > 1) identity[length >> 1] = (fill + 1) & 0xff;
    identities.push(identity);
    const ageBytes = Buffer.alloc(4);
    ageBytes.writeUInt32BE(age >>> 0);
    idParts.push(u16(length), identity, ageBytes);
  };
  for (const i of ids) addIdentity(i.length, i.fill, i.age);
  for (let k = 0; k < many; k++) addIdentity(spec.manyLength, k & 0xff, k);
  const count = identities.length;
  const binderCount =
    spec.binders === 'match'
      ? count
      : spec.binders === 'fewer'
        ? Math.max(0, count - 1)
        : count + 1;
  const binderLengths = Array.from({ length: binderCount }, () => spec.binderLength);
  const idsBody = Buffer.concat(idParts);
  const bindersBody = Buffer.concat(
    binderLengths.map((n) => Buffer.concat([Buffer.from([n]), Buffer.alloc(n, 0xbb)])),
  );
  const data = Buffer.concat([
    u16(idsBody.length + spec.idsSkew),
    idsBody,
    u16(bindersBody.length + spec.bindersSkew),
    bindersBody,
  ]);
  const psk = Buffer.concat([u16(41), u16(data.length), data]);
  const exts = spec.notLast && others.length > 0 ? [psk, ...others] : [...others, psk];
  const block = Buffer.concat(exts);
  const message = Buffer.concat([m.subarray(0, start - 2), u16(block.length), block]);
  fixHelloLengths(message, false);
  const valid =
    count >= 1 &&
    identities.every((i) => i.length >= 1) &&
    binderCount === count &&
    spec.binderLength >= 32 &&
    spec.idsSkew === 0 &&
    spec.bindersSkew === 0;
  const notLast = spec.notLast && others.length > 0;
  return {
    message,
    identities,
    binderLengths,
    expectOk: valid && !notLast,
    expectCode: notLast ? 'PSK_NOT_LAST' : valid ? undefined : 'BAD_PRE_SHARED_KEY',
  };
}

const pskSpecArb: fc.Arbitrary<PskSpec> = fc.record({
  hello: fc.nat(),
  ids: fc.array(
    fc.record({
      length: fc.oneof(
        { weight: 2, arbitrary: fc.constant(0) },
        { weight: 6, arbitrary: fc.integer({ min: 1, max: 64 }) },
        { weight: 2, arbitrary: fc.integer({ min: 65, max: 4000 }) },
        { weight: 1, arbitrary: fc.integer({ min: 30_000, max: 65_535 }) },
      ),
      fill: fc.nat(255),
      age: fc.nat(),
    }),
    { maxLength: 6 },
  ),
  many: fc.oneof(
    { weight: 4, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2000 }) },
  ),
  manyLength: fc.integer({ min: 0, max: 12 }),
  binders: fc.constantFrom(
    'match' as const,
    'match' as const,
    'match' as const,
    'fewer' as const,
    'more' as const,
  ),
  binderLength: fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 32, max: 255 }) },
    { weight: 1, arbitrary: fc.nat(31) },
  ),
  idsSkew: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constantFrom(-3, -2, -1, 1, 2, 3) },
  ),
  bindersSkew: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constantFrom(-3, -1, 1, 3) },
  ),
  notLast: fc.boolean(),
});

interface CutCase {
  hello: number;
  at: number;
  variant: 'plain' | 'handshake' | 'both';
}

/** The parseClientHello targets. */
export function clientHelloTargets(): AnyTarget[] {
  return [
    property<RandomCase>({
      name: 'client-hello/random',
      weight: 8,
      arbitrary: () =>
        fc.record({
          shape: fc.constantFrom('raw' as const, 'header' as const, 'hello-prefix' as const),
          bytes: fc.uint8Array({ maxLength: 600 }),
        }),
      run: (c, corpus) => void checkHello(randomHello(c), corpus),
      reproducer: (c) => hexOf(randomHello(c)),
    }),
    property<MutateCase>({
      name: 'client-hello/mutate',
      weight: 20,
      arbitrary: () => mutatedHelloArb(),
      run: (c, corpus) => void checkHello(mutatedHello(c, corpus), corpus),
      reproducer: (c, corpus) => hexOf(mutatedHello(c, corpus)),
    }),
    enumeration<CutCase>({
      name: 'client-hello/cut',
      weight: 10,
      cases: (corpus) => {
        const out: CutCase[] = [];
        derive(corpus).hellos.forEach((h, hello) => {
          for (let at = 0; at < h.message.length; at++) {
            out.push({ hello, at, variant: 'plain' });
            if (at >= 4)
              out.push({ hello, at, variant: 'handshake' }, { hello, at, variant: 'both' });
          }
        });
        return out;
      },
      run: (c, corpus) => {
        const m = cutHello(c, corpus);
        const result = checkHello(m, corpus);
        if (c.variant === 'plain') {
          expectThat(
            result === 'TRUNCATED',
            () => `a hello cut at ${c.at} gives ${String(result)}, not TRUNCATED`,
          );
        }
      },
      reproducer: (c, corpus) => hexOf(cutHello(c, corpus)),
    }),
    property<SessionIdCase>({
      name: 'client-hello/session-id',
      weight: 4,
      arbitrary: () =>
        fc.record({
          hello: fc.nat(),
          declared: fc.oneof(
            fc.constantFrom(0, 32, 33, 34, 64, 128, 255),
            fc.integer({ min: 0, max: 32 }),
            fc.integer({ min: 33, max: 255 }),
          ),
          skew: fc.oneof(
            { weight: 4, arbitrary: fc.constant(0) },
            { weight: 1, arbitrary: fc.integer({ min: -8, max: 8 }) },
          ),
          fill: fc.nat(255),
        }),
      run: (c, corpus) => {
        const h = pick(derive(corpus).hellos, c.hello);
        const actual = Math.max(0, c.declared + c.skew);
        const id = Buffer.alloc(actual, c.fill);
        const m = withSessionId(h, c.declared, id);
        const result = checkHello(m, corpus);
        if (c.declared > 32) {
          expectThat(
            result === 'BAD_SESSION_ID',
            () => `session id of ${c.declared} bytes gives ${String(result)}`,
          );
          return;
        }
        if (c.skew !== 0) return;
        expectThat(
          typeof result !== 'string',
          () => `a ${c.declared}-byte session id gives ${String(result)}`,
        );
        expectThat(
          result.legacySessionId.equals(id),
          'legacy session id differs from the one written',
        );
        const got = normalize(result);
        const diff = firstDifference(
          { ...got, length: 0, legacySessionId: '' },
          { ...h.baseline, length: 0, legacySessionId: '' },
        );
        expectThat(diff === undefined, () => `rewriting the session id changed ${diff}`);
        // What the wiring does with a TLS 1.2 legacy id: look it up. An empty id is a miss.
        const before = lookupCache.stats().lookups;
        const answer = lookupCache.lookup(result.legacySessionId);
        expectThat(
          !(answer instanceof Promise) && answer.session === undefined,
          'lookup of a fuzzed id hit',
        );
        if (c.declared === 0)
          expectThat(lookupCache.stats().lookups === before, 'empty id was looked up');
      },
      reproducer: (c, corpus) => {
        const h = pick(derive(corpus).hellos, c.hello);
        return hexOf(
          withSessionId(h, c.declared, Buffer.alloc(Math.max(0, c.declared + c.skew), c.fill)),
        );
      },
    }),
    property<PskSpec>({
      name: 'client-hello/psk-identities',
      weight: 6,
      arbitrary: () => pskSpecArb,
      run: (spec, corpus) => {
        const built = buildPsk(spec, corpus);
        const result = checkHello(built.message, corpus);
        if (!built.expectOk) {
          expectThat(
            result === built.expectCode,
            () =>
              `expected ${built.expectCode}, got ${typeof result === 'string' ? result : 'a hello'}`,
          );
          return;
        }
        expectThat(
          typeof result !== 'string',
          () => `valid PSK identities refused: ${String(result)}`,
        );
        const got = result.preSharedKey;
        expectThat(got !== undefined, 'pre_shared_key missing');
        expectThat(got.identities.length === built.identities.length, 'identity count differs');
        got.identities.forEach((id, i) => {
          expectThat(id.identity.equals(built.identities[i]!), `identity ${i} differs`);
        });
        expectThat(
          JSON.stringify(got.binderLengths) === JSON.stringify(built.binderLengths),
          'binder lengths differ',
        );
        // What the wiring does with the first identity: a single-use lookup. Never throws, misses.
        const first = got.identities[0]!.identity;
        const answer = lookupCache.lookup(first, { singleUse: true, namespace: 'fuzz' });
        expectThat(
          !(answer instanceof Promise) && answer.session === undefined,
          'lookup of a fuzzed identity hit',
        );
      },
      reproducer: (spec, corpus) => hexOf(buildPsk(spec, corpus).message),
    }),
  ];
}

function cutHello(c: CutCase, corpus: Corpus): Buffer {
  const h = pick(derive(corpus).hellos, c.hello);
  const m = Buffer.from(h.message.subarray(0, c.at));
  if (c.variant !== 'plain') fixHelloLengths(m, c.variant === 'both');
  return m;
}
