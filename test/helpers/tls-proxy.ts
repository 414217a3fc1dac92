// A TCP proxy that re-frames a real client's first flight: the ClientHello is cut into small TLS
// records and/or written one small TCP segment at a time; everything else is piped untouched. The
// handshake transcript covers handshake messages, not records, so the handshake still completes.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { firstHandshakeMessage, frameRecords } from './tls-records.js';

/** How {@link startReframingProxy} rewrites the first flight. */
export interface ReframeOptions {
  /** Re-frame the ClientHello into records of at most this many bytes (default: keep records). */
  recordSize?: number;
  /** Write the first flight in TCP writes of this many bytes (default: one write). */
  segmentSize?: number;
  /** Pause between those writes (default 0: next macrotask). */
  segmentDelayMs?: number;
}

/** A running proxy. */
export interface ReframingProxy {
  port: number;
  /** The first flight as forwarded, per connection. */
  forwarded: Buffer[];
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 in front of `targetPort`. */
export async function startReframingProxy(
  targetPort: number,
  options: ReframeOptions = {},
): Promise<ReframingProxy> {
  const sockets = new Set<net.Socket>();
  const forwarded: Buffer[] = [];
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const server = net.createServer((client) => {
    track(client);
    client.setNoDelay(true);
    const upstream = net.connect({ port: targetPort, host: '127.0.0.1', noDelay: true });
    track(upstream);
    upstream.pipe(client);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    const parts: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      const raw = Buffer.concat(parts);
      const found = firstHandshakeMessage(raw);
      if (found === undefined) return;
      client.removeListener('data', onData);
      client.pause();
      const first =
        options.recordSize === undefined
          ? raw
          : Buffer.concat([
              frameRecords(found.message, options.recordSize, raw.readUInt16BE(1)),
              raw.subarray(found.used),
            ]);
      forwarded.push(first);
      void writeSegmented(upstream, first, options).then(() => {
        if (client.destroyed || upstream.destroyed) return;
        client.pipe(upstream);
        client.resume();
      });
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    forwarded,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function writeSegmented(
  out: net.Socket,
  bytes: Buffer,
  options: ReframeOptions,
): Promise<void> {
  const size = options.segmentSize ?? bytes.length;
  for (let p = 0; p < bytes.length; p += size) {
    if (out.destroyed) return;
    out.write(bytes.subarray(p, p + size));
    if (p + size < bytes.length) await sleep(options.segmentDelayMs ?? 0);
  }
}
