/**
 * Targets for the record layer in front of the parser: `ClientHelloAssembler` fed random record
 * framings and TCP chunkings of real and mutated hellos, and `readClientHello` on a stream that
 * stands in for a socket. Only typed outcomes; a merged hello re-parses to the same hello; the
 * bytes handed back are exactly the bytes read (or their merged form).
 *
 * @module
 */
import { PassThrough } from 'node:stream';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import {
  ClientHelloAssembler,
  TLS_MAX_FRAGMENT_LENGTH,
  type AssemblerStatus,
} from '../../src/wire/tls-record.js';
import { readClientHello, type ReadClientHelloResult } from '../../src/wire/hello-reader.js';
import { chunk, frame, hexOf, u16 } from '../bytes.js';
import type { Corpus } from '../corpus.js';
import { derive, pick } from '../derived.js';
import { normalize } from '../hello-oracle.js';
import { asyncProperty, enumeration, expectThat, property, type AnyTarget } from '../target.js';
import { mutatedHello, mutatedHelloArb, parseOrCode, type MutateCase } from './client-hello.js';

const STATUSES = new Set<AssemblerStatus>(['need-more', 'complete', 'reject']);
const REASONS = new Set([
  'sslv2',
  'not-handshake',
  'bad-record-version',
  'bad-record-length',
  'not-client-hello',
  'interleaved-record',
  'too-large',
]);
const DEFAULT_MAX = 64 * 1024;

type Source = { kind: 'real'; hello: number } | { kind: 'mutated'; m: MutateCase };

interface FramingCase {
  source: Source;
  fragSizes: number[];
  versions: number[];
  /** Handshake bytes framed after the hello (a second message, or garbage). */
  extra: Uint8Array;
  /** Raw bytes after the records (a ChangeCipherSpec, early data, garbage). */
  trailing: Uint8Array;
  chunkSizes: number[];
  maxBytes: number;
}

const sizeArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 8 }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 700 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: TLS_MAX_FRAGMENT_LENGTH }) },
  { weight: 1, arbitrary: fc.constant(TLS_MAX_FRAGMENT_LENGTH) },
);

const framingArb: fc.Arbitrary<FramingCase> = fc.record({
  source: fc.oneof(
    fc.record({ kind: fc.constant('real' as const), hello: fc.nat() }),
    fc.record({ kind: fc.constant('mutated' as const), m: mutatedHelloArb() }),
  ),
  fragSizes: fc.array(sizeArb, { minLength: 1, maxLength: 6 }),
  versions: fc.array(
    fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom(0x0301, 0x0303, 0x0300, 0x0302, 0x0304) },
      { weight: 1, arbitrary: fc.constantFrom(0x0305, 0x0203, 0x0001, 0xfeff) },
    ),
    { minLength: 1, maxLength: 3 },
  ),
  extra: fc.oneof(
    { weight: 3, arbitrary: fc.constant(new Uint8Array(0)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  ),
  trailing: fc.oneof(
    { weight: 2, arbitrary: fc.constant(new Uint8Array(0)) },
    { weight: 1, arbitrary: fc.constant(new Uint8Array([20, 3, 3, 0, 1, 1])) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  ),
  chunkSizes: fc.array(sizeArb, { minLength: 1, maxLength: 6 }),
  maxBytes: fc.oneof(
    { weight: 4, arbitrary: fc.constant(DEFAULT_MAX) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2048 }) },
    { weight: 1, arbitrary: fc.integer({ min: 512, max: 70_000 }) },
  ),
});

interface Framed {
  message: Buffer;
  real: boolean;
  payload: Buffer;
  wire: Buffer;
  /** Wire bytes of the records, without the trailing bytes. */
  recordBytes: number;
  versionsOk: boolean;
}

function framed(c: FramingCase, corpus: Corpus): Framed {
  const message =
    c.source.kind === 'real'
      ? pick(derive(corpus).hellos, c.source.hello).message
      : mutatedHello(c.source.m, corpus);
  const payload = Buffer.concat([message, c.extra]);
  const { wire } = frame(payload, c.fragSizes, c.versions);
  return {
    message,
    real: c.source.kind === 'real',
    payload,
    wire: Buffer.concat([wire, c.trailing]),
    recordBytes: wire.length,
    versionsOk: c.versions.every((v) => v >> 8 === 3 && (v & 0xff) <= 4),
  };
}

