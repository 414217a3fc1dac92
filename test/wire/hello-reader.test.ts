import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClientHello } from '../../src/wire/client-hello.js';
import { readClientHello } from '../../src/wire/hello-reader.js';
import { ClientHelloAssembler, type RecordRejectReason } from '../../src/wire/tls-record.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { buildClientHello, handshake } from '../helpers/hello-builder.js';
import { startReaderHarness, type ReaderHarness } from '../helpers/hello-harness.js';
import { connectClient, startSessionServer, type SessionServer } from '../helpers/hello-server.js';
import {
  captureClientHello,
  nodeClient,
  runSClient,
  type CapturedHello,
} from '../helpers/tls-capture.js';
import { startReframingProxy } from '../helpers/tls-proxy.js';
import { chunkAt, frameRecords, splitRecords } from '../helpers/tls-records.js';

const CCS = Buffer.from([20, 3, 3, 0, 1, 1]);
const APPDATA = Buffer.from([23, 3, 3, 0, 3, 9, 9, 9]);
const HTTP = Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
// A complete SSLv2-compatible ClientHello (RFC 5246 appendix E.2): 2-byte length with the top bit
// set, msg type 1, version 3.1, one cipher spec (AES128-SHA), no session id, 16-byte challenge.
const SSLV2 = Buffer.concat([
  Buffer.from([0x80, 0x1c, 0x01, 0x03, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x2f]),
  Buffer.alloc(16, 0x5a),
]);

// For tables built before the captures exist: a valid 300-byte ClientHello with a padding extension.
const SYNTHETIC = buildClientHello({ extensions: [{ type: 21, data: Buffer.alloc(217) }] });

let pki: TestPki;
/** A TLS 1.3 hello carrying a PSK (single record), as tls.connect sent it. */
let real: CapturedHello;
/** A TLS 1.2 hello (single record). */
let real12: CapturedHello;

beforeAll(async () => {
  pki = makeTestPki();
  const server = await startSessionServer(pki, { reader: false });
  try {
    const first = await connectClient(server.port, { ca: pki.caCert });
    real = await captureClientHello(
      nodeClient({ servername: 'localhost', ALPNProtocols: ['h2'], session: first.sessions[1]! }),
    );
    real12 = await captureClientHello(nodeClient({ maxVersion: 'TLSv1.2' }));
  } finally {
    await server.close();
  }
});
afterAll(() => pki.cleanup());

