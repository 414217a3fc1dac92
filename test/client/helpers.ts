// What the client tests share: one connection through the cache, observed from both ends.
import tls from 'node:tls';
import type { ClientSessionCache } from '../../src/client/client-session-cache.js';

/** What a client connection through the cache saw. */
export interface CachedRun {
  reused: boolean;
  protocol: string | null;
  /** Sessions Node handed over ('session' events). */
  sessions: number;
  data: string;
  hadError: boolean;
}

/**
 * Connects through the cache to 127.0.0.1:`port` (servername localhost) — `lookup`, `tls.connect`,
 * `watch`, the steps of `cache.connect`, taken by hand so that the `session` events of a TLS 1.2
 * handshake (emitted before it is secure, when `connect` has not resolved yet) are counted —
 * optionally writes `request`, reads until the server ends, and reports once the socket closed.
 */
export async function cachedRun(
  cache: ClientSessionCache,
  port: number,
  options: tls.ConnectionOptions = {},
  request?: string,
  onSecure?: (socket: tls.TLSSocket) => void,
): Promise<CachedRun> {
  const connectOptions: tls.ConnectionOptions = {
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    rejectUnauthorized: false,
    ...options,
  };
  const session = options.session ?? (await cache.lookup(connectOptions));
  const socket = tls.connect(
    session === undefined ? connectOptions : { ...connectOptions, session },
  );
  cache.watch(socket, connectOptions);
  return new Promise((resolve) => {
    let reused = false;
    let protocol: string | null = null;
    let sessions = 0;
    let data = '';
    socket.on('secureConnect', () => {
      reused = socket.isSessionReused();
      protocol = socket.getProtocol();
      if (request !== undefined) socket.write(request);
      onSecure?.(socket);
    });
    socket.on('session', () => sessions++);
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', (hadError) => resolve({ reused, protocol, sessions, data, hadError }));
  });
}
