// Real TLS servers with a cache attached, and a real Node client that records sessions, for the
// wiring tests. Everything listens on 127.0.0.1 with an OS-chosen port.
import type { AddressInfo, Socket } from 'node:net';
import tls from 'node:tls';
import { SessionCache, type SessionCacheOptions } from '../../src/cache/index.js';
import {
  attach,
  statefulServerOptions,
  type AttachOptions,
  type Attachment,
} from '../../src/node/index.js';
import type { SessionService } from '../../src/front-door/session-service.js';
import type { TestPki } from './certs.js';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface TestServer {
  server: tls.Server;
  cache: SessionCache;
  attachment: Attachment;
  port: number;
  close(): Promise<void>;
}

/**
 * A tls.Server answering "hello" then ending, stateful options, the cache attached. With `sessions`
 * (an `openSessionCache()` result) the server is made with `sessions.serverOptions()` and attached
 * through it, as the README says; otherwise with the low-level `statefulServerOptions()` and
 * `attach()` on `cache` (a bare `SessionCache` by default).
 */
export async function startServer(
  pki: TestPki,
  options: {
    maxVersion?: TlsVersion;
    sessionIdContext?: string;
    sessions?: SessionService;
    cache?: SessionCache;
    cacheOptions?: SessionCacheOptions;
    attach?: AttachOptions;
    tls?: tls.TlsOptions;
    onSecure?: (socket: tls.TLSSocket) => void;
  } = {},
): Promise<TestServer> {
  const server = tls.createServer(
    {
      key: pki.serverKey,
      cert: pki.serverCert,
      maxVersion: options.maxVersion ?? 'TLSv1.3',
      ...(options.sessions?.serverOptions() ??
        statefulServerOptions({ sessionIdContext: options.sessionIdContext ?? 'test' })),
      ...options.tls,
    },
    (socket) => {
      if (options.onSecure) options.onSecure(socket);
      else socket.end('hello');
    },
  );
  // Node destroys the socket after a client error only when nobody listens; we listen (to keep
  // the test output quiet), so we destroy it, as a real server would.
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  const cache = options.sessions?.cache ?? options.cache ?? new SessionCache(options.cacheOptions);
  const attachment =
    options.sessions === undefined
      ? attach(server, cache, options.attach)
      : options.sessions.attach(server);
  // Tracked so that close() never waits on a connection a test left half-open.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    cache,
    attachment,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

export interface ClientResult {
  reused: boolean;
  protocol: string | null;
  /** Every session the client received (one per TLS 1.3 ticket). */
  sessions: Buffer[];
  data: string;
  /** The connection's session when the server ended it (`getSession()`), if it had one. */
  final?: Buffer;
  error?: Error;
}

/** Connects, reads until the server ends, and collects every session the client is given. */
export function connect(
  port: number,
  options: tls.ConnectionOptions & { maxVersion?: TlsVersion } = {},
): Promise<ClientResult> {
  return new Promise((resolve) => {
    const sessions: Buffer[] = [];
    let data = '';
    let reused = false;
    let protocol: string | null = null;
    let final: Buffer | undefined;
    let error: Error | undefined;
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
      ...options,
    });
    socket.on('secureConnect', () => {
      reused = socket.isSessionReused();
      protocol = socket.getProtocol();
    });
    socket.on('session', (s: Buffer) => sessions.push(s));
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('end', () => (final = socket.getSession()));
    socket.on('error', (e) => (error = e));
    socket.on('close', () =>
      resolve({
        reused,
        protocol,
        sessions,
        data,
        ...(final === undefined ? {} : { final }),
        ...(error === undefined ? {} : { error }),
      }),
    );
  });
}