/** Where the records that carry the first `helloLength` payload bytes end, and their payload. */
function helloRecords(wire: Buffer, helloLength: number) {
  let p = 0;
  let payload = 0;
  let records = 0;
  const parts: Buffer[] = [];
  while (payload < helloLength && p + 5 <= wire.length) {
    const len = wire.readUInt16BE(p + 3);
    parts.push(wire.subarray(p + 5, p + 5 + len));
    payload += len;
    p += 5 + len;
    records++;
  }
  return { end: p, records, payload: Buffer.concat(parts) };
}

function sameOutcome(a: Buffer, b: Buffer): boolean {
  const x = parseOrCode(a);
  const y = parseOrCode(b);
  if (typeof x === 'string' || typeof y === 'string') return x === y;
  return JSON.stringify(normalize(x)) === JSON.stringify(normalize(y));
}

/** Pushes the chunks and checks everything the assembler promises. */
function runFraming(c: FramingCase, corpus: Corpus): void {
  const f = framed(c, corpus);
  const assembler = new ClientHelloAssembler(c.maxBytes);
  const chunks = chunk(f.wire, c.chunkSizes);
  let final: AssemblerStatus = 'need-more';
  let pushed = 0;
  for (const part of chunks) {
    const status = assembler.push(part);
    pushed += part.length;
    expectThat(STATUSES.has(status), `push returned ${String(status)}`);
    if (final !== 'need-more')
      expectThat(status === final, `status changed from ${final} to ${status}`);
    final = status;
    expectThat(assembler.bytesRead === pushed, 'bytesRead differs from the bytes pushed');
  }
  expectThat(assembler.original().equals(f.wire), 'original() differs from the bytes pushed');
  if (final === 'reject') {
    expectThat(
      REASONS.has(String(assembler.rejectReason)),
      `reject reason ${String(assembler.rejectReason)}`,
    );
    expectThat(
      !(f.real && f.versionsOk && f.recordBytes <= c.maxBytes),
      'a real hello in valid records was rejected',
    );
    return;
  }
  expectThat(assembler.rejectReason === undefined, 'reject reason set without a reject');
  if (final === 'need-more') {
    expectThat(
      !(f.real && f.versionsOk && f.recordBytes <= c.maxBytes),
      'a real hello in valid records never completed',
    );
    return;
  }
  // Complete: the message is the first helloLength bytes of the payload stream.
  const helloLength = assembler.helloLength;
  expectThat(
    helloLength >= 4 && helloLength <= f.payload.length,
    `helloLength ${helloLength} out of range`,
  );
  const expected = f.payload.subarray(0, helloLength);
  expectThat(assembler.message().equals(expected), 'message() is not the reassembled payload');
  if (f.real) expectThat(assembler.message().equals(f.message), 'message() is not the real hello');
  const records = helloRecords(f.wire, helloLength);
  expectThat(
    assembler.records === records.records,
    `records ${assembler.records}, expected ${records.records}`,
  );
  const merged = assembler.merged();
  if (records.records < 2 || records.payload.length > TLS_MAX_FRAGMENT_LENGTH) {
    expectThat(merged === undefined, 'merged() for a hello that needs no (or cannot have) merging');
    return;
  }
  expectThat(merged !== undefined, 'no merged() for a multi-record hello that fits one record');
  const header = Buffer.from([22, f.wire[1]!, f.wire[2]!]);
  const want = Buffer.concat([
    header,
    u16(records.payload.length),
    records.payload,
    f.wire.subarray(records.end),
  ]);
  expectThat(
    merged.bytes.equals(want),
    'merged bytes are not one record followed by the rest, untouched',
  );
  expectThat(merged.message.equals(expected), 'merged message differs');
  expectThat(
    sameOutcome(merged.message, assembler.message()),
    'merged hello parses differently from message()',
  );
  if (f.real)
    expectThat(
      sameOutcome(merged.message, f.message),
      'merged hello parses differently from the real one',
    );
}

interface WireCutCase {
  hello: number;
  at: number;
  mode: 'prefix' | 'split';
}

interface RandomStreamCase {
  prefix: 'none' | 'record' | 'hello';
  chunks: Uint8Array[];
  maxBytes: number;
}

