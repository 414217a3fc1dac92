// A TCP proxy in front of a real TLS server that reads every ClientHello passing through with our
// parser — so a test sees, on the server side of the wire, which session a client offered (the
// TLS 1.3 PSK identities, the TLS 1.2 session id) — and that can break a connection on purpose by
// writing a forged TLS record to the client (a fatal `bad_record_mac` on the client's side).
import net from 'node:net';
import { parseClientHello, type ClientHelloInfo } from '../../src/wire/client-hello.js';
import { firstHandshakeMessage } from './tls-records.js';

/** One connection through the proxy. */
export interface ProxiedConnection {
  /** The parsed ClientHello. */
  hello: ClientHelloInfo;
  /** Writes raw bytes to the client, as if the server had sent them. */
  injectToClient(bytes: Buffer): void;
}

/** A running {@link startHelloRecorder}. */
export interface HelloRecorder {
  port: number;
  connections: ProxiedConnection[];
  /** The first PSK identity of every hello that offered one, hex, in connection order. */
  offeredTickets(): string[];
  /** Whether each hello offered a TLS 1.3 PSK. */
  offeredPsk(): boolean[];
  close(): Promise<void>;
}

/** A forged TLS 1.3/1.2 application-data record no key decrypts. */
export const FORGED_RECORD = Buffer.concat([
  Buffer.from([0x17, 0x03, 0x03, 0x00, 0x30]),
  Buffer.alloc(0x30, 0xa5),
]);

/** Starts the proxy on 127.0.0.1 in front of `targetPort`. */
export async function startHelloRecorder(targetPort: number): Promise<HelloRecorder> {
  const sockets = new Set<net.Socket>();
  const connections: ProxiedConnection[] = [];
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const server = net.createServer((client) => {
    track(client);
    const upstream = net.connect({ port: targetPort, host: '127.0.0.1' });
    track(upstream);
    upstream.pipe(client);
    upstream.on('close', () => client.end());
    client.on('close', () => upstream.destroy());
    const parts: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      const raw = Buffer.concat(parts);
      const found = firstHandshakeMessage(raw);
      if (found === undefined) return;
      client.removeListener('data', onData);
      connections.push({
        hello: parseClientHello(found.message),
        injectToClient: (bytes) => {
          upstream.unpipe(client);
          client.write(bytes);
        },
      });
      upstream.write(raw);
      client.pipe(upstream);
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    offeredTickets: () =>
      connections.flatMap((c) => {
        const psk = c.hello.preSharedKey?.identities[0];
        return psk === undefined ? [] : [psk.identity.toString('hex')];
      }),
    offeredPsk: () => connections.map((c) => c.hello.preSharedKey !== undefined),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
