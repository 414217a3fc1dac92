// Hostile first flights on real sockets, against a tls.Server with attach(): ClientHellos with
// legacy session ids of 33+ bytes, empty / huge / many PSK identities, hellos cut at random bytes,
// split into 1-byte records, and plain garbage. Whatever arrives, the process survives, every
// connection ends, nothing leaks, and a normal client still gets a full and a resumed handshake.
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixHelloLengths, frame, u16, walkClientHello } from '../../fuzz/bytes.js';
import { captureCorpus, type Corpus } from '../../fuzz/corpus.js';
import {
  makeCertificate,
  settle,
  startLoadServer,
  waitFor,
  type LoadServer,
} from '../../scripts/lib/handshakes.js';
import { activeResources, resourceIncrease } from '../../scripts/lib/memory.js';
import { WAIT_MS } from '../helpers/eventually.js';

let corpus: Corpus;
let server: LoadServer;

beforeAll(async () => {
  corpus = await captureCorpus();
  server = await startLoadServer(makeCertificate());
});
afterAll(async () => {
  await server?.close();
});

/** A hello with its legacy session id replaced by `length` bytes (lengths fixed up). */
function withSessionId(message: Buffer, length: number): Buffer {
  const layout = walkClientHello(message)!;
  const at = layout.sessionIdAt;
  const m = Buffer.concat([
    message.subarray(0, at),
    Buffer.from([length & 0xff]),
    Buffer.alloc(length, 0x42),
    message.subarray(at + 1 + layout.sessionIdLength),
  ]);
  fixHelloLengths(m, false);
  return m;
}

/** A TLS 1.3 hello whose pre_shared_key extension (last) holds these identities. */
function withPskIdentities(message: Buffer, identities: Buffer[]): Buffer {
  const layout = walkClientHello(message)!;
  const others = layout.extensions
    .filter((e) => e.type !== 41)
    .map((e) => message.subarray(e.at, e.at + 4 + e.length));
  const ids = Buffer.concat(
    identities.map((id) => Buffer.concat([u16(id.length), id, Buffer.alloc(4)])),
  );
  const binders = Buffer.concat(
    identities.map(() => Buffer.concat([Buffer.from([32]), Buffer.alloc(32, 1)])),
  );
  const data = Buffer.concat([u16(ids.length), ids, u16(binders.length), binders]);
  const block = Buffer.concat([...others, u16(41), u16(data.length), data]);
  const m = Buffer.concat([message.subarray(0, layout.extensionsAt), u16(block.length), block]);
  fixHelloLengths(m, false);
  return m;
}

/** What the server did with one hostile connection. */
interface Outcome {
  closed: boolean;
  /** First bytes the server sent back, if any (22: a handshake record, 21: an alert). */
  reply: Buffer | undefined;
}

/**
 * Sends `bytes` (in `chunks` pieces) and waits until the server closes. With `waitReply`, the
 * client half-closes only after the server's first bytes arrived (to see a whole hello accepted).
 */
function send(bytes: Buffer, chunks = 1, waitReply = false): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let reply: Buffer | undefined;
    // Every input must end in a close (the client half-closes after sending): only a hang may
    // reach this limit.
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, reply });
    }, WAIT_MS);
    socket.on('error', () => {});
    socket.on('connect', () => {
      const size = Math.ceil(bytes.length / chunks);
      for (let p = 0; p < bytes.length; p += size) socket.write(bytes.subarray(p, p + size));
      if (!waitReply) socket.end();
    });
    socket.on('data', (d: Buffer) => {
      if (reply === undefined) {
        reply = d;
        if (waitReply) socket.end();
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, reply });
    });
  });
}