function randomStream(c: RandomStreamCase): Buffer[] {
  const first =
    c.prefix === 'none'
      ? Buffer.alloc(0)
      : c.prefix === 'record'
        ? Buffer.from([22, 3, 1])
        : Buffer.from([22, 3, 1, 0, 0x40, 1, 0, 0]);
  return [first, ...c.chunks.map((b) => Buffer.from(b))];
}

interface ReaderCase {
  framing: FramingCase;
  /** End the stream after this share of the bytes (1 = never end early). */
  cut: number;
  merge: boolean;
}

function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Feeds a stream to `readClientHello` and checks what it hands back. */
async function runReader(c: ReaderCase, corpus: Corpus): Promise<void> {
  const f = framed(c.framing, corpus);
  // At most 64 chunks: every one costs an event-loop turn.
  const minSize = Math.ceil(f.wire.length / 64);
  const chunks = chunk(
    f.wire,
    c.framing.chunkSizes.map((s) => Math.max(s, minSize)),
  );
  const stop = c.cut >= 1 ? chunks.length : Math.floor(chunks.length * c.cut);
  const stream = new PassThrough();
  const maxBytes = Math.max(1, c.framing.maxBytes);
  const reading = readClientHello(stream as unknown as Socket, {
    maxBytes,
    timeoutMs: Infinity,
    mergeRecords: c.merge,
  });
  let result: ReadClientHelloResult | undefined;
  void reading.then((r) => (result = r));
  let written = 0;
  let sent = 0;
  while (sent < stop && result === undefined) {
    stream.write(chunks[sent]!);
    written += chunks[sent]!.length;
    sent++;
    await tick();
  }
  if (result === undefined) stream.end();
  const settled = await settleWithin(reading, 2000);
  expectThat(
    settled !== 'timeout',
    'readClientHello did not settle within 2 s of the stream ending',
  );
  const r = settled;
  const mustRead = c.cut >= 1 && f.real && f.versionsOk && f.recordBytes <= maxBytes;
  expectThat(!mustRead || r.kind === 'hello', () => `a real hello in valid records gave ${r.kind}`);
  if (r.kind === 'closed') {
    expectThat(r.reason === 'end' || r.reason === 'close', `closed for ${r.reason}`);
    expectThat(stream.destroyed, 'closed, but the stream was not destroyed');
    return;
  }
  expectThat(r.bytesRead === written, `bytesRead ${r.bytesRead}, written ${written}`);
  // Hand-over: the rest of the bytes follow what was put back; read everything out.
  const out: Buffer[] = [];
  stream.on('data', (d: Buffer) => out.push(d));
  const ended = new Promise<void>((resolve) => stream.on('end', resolve));
  for (let k = sent; k < chunks.length; k++) stream.write(chunks[k]!);
  stream.end();
  stream.resume();
  const done = await settleWithin(ended, 2000);
  expectThat(done !== 'timeout', 'the handed-over stream did not end');
  const got = Buffer.concat(out);
  if (r.kind === 'passthrough' || !r.merged) {
    expectThat(got.equals(f.wire), `bytes handed back differ from the bytes read (${r.kind})`);
    if (r.kind === 'hello')
      expectThat(sameHello(r, f.payload), 'the reader parsed another hello than the bytes hold');
    return;
  }
  const records = helloRecords(f.wire, r.hello.length);
  const header = Buffer.from([22, f.wire[1]!, f.wire[2]!]);
  const want = Buffer.concat([
    header,
    u16(records.payload.length),
    records.payload,
    f.wire.subarray(records.end),
  ]);
  expectThat(got.equals(want), 'merged bytes handed back are not one record followed by the rest');
  expectThat(r.records === records.records, 'record count differs');
  expectThat(sameHello(r, f.payload), 'the reader parsed another hello than the bytes hold');
}

function sameHello(r: { hello: Parameters<typeof normalize>[0] }, payload: Buffer): boolean {
  const again = parseOrCode(payload.subarray(0, r.hello.length));
  if (typeof again === 'string') return false;
  return JSON.stringify(normalize(again)) === JSON.stringify(normalize(r.hello));
}