describe('ClientHelloAssembler', () => {
  it('keeps a one-record hello that came in one chunk as is: no copy, nothing to merge', () => {
    const a = new ClientHelloAssembler(65536);
    expect(a.push(real.raw)).toBe('complete');
    expect(a.records).toBe(1);
    expect(a.original().buffer).toBe(real.raw.buffer);
    expect(a.original().equals(real.raw)).toBe(true);
    expect(a.message().buffer).toBe(real.raw.buffer);
    expect(a.message().equals(real.message)).toBe(true);
    expect(a.merged()).toBeUndefined();
  });

  it('any chunking of any record framing gives the same hello, merged bytes and original bytes', () => {
    const expected = parseClientHello(real.message);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.constantFrom(Buffer.alloc(0), CCS, Buffer.concat([CCS, APPDATA])),
        (recordSize, cuts, trailing) => {
          const wire = Buffer.concat([frameRecords(real.message, recordSize), trailing]);
          const a = new ClientHelloAssembler(65536);
          const statuses = chunkAt(
            wire,
            cuts.map((c) => c % wire.length),
          ).map((c) => a.push(c));
          expect(statuses.at(-1)).toBe('complete');
          const firstComplete = statuses.indexOf('complete');
          expect(statuses.slice(0, firstComplete).every((s) => s === 'need-more')).toBe(true);
          expect(statuses.slice(firstComplete).every((s) => s === 'complete')).toBe(true);
          expect(a.original().equals(wire)).toBe(true);
          expect(a.records).toBe(Math.ceil(real.message.length / recordSize));
          const merged = a.merged();
          const message = merged?.message ?? a.message();
          expect(parseClientHello(message)).toEqual(expected);
          if (a.records === 1) {
            expect(merged).toBeUndefined();
          } else {
            const { records } = splitRecords(merged!.bytes);
            expect(records[0]!.type).toBe(22);
            expect(records[0]!.fragment.equals(real.message)).toBe(true);
            const used = 5 + records[0]!.fragment.length;
            // Bytes that followed the hello are put back untouched, after the merged record.
            expect(
              merged!.bytes.subarray(used).equals(wire.subarray(wire.length - trailing.length)),
            ).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps trailing handshake bytes of the last hello record inside the merged record', () => {
    const extra = Buffer.from([99, 0, 0, 1, 7]);
    const payload = Buffer.concat([real.message, extra]);
    const wire = frameRecords(payload, 100);
    const a = new ClientHelloAssembler(65536);
    expect(a.push(wire)).toBe('complete');
    const merged = a.merged()!;
    expect(merged.bytes.equals(frameRecords(payload, 16384))).toBe(true);
    expect(merged.message.equals(real.message)).toBe(true);
  });

  it('reads a handshake header that straddles 1-byte records', () => {
    const a = new ClientHelloAssembler(65536);
    expect(a.push(frameRecords(real.message, 1))).toBe('complete');
    expect(a.records).toBe(real.message.length);
    expect(a.merged()!.message.equals(real.message)).toBe(true);
  });

  const rejects: [string, Buffer[], RecordRejectReason, number?][] = [
    ['HTTP, from its first byte', [HTTP.subarray(0, 1)], 'not-handshake'],
    ['an SSLv2-compatible hello', [SSLV2], 'sslv2'],
    ['an alert record', [Buffer.from([21, 3, 1, 0, 2, 2, 40])], 'not-handshake'],
    ['record version 9.3', [Buffer.from([22, 9])], 'bad-record-version'],
    ['record version 3.9', [Buffer.from([22, 3, 9])], 'bad-record-version'],
    ['a zero-length record', [Buffer.from([22, 3, 1, 0, 0])], 'bad-record-length'],
    ['a 2^14+1 record', [Buffer.from([22, 3, 1, 0x40, 0x01])], 'bad-record-length'],
    ['a ServerHello', [frameRecords(handshake(2, Buffer.alloc(40)), 500)], 'not-client-hello'],
    [
      'a ServerHello type in a partial record',
      [Buffer.from([22, 3, 3, 1, 0, 2, 0, 0])],
      'not-client-hello',
    ],
    [
      'a CCS between hello records',
      [frameRecords(SYNTHETIC, 100).subarray(0, 105), CCS],
      'interleaved-record',
    ],
    [
      'a hello declaring 70000 bytes',
      [Buffer.from([22, 3, 1, 0, 4, 1, 1, 0x11, 0x70])],
      'too-large',
    ],
    ['a hello over the byte cap', [frameRecords(SYNTHETIC, 10).subarray(0, 200)], 'too-large', 150],
  ];
  it.each(rejects)('rejects %s', (_name, chunks, reason, maxBytes = 65536) => {
    const a = new ClientHelloAssembler(maxBytes);
    const statuses = chunks.map((c) => a.push(c));
    expect(statuses.at(-1)).toBe('reject');
    expect(a.rejectReason).toBe(reason);
    expect(a.original().equals(Buffer.concat(chunks))).toBe(true);
  });

  it('needs more bytes for every strict prefix of a framed hello', () => {
    const wire = frameRecords(real.message, 77);
    for (let n = 1; n < wire.length; n++) {
      expect(new ClientHelloAssembler(65536).push(wire.subarray(0, n))).toBe('need-more');
    }
  });
});

describe('readClientHello hands bytes back complete, in order, untouched', () => {
  let harness: ReaderHarness;
  beforeAll(async () => {
    harness = await startReaderHarness();
  });
  afterAll(() => harness.close());

  it('a one-record hello and what follows it', async () => {
    const { result, after } = await harness.run([real.raw, APPDATA]);
    expect(result).toMatchObject({ kind: 'hello', records: 1, merged: false });
    expect(after.equals(Buffer.concat([real.raw, APPDATA]))).toBe(true);
    if (result.kind !== 'hello') return;
    expect(result.hello).toEqual(parseClientHello(real.message));
  });

  it('a multi-record hello is put back as ONE record, the bytes after it untouched', async () => {
    const wire = frameRecords(real.message, 100);
    const { result, after } = await harness.run([
      wire.subarray(0, 150),
      wire.subarray(150),
      APPDATA,
    ]);
    expect(result).toMatchObject({ kind: 'hello', records: 5, merged: true });
    const recs = splitRecords(after);
    expect(recs.records.map((r) => r.type)).toEqual([22, 23]);
    expect(recs.records[0]!.fragment.equals(real.message)).toBe(true);
    expect(recs.records[1]!.fragment.equals(APPDATA.subarray(5))).toBe(true);
  });

  it('mergeRecords: false puts the original records back', async () => {
    const own = await startReaderHarness({ mergeRecords: false });
    try {
      const wire = frameRecords(real.message, 100);
      const { result, after } = await own.run([wire]);
      expect(result).toMatchObject({ kind: 'hello', records: 5, merged: false });
      expect(after.equals(wire)).toBe(true);
    } finally {
      await own.close();
    }
  });

  it.each([
    ['HTTP plaintext', [HTTP], 'not-handshake'],
    ['an SSLv2-compatible hello', [SSLV2], 'sslv2'],
    ['garbage', [Buffer.from('\x00\x01\x02garbage\xff')], 'not-handshake'],
    ['an alert', [Buffer.from([21, 3, 3, 0, 2, 2, 40]), HTTP], 'not-handshake'],
    [
      'a nonsense record version',
      [Buffer.from([22, 0x30, 0x30, 0, 5, 1]), HTTP],
      'bad-record-version',
    ],
    [
      'an invalid ClientHello',
      [frameRecords(buildClientHello({ cipherSuites: [] }), 300)],
      'invalid-hello',
    ],
    [
      'a hello split by an interleaved CCS',
      [frameRecords(SYNTHETIC, 100).subarray(0, 210), CCS],
      'interleaved-record',
    ],
  ] as const)('%s: passthrough', async (_name, chunks, reason) => {
    const { result, after } = await harness.run([...chunks]);
    expect(result).toMatchObject({ kind: 'passthrough', reason });
    expect(after.equals(Buffer.concat([...chunks]))).toBe(true);
  });

  it('an invalid hello reports the parse error', async () => {
    const { result } = await harness.run([
      frameRecords(buildClientHello({ cipherSuites: [] }), 50),
    ]);
    expect(result.kind === 'passthrough' && result.error?.code).toBe('BAD_CIPHER_SUITES');
  });

  it('a stalled hello is handed over untouched after the timeout, later bytes follow in order', async () => {
    const own = await startReaderHarness({ timeoutMs: 150 });
    try {
      const chunks = [real.raw.subarray(0, 3), real.raw.subarray(3)];
      const { result, after } = await own.run(chunks, { gapMs: 600 });
      expect(result).toMatchObject({ kind: 'passthrough', reason: 'timeout', bytesRead: 3 });
      expect(after.equals(real.raw)).toBe(true);
    } finally {
      await own.close();
    }
  });

  it('over the byte cap: untouched', async () => {
    const own = await startReaderHarness({ maxBytes: 64 });
    try {
      const wire = frameRecords(real.message, 30);
      const { result, after } = await own.run(chunkAt(wire, [20, 40, 60, 80]));
      expect(result).toMatchObject({ kind: 'passthrough', reason: 'too-large' });
      expect(after.equals(wire)).toBe(true);
    } finally {
      await own.close();
    }
  });

  it('a client that half-closes mid-hello: closed, socket destroyed', async () => {
    const { result } = await harness.run([real.raw.subarray(0, 10)]);
    expect(result).toMatchObject({ kind: 'closed', reason: 'end', bytesRead: 10 });
  });

  it('a client that resets mid-hello: closed, no unhandled error', async () => {
    const { result } = await harness.run([real.raw.subarray(0, 10)], { reset: true });
    expect(result.kind).toBe('closed');
  });

  it('an already destroyed socket: closed at once', async () => {
    const socket = new net.Socket();
    socket.destroy();
    await expect(readClientHello(socket)).resolves.toMatchObject({ kind: 'closed' });
  });

  it('invalid options throw RangeError', () => {
    const socket = new net.Socket();
    expect(() => readClientHello(socket, { maxBytes: 0 })).toThrow(RangeError);
    expect(() => readClientHello(socket, { timeoutMs: 0 })).toThrow(RangeError);
    expect(() => readClientHello(socket, { timeoutMs: 2 ** 31 })).toThrow(RangeError);
    socket.destroy();
  });

  it('random chunkings over real TCP give the same hello (fast-check)', async () => {
    const expected = parseClientHello(real.message);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(16384, 200, 37),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (recordSize, cuts) => {
          const wire = frameRecords(real.message, recordSize);
          const { result } = await harness.run(
            chunkAt(
              wire,
              cuts.map((c) => c % wire.length),
            ),
          );
          expect(result).toMatchObject({ kind: 'hello' });
          if (result.kind === 'hello') expect(result.hello).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('leaves no timer behind, whatever the outcome', async () => {
    const own = await startReaderHarness({ timeoutMs: 60_000 });
    const timers = (): number =>
      process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    try {
      const before = timers();
      const runs = await Promise.all([
        own.run([real.raw]),
        own.run([HTTP]),
        own.run([real.raw.subarray(0, 10)]),
        own.run([real.raw.subarray(0, 10)], { reset: true }),
        own.run(chunkAt(frameRecords(real.message, 90), [5, 50, 300])),
      ]);
      expect(runs.map((r) => r.result.kind)).toEqual([
        'hello',
        'passthrough',
        'closed',
        'closed',
        'hello',
      ]);
      expect(timers()).toBe(before);
    } finally {
      await own.close();
    }
  });
});

describe('readClientHello in front of a real TLS server (TLS 1.3 stateful, SSL_OP_NO_TICKET)', () => {
  let servers: SessionServer[] = [];
  const start = async (...args: Parameters<typeof startSessionServer>): Promise<SessionServer> => {
    const s = await startSessionServer(...args);
    servers.push(s);
    return s;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });
  const ca = (): { ca: string } => ({ ca: pki.caCert });

  it('a Node TLS 1.3 client resumes with the reader, and only with it', async () => {
    const withReader = await start(pki);
    const first = await connectClient(withReader.port, ca());
    expect(first.reused).toBe(false);
    const second = await connectClient(withReader.port, {
      ...ca(),
      session: first.sessions.at(-1)!,
    });
    expect(second.reused).toBe(true);
    expect(second.data).toBe('hello from server\n');
    expect(withReader.serverReused).toEqual([false, true]);
    // resumeSession received the random legacy id; the session was found by the PSK identity.
    const call = withReader.resumeCalls.at(-1)!;
    expect(call.found).toBe(true);
    expect(withReader.sessions.has(call.legacyId)).toBe(false);
    expect(withReader.sessions.has(call.pskIdentity!)).toBe(true);

    const plain = await start(pki, { reader: false });
    const a = await connectClient(plain.port, ca());
    const b = await connectClient(plain.port, { ...ca(), session: a.sessions.at(-1)! });
    expect(b.reused).toBe(false);
    expect(plain.resumeCalls.at(-1)!.found).toBe(false);
  });

  it('TLS 1.2 session ids still resume through the reader', async () => {
    const server = await start(pki, { tlsOptions: { maxVersion: 'TLSv1.2' } });
    const a = await connectClient(server.port, ca());
    const b = await connectClient(server.port, { ...ca(), session: a.sessions.at(-1)! });
    expect(b.reused).toBe(true);
    expect(server.resumeCalls.at(-1)).toMatchObject({ found: true, pskIdentity: undefined });
  });

  it('openssl s_client -tls1_3 -sess_in resumes; with -no_middlebox Node never asks (empty legacy id)', async () => {
    const server = await start(pki);
    const sess = join(pki.dir, 'reader-13.pem');
    const common = ['-tls1_3', '-CAfile', pki.files.caCert, '-servername', 'localhost'];
    const out = await runSClient(server.port, [...common, '-sess_out', sess]);
    expect(out.stdout).toMatch(/^New, TLSv1\.3/m);
    const resumed = await runSClient(server.port, [...common, '-sess_in', sess]);
    expect(resumed.stdout).toMatch(/^Reused, TLSv1\.3/m);

    const calls = server.resumeCalls.length;
    const noMiddlebox = await runSClient(server.port, [
      ...common,
      '-no_middlebox',
      '-sess_in',
      sess,
    ]);
    expect(noMiddlebox.stdout).toMatch(/^New, TLSv1\.3/m);
    const last = server.readerResults.at(-1)!;
    // The reader sees the PSK, but Node emits resumeSession only for a non-empty legacy id.
    expect(last.kind === 'hello' && last.hello.legacySessionId.length).toBe(0);
    expect(last.kind === 'hello' && last.hello.preSharedKey?.identities.length).toBe(1);
    expect(server.resumeCalls.length).toBe(calls);
  });

  it.each([
    [100, true],
    [30, true],
    [100, false],
  ])(
    'a hello split into %i-byte records, merge %s: completes; resumes only merged',
    async (recordSize, mergeRecords) => {
      {
        const server = await start(pki, { reader: { mergeRecords } });
        const first = await connectClient(server.port, ca());
        const proxy = await startReframingProxy(server.port, { recordSize });
        try {
          const second = await connectClient(proxy.port, {
            ...ca(),
            session: first.sessions.at(-1)!,
          });
          expect(second.data).toBe('hello from server\n');
          expect(second.reused).toBe(mergeRecords);
          expect(server.readerResults.at(-1)).toMatchObject({
            kind: 'hello',
            merged: mergeRecords,
          });
          expect(splitRecords(proxy.forwarded[0]!).records.length).toBeGreaterThan(3);
          // Unmerged, Node's own ClientHello parser (it reads the first record only, then walks
          // the extensions across the next record headers) gives up: no resumeSession event.
          expect(server.resumeCalls.length).toBe(mergeRecords ? 2 : 1);
        } finally {
          await proxy.close();
        }
      }
    },
  );

  it('without the reader, Node 20 cannot resume even a TLS 1.2 session id from a multi-record hello', async () => {
    const server = await start(pki, { reader: false, tlsOptions: { maxVersion: 'TLSv1.2' } });
    const tls12 = { ...ca(), maxVersion: 'TLSv1.2' } as const;
    const first = await connectClient(server.port, tls12);
    // 30-byte records split the session id itself, so the outcome does not depend on luck: Node's
    // parser reads the first record's offsets across record headers.
    const proxy = await startReframingProxy(server.port, { recordSize: 30 });
    try {
      const second = await connectClient(proxy.port, { ...tls12, session: first.sessions.at(-1)! });
      expect(second.data).toBe('hello from server\n');
      expect(second.reused).toBe(false);
      expect(server.resumeCalls.filter((c) => c.found)).toHaveLength(0);
    } finally {
      await proxy.close();
    }
  });

  it('a hello dribbled one byte per TCP segment still resumes', async () => {
    const server = await start(pki);
    const first = await connectClient(server.port, ca());
    const proxy = await startReframingProxy(server.port, { segmentSize: 1, segmentDelayMs: 1 });
    try {
      const second = await connectClient(proxy.port, { ...ca(), session: first.sessions.at(-1)! });
      expect(second.reused).toBe(true);
      const result = server.readerResults.at(-1)!;
      expect(result.kind).toBe('hello');
      if (result.kind === 'hello') expect(result.chunks).toBeGreaterThan(50);
    } finally {
      await proxy.close();
    }
  });

  it('small records in small segments: resumes', async () => {
    const server = await start(pki);
    const first = await connectClient(server.port, ca());
    const proxy = await startReframingProxy(server.port, {
      recordSize: 33,
      segmentSize: 7,
      segmentDelayMs: 0,
    });
    try {
      const second = await connectClient(proxy.port, { ...ca(), session: first.sessions.at(-1)! });
      expect(second.reused).toBe(true);
      expect(server.readerResults.at(-1)).toMatchObject({ kind: 'hello', merged: true });
    } finally {
      await proxy.close();
    }
  });

  it('a ClientHello over 2^14 bytes cannot be merged: handshake completes, no resumption (Node)', async () => {
    const alpn = Array.from({ length: 150 }, (_, i) => `p${i}-`.padEnd(120, 'x'));
    const server = await start(pki, { tlsOptions: { ALPNProtocols: [alpn[0]!] } });
    const first = await connectClient(server.port, { ...ca(), ALPNProtocols: alpn });
    const second = await connectClient(server.port, {
      ...ca(),
      ALPNProtocols: alpn,
      session: first.sessions.at(-1)!,
    });
    expect(second.data).toBe('hello from server\n');
    expect(second.reused).toBe(false);
    const result = server.readerResults.at(-1)!;
    expect(result).toMatchObject({ kind: 'hello', records: 2, merged: false });
    expect(result.kind === 'hello' && result.hello.preSharedKey?.identities.length).toBe(1);
    expect(server.resumeCalls).toHaveLength(0);
  });

  it.each([
    ['HTTP plaintext', HTTP, 'not-handshake'],
    ['an SSLv2-compatible hello', SSLV2, 'sslv2'],
    ['garbage', Buffer.from('\x16\x09garbage'), 'bad-record-version'],
  ] as const)(
    '%s: handed to OpenSSL, which rejects it; the server lives on',
    async (_n, bytes, reason) => {
      // The timeout only bounds the test should OpenSSL wait for more bytes instead of failing.
      const server = await start(pki, { tlsOptions: { handshakeTimeout: 3000 } });
      await new Promise<void>((resolve) => {
        const c = net.connect(server.port, '127.0.0.1', () => c.write(bytes));
        // Read (and drop) whatever comes back, an alert maybe: unread data would hold off 'close'.
        c.resume();
        c.on('error', () => {});
        c.on('close', () => resolve());
      });
      expect(server.readerResults).toMatchObject([{ kind: 'passthrough', reason }]);
      expect(server.clientErrors).toHaveLength(1);
      console.log(`${_n}: tlsClientError ${server.clientErrors[0]!.message}`);
      const ok = await connectClient(server.port, ca());
      expect(ok.data).toBe('hello from server\n');
    },
  );

  it('a client that sends 3 bytes and stalls: handed over after the timeout, closed by handshakeTimeout', async () => {
    const server = await start(pki, {
      reader: { timeoutMs: 100 },
      tlsOptions: { handshakeTimeout: 300 },
    });
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      const c = net.connect(server.port, '127.0.0.1', () => c.write(real.raw.subarray(0, 3)));
      c.resume();
      c.on('error', () => {});
      c.on('close', () => resolve());
    });
    const elapsed = Date.now() - t0;
    expect(server.readerResults).toMatchObject([{ kind: 'passthrough', reason: 'timeout' }]);
    expect(server.clientErrors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual([
      'ERR_TLS_HANDSHAKE_TIMEOUT',
    ]);
    // Node's handshake timer starts when its TLSSocket is made, i.e. after the reader gave up.
    expect(elapsed).toBeGreaterThanOrEqual(380);
  });

  it('over the byte cap: passthrough, and OpenSSL still completes the handshake', async () => {
    const server = await start(pki, { reader: { maxBytes: 64 } });
    const first = await connectClient(server.port, ca());
    const second = await connectClient(server.port, { ...ca(), session: first.sessions.at(-1)! });
    expect(second.data).toBe('hello from server\n');
    expect(second.reused).toBe(false);
    expect(server.readerResults.map((r) => r.kind === 'passthrough' && r.reason)).toEqual([
      'too-large',
      'too-large',
    ]);
  });

  it('a tls.TLSSocket built directly on the socket afterwards sees every byte', async () => {
    const secureContext = tls.createSecureContext({ key: pki.serverKey, cert: pki.serverCert });
    const server = net.createServer((socket) => {
      void readClientHello(socket).then((result) => {
        if (result.kind === 'closed') return;
        const t = new tls.TLSSocket(socket, { isServer: true, secureContext });
        t.on('error', () => {});
        t.on('secure', () => t.end(`secure after ${result.kind}\n`));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const proxy = await startReframingProxy(port, { recordSize: 50, segmentSize: 64 });
    try {
      expect((await connectClient(port, ca())).data).toBe('secure after hello\n');
      expect((await connectClient(proxy.port, ca())).data).toBe('secure after hello\n');
    } finally {
      await proxy.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('overhead, noted not asserted: CPU per hello; handshake times with and without the reader', async () => {
    // A stopwatch in a unit test times the machine: the numbers are printed for the note; the
    // reader's cost on whole handshakes is bench/handshake's (readClientHello: false isolates it).
    // CPU work the reader adds once the bytes are in: reassembly + parse, on a real hello.
    const rounds = 20_000;
    const run = (): void => {
      const a = new ClientHelloAssembler(65536);
      a.push(real.raw);
      parseClientHello(a.message());
    };
    for (let i = 0; i < 2000; i++) run();
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) run();
    const cpuUs = Number(process.hrtime.bigint() - t0) / 1000 / rounds;

    // Whole TLS 1.3 handshakes (client and server in this process), with and without the reader.
    const withReader = await start(pki);
    const without = await start(pki, { reader: false });
    const times: Record<string, number[]> = { with: [], without: [] };
    for (let i = 0; i < 40; i++) {
      for (const [name, s] of [
        ['with', withReader],
        ['without', without],
      ] as const) {
        t0 = process.hrtime.bigint();
        await connectClient(s.port, ca());
        times[name]!.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
    }
    const median = (xs: number[]): number => xs.slice().sort((x, y) => x - y)[xs.length >> 1]!;
    const wait = median(withReader.readerMicros);
    console.log(
      `reader CPU ${cpuUs.toFixed(2)} µs/hello; connection→hand-over median ${wait.toFixed(0)} µs ` +
        `(mostly waiting for the client's bytes); handshake median ${median(times.with!).toFixed(0)} µs ` +
        `with reader vs ${median(times.without!).toFixed(0)} µs without`,
    );
    expect(withReader.readerMicros.length).toBeGreaterThanOrEqual(40);
  });
});

describe('real hellos of both versions go through the reader', () => {
  it('TLS 1.2 and TLS 1.3 captures, one chunk each', () => {
    for (const c of [real, real12]) {
      const a = new ClientHelloAssembler(65536);
      expect(a.push(c.raw)).toBe('complete');
      expect(parseClientHello(a.message())).toEqual(parseClientHello(c.message));
    }
  });
});
