// The ClientHello reader's first read through the one shared buffer (src/node/first-bytes.ts):
// the feature test passes on this Node; a switched socket's first read reaches the callback and
// later reads reach the stream in order (a hello in several reads); a socket paused at accept is
// left to the 'data' path; and with real TLS clients both paths resume TLS 1.2 and 1.3, counted
// in `helloSharedBuffer`.
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { userBufferReads } from '../../src/node/first-bytes.js';
import { makeTestPki } from '../helpers/certs.js';
import { eventually } from '../helpers/eventually.js';
import { connect, startServer } from '../helpers/tls-server.js';

const pki = makeTestPki();
afterAll(() => pki.cleanup());

/** A plain TCP server whose sockets `onSocket` gets; closed by the returned function. */
async function tcpServer(
  options: net.ServerOpts,
  onSocket: (socket: net.Socket) => void,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer(options, onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('reads through the shared buffer', () => {
  it('are available on this Node (the feature test passes)', () => {
    expect(userBufferReads()).toBeDefined();
  });

  it('give the first read to the callback, and later ones to the stream, in order', async () => {
    const reads = userBufferReads()!;
    const calls: string[] = [];
    let received = '';
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    let started: boolean | undefined;
    const server = await tcpServer({}, (socket) => {
      started = reads.start(socket, function (shared, length) {
        // The bytes are valid only during the call: keep a copy.
        const copy = Buffer.from(shared.subarray(0, length));
        calls.push(copy.toString());
        if (calls.length === 1) {
          this.unshift(copy);
          this.on('data', (d: Buffer) => {
            received += d.toString();
            if (received === 'first|second|third') done();
          });
        } else {
          this.push(copy);
        }
      });
    });
    const client = net.connect(server.port, '127.0.0.1');
    try {
      // Each write waits for the server to have read the one before, so that they are separate reads.
      client.write('first|');
      await eventually(() => calls.length >= 1, 'the server read the first write');
      client.write('second|');
      client.write('third');
      await finished;
      expect(started).toBe(true);
      expect(calls[0]).toBe('first|');
      expect(calls.join('')).toBe('first|second|third');
      expect(received).toBe('first|second|third');
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('are refused for a socket paused at accept (pauseOnConnect): it is not reading', async () => {
    let started: boolean | undefined;
    let seen!: () => void;
    const accepted = new Promise<void>((resolve) => (seen = resolve));
    const server = await tcpServer({ pauseOnConnect: true }, (socket) => {
      started = userBufferReads()!.start(socket, () => undefined);
      socket.destroy();
      seen();
    });
    const client = net.connect(server.port, '127.0.0.1');
    client.on('error', () => undefined);
    try {
      await accepted;
      expect(started).toBe(false);
    } finally {
      client.destroy();
      await server.close();
    }
  });
});

describe.each(['TLSv1.2', 'TLSv1.3'] as const)('attach() reading ClientHellos, %s', (version) => {
  it.each([
    ['through the shared buffer', {}, 2],
    ['through a data listener (server made with pauseOnConnect)', { pauseOnConnect: true }, 0],
  ] as const)('%s: resumes, counted', async (_name, extra, shared) => {
    const s = await startServer(pki, { maxVersion: version, tls: extra });
    try {
      const first = await connect(s.port, { maxVersion: version });
      expect(first.data).toBe('hello');
      const second = await connect(s.port, { maxVersion: version, session: first.sessions.at(-1) });
      expect(second.reused).toBe(true);
      const stats = s.attachment.stats();
      expect(stats.helloParsed).toBe(2);
      expect(stats.helloSharedBuffer).toBe(shared);
    } finally {
      await s.close();
    }
  });
});
