// A plain TCP server that runs readClientHello on each connection and then records every byte the
// socket yields afterwards: checks that bytes are handed back complete, in order, untouched.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  readClientHello,
  type ReadClientHelloOptions,
  type ReadClientHelloResult,
} from '../../src/wire/hello-reader.js';

/** What the harness saw for one connection. */
export interface HarnessRun {
  result: ReadClientHelloResult;
  /** Everything read from the socket after readClientHello settled, until the client's FIN. */
  after: Buffer;
}

/** A running harness. */
export interface ReaderHarness {
  port: number;
  /**
   * Connects, writes `chunks` one TCP write each (Nagle off, `gapMs` apart, 0 = next macrotask),
   * optionally ends, and resolves once the server side has seen the client's FIN or close.
   */
  run(
    chunks: Buffer[],
    opts?: { gapMs?: number; end?: boolean; reset?: boolean },
  ): Promise<HarnessRun>;
  close(): Promise<void>;
}

/** Starts a harness with these readClientHello options. */
export async function startReaderHarness(
  options: ReadClientHelloOptions = {},
): Promise<ReaderHarness> {
  const pending: ((run: HarnessRun) => void)[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const done = pending.shift();
    void readClientHello(socket, options).then((result) => {
      if (result.kind === 'closed') {
        done?.({ result, after: Buffer.alloc(0) });
        return;
      }
      const parts: Buffer[] = [];
      socket.on('error', () => {});
      socket.on('data', (d: Buffer) => parts.push(d));
      const finish = (): void => done?.({ result, after: Buffer.concat(parts) });
      socket.on('end', finish);
      socket.on('close', finish);
      // The reader leaves the socket paused; a 'data' consumer must resume it.
      socket.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    run: async (chunks, opts = {}) => {
      let settle!: (run: HarnessRun) => void;
      const settled = new Promise<HarnessRun>((resolve) => (settle = resolve));
      let once = false;
      pending.push((run) => {
        if (!once) settle(run);
        once = true;
      });
      const client = net.connect({ port, host: '127.0.0.1', noDelay: true });
      client.on('error', () => {});
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      for (const [i, chunk] of chunks.entries()) {
        if (client.destroyed) break;
        await new Promise<void>((resolve) => client.write(chunk, () => resolve()));
        if (i < chunks.length - 1) await sleep(opts.gapMs ?? 0);
      }
      if (opts.reset === true) client.resetAndDestroy();
      else if (opts.end !== false) client.end();
      const run = await settled;
      client.destroy();
      return run;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
