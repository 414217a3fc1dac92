// A plain TCP front for the client matrix, standing where a layer-4 load balancer stands in front of
// a fleet: clients see ONE host and port, while their connections reach different `serve` processes.
// It exists because curl, gnutls-cli and browsers key their session caches by host and port, so a
// session made on one port is never offered to another: only a front shows cross-process resumption
// as such clients meet it in production. It never reads TLS; it only chooses the backend.
import net from 'node:net';

/** How the front picks the backend of each connection. */
export type FrontRouting =
  /** The first connection goes to the first server, every later one to the second. */
  | 'first-connection'
  /** Connections go to the first server until `switchToSecond()`, then to the second. */
  | 'until-switch';

/** A listening front; see {@link startFleetFront}. */
export interface FleetFront {
  readonly port: number;
  /** Backend port of each accepted connection, in accept order. */
  readonly routed: readonly number[];
  /** Closes every open connection; from now on every connection goes to the second server. */
  switchToSecond(): void;
  close(): Promise<void>;
}

/** Starts a front on 127.0.0.1 that sends connections to `first`, then `second` (ports). */
export async function startFleetFront(
  first: number,
  second: number,
  routing: FrontRouting,
): Promise<FleetFront> {
  const open = new Set<net.Socket>();
  const routed: number[] = [];
  let switched = false;
  const track = (socket: net.Socket): void => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = net.createServer((client) => {
    const target =
      switched || (routing === 'first-connection' && routed.length > 0) ? second : first;
    routed.push(target);
    track(client);
    const upstream = net.connect({ port: target, host: '127.0.0.1' });
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    routed,
    switchToSecond() {
      switched = true;
      // A browser may hold an idle or speculative connection to the first server; none may carry
      // the second request.
      for (const socket of open) socket.destroy();
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