function handshake(session?: Buffer): Promise<{ reused: boolean; session: Buffer | undefined }> {
  return new Promise((resolve, reject) => {
    const options: tls.ConnectionOptions = {
      host: '127.0.0.1',
      port: server.port,
      servername: 'localhost',
      minVersion: 'TLSv1.3',
      rejectUnauthorized: false,
    };
    if (session !== undefined) options.session = session;
    const socket = tls.connect(options);
    let last: Buffer | undefined;
    let reused = false;
    socket.on('session', (s: Buffer) => (last = s));
    socket.on('secureConnect', () => (reused = socket.isSessionReused()));
    socket.on('error', reject);
    socket.resume();
    socket.on('close', () => resolve({ reused, session: last }));
  });
}

describe('hostile first flights on the wire', () => {
  it('are all ended by the server, leak nothing, and leave it serving', async () => {
    const before = activeResources();
    const inputs: { name: string; bytes: Buffer; chunks?: number; waitReply?: boolean }[] = [];
    const tls13 = corpus.hellos.filter((h) => h.name.includes('tls13'));
    for (const h of corpus.hellos) {
      for (const length of [0, 33, 64, 255]) {
        inputs.push({
          name: `${h.name} sid ${length}`,
          bytes: frame(withSessionId(h.message, length), [], [0x0301]).wire,
        });
      }
      for (const cut of [1, 5, 9, 43, Math.floor(h.wire.length / 2), h.wire.length - 1]) {
        inputs.push({ name: `${h.name} cut ${cut}`, bytes: h.wire.subarray(0, cut) });
      }
      inputs.push({
        name: `${h.name} 1-byte records`,
        bytes: frame(h.message, [1], [0x0303]).wire,
        waitReply: true,
      });
    }
    for (const h of tls13.slice(0, 3)) {
      const psk = (ids: Buffer[]) => frame(withPskIdentities(h.message, ids), [], [0x0301]).wire;
      inputs.push({ name: `${h.name} empty PSK identity`, bytes: psk([Buffer.alloc(0)]) });
      inputs.push({
        name: `${h.name} 30 KB PSK identity`,
        bytes: psk([Buffer.alloc(30_000, 7)]),
        chunks: 9,
      });
      inputs.push({
        name: `${h.name} 1000 PSK identities`,
        bytes: psk(Array.from({ length: 1000 }, (_, i) => Buffer.from([i & 0xff]))),
      });
    }
    inputs.push({ name: 'http', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') });
    inputs.push({ name: 'sslv2-ish', bytes: Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02]) });
    inputs.push({
      name: 'huge declared hello',
      bytes: Buffer.from([22, 3, 1, 0x40, 0x00, 1, 0xff, 0xff, 0xff]),
    });

    const results = await Promise.all(
      inputs.map((i) => send(i.bytes, i.chunks ?? 1, i.waitReply ?? false)),
    );
    const stuck = inputs.filter((_, k) => !results[k]!.closed).map((i) => i.name);
    expect(stuck).toEqual([]);
    // A real hello split into 1-byte records is merged and answered: with a ServerHello (22), or
    // with OpenSSL's no_application_protocol alert (21 … 120) when its ALPN list lacks http/1.1.
    const answers = inputs.flatMap((input, k) =>
      input.waitReply === true ? [results[k]!.reply] : [],
    );
    expect(answers.length).toBe(corpus.hellos.length);
    const handshakes = answers.filter((r) => r?.[0] === 22).length;
    const alpnAlerts = answers.filter((r) => r?.[0] === 21 && r[6] === 120).length;
    expect(handshakes + alpnAlerts).toBe(answers.length);
    expect(handshakes).toBeGreaterThan(answers.length / 2);

    // Still serving: a full TLS 1.3 handshake, then a stateful resumption of its ticket.
    const full = await handshake();
    expect(full.reused).toBe(false);
    const resumed = await handshake(full.session);
    expect(resumed.reused).toBe(true);

    expect(await waitFor(async () => (await server.connections()) === 0, 5_000)).toBe(true);
    await settle();
    expect(resourceIncrease(before, activeResources())).toEqual({});
    const stats = server.attachment.stats();
    console.log(
      `wire garbage: ${inputs.length} hostile connections; attach stats ${JSON.stringify(stats)}`,
    );
    expect(stats.connections).toBe(inputs.length + 2);
  });
});