/** The assembler and reader targets. */
export function assemblerTargets(): AnyTarget[] {
  return [
    property<FramingCase>({
      name: 'assembler/framing',
      weight: 12,
      arbitrary: () => framingArb,
      run: runFraming,
      reproducer: (c, corpus) =>
        JSON.stringify({
          chunks: chunk(framed(c, corpus).wire, c.chunkSizes).map((b) => hexOf(b)),
          maxBytes: c.maxBytes,
        }),
    }),
    property<RandomStreamCase>({
      name: 'assembler/random-stream',
      weight: 4,
      arbitrary: () =>
        fc.record({
          prefix: fc.constantFrom('none' as const, 'record' as const, 'hello' as const),
          chunks: fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }),
          maxBytes: fc.oneof(fc.constant(DEFAULT_MAX), fc.integer({ min: 1, max: 600 })),
        }),
      run: (c) => {
        const assembler = new ClientHelloAssembler(c.maxBytes);
        let final: AssemblerStatus = 'need-more';
        const all: Buffer[] = [];
        for (const part of randomStream(c)) {
          const status = assembler.push(part);
          all.push(part);
          expectThat(STATUSES.has(status), `push returned ${String(status)}`);
          if (final !== 'need-more')
            expectThat(status === final, 'status changed after it settled');
          final = status;
        }
        expectThat(assembler.original().equals(Buffer.concat(all)), 'original() differs');
        if (final === 'reject')
          expectThat(REASONS.has(String(assembler.rejectReason)), 'unknown reject reason');
        if (final === 'complete') {
          const m = assembler.message();
          expectThat(m.length === assembler.helloLength, 'message length differs from helloLength');
          parseOrCode(m);
          const merged = assembler.merged();
          if (merged !== undefined)
            expectThat(sameOutcome(merged.message, m), 'merged hello parses differently');
        }
      },
      reproducer: (c) =>
        JSON.stringify({ chunks: randomStream(c).map((b) => hexOf(b)), maxBytes: c.maxBytes }),
    }),
    enumeration<WireCutCase>({
      name: 'assembler/cut',
      weight: 5,
      cases: (corpus) => {
        const out: WireCutCase[] = [];
        derive(corpus).hellos.forEach((h, hello) => {
          for (let at = 0; at <= h.wire.length; at++) {
            out.push({ hello, at, mode: 'prefix' });
            if (at > 0 && at < h.wire.length) out.push({ hello, at, mode: 'split' });
          }
        });
        return out;
      },
      run: (c, corpus) => {
        const h = pick(derive(corpus).hellos, c.hello);
        const assembler = new ClientHelloAssembler(DEFAULT_MAX);
        const first = assembler.push(h.wire.subarray(0, c.at));
        if (c.mode === 'prefix') {
          const want = c.at === h.wire.length ? 'complete' : 'need-more';
          expectThat(
            first === want,
            `wire cut at ${c.at}/${h.wire.length}: ${first}, expected ${want}`,
          );
          return;
        }
        expectThat(first === 'need-more', `wire cut at ${c.at}: ${first}`);
        const second = assembler.push(h.wire.subarray(c.at));
        expectThat(second === 'complete', `split at ${c.at}: ${second}`);
        expectThat(assembler.message().equals(h.message), `split at ${c.at}: message differs`);
        expectThat(assembler.records === h.records, `split at ${c.at}: records differ`);
      },
      reproducer: (c, corpus) => {
        const h = pick(derive(corpus).hellos, c.hello);
        return JSON.stringify([
          hexOf(h.wire.subarray(0, c.at)),
          c.mode === 'split' ? hexOf(h.wire.subarray(c.at)) : '',
        ]);
      },
    }),
    asyncProperty<ReaderCase>({
      name: 'hello-reader/stream',
      weight: 0.6,
      arbitrary: () =>
        fc.record({
          framing: framingArb,
          cut: fc.oneof(
            { weight: 4, arbitrary: fc.constant(1) },
            { weight: 1, arbitrary: fc.double({ min: 0, max: 0.99, noNaN: true }) },
          ),
          merge: fc.oneof(
            { weight: 4, arbitrary: fc.constant(true) },
            { weight: 1, arbitrary: fc.constant(false) },
          ),
        }),
      run: runReader,
      reproducer: (c, corpus) =>
        JSON.stringify({
          chunks: chunk(framed(c.framing, corpus).wire, c.framing.chunkSizes).map((b) => hexOf(b)),
          maxBytes: c.framing.maxBytes,
          cut: c.cut,
          merge: c.merge,
        }),
    }),
  ];
}
