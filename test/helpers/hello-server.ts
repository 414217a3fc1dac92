// A real TLS server with a hand-made external session cache (a Map), optionally with its
// 'connection' listeners taken over by readClientHello, the way the library's wiring will do it.
import { constants } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import type { ClientHelloInfo } from '../../src/wire/client-hello.js';
import {
  readClientHello,
  type ReadClientHelloOptions,
  type ReadClientHelloResult,
} from '../../src/wire/hello-reader.js';
import type { TestPki } from './certs.js';

/** One `resumeSession` call as the server saw it. */
export interface ResumeCall {
  /** The id Node passed: the ClientHello's legacy session id (hex). */
  legacyId: string;
  /** The first PSK identity of the ClientHello the reader parsed (hex), if any. */
  pskIdentity: string | undefined;
  /** Whether a stored session was handed back. */
  found: boolean;
}

/** Options of {@link startSessionServer}. */
export interface SessionServerOptions {
  /** Take over 'connection' with readClientHello and these options; `false`: plain Node server. */
  reader?: ReadClientHelloOptions | false;
  /** Extra `tls.createServer` options. */
  tlsOptions?: tls.TlsOptions;
}

/** A running {@link startSessionServer}. */
export interface SessionServer {
  port: number;
  server: tls.Server;
  /** Sessions from 'newSession', keyed by hex id, in creation order. */
  sessions: Map<string, Buffer>;
  resumeCalls: ResumeCall[];
  readerResults: ReadClientHelloResult[];
  /** Microseconds each readClientHello took, from 'connection' to hand-over. */
  readerMicros: number[];
  clientErrors: Error[];
  /** Whether each server-side connection resumed, in 'secureConnection' order. */
  serverReused: boolean[];
  close(): Promise<void>;
}

/**
 * Starts a TLS server (TLS 1.3 by default, stateful: SSL_OP_NO_TICKET) that stores sessions in a
 * Map and answers `resumeSession` with the session whose id is the offered PSK identity, found via
 * the ClientHello the reader parsed, keyed by the legacy session id that `resumeSession` receives.
 */
export async function startSessionServer(
  pki: TestPki,
  options: SessionServerOptions = {},
): Promise<SessionServer> {
  const server = tls.createServer({
    key: pki.serverKey,
    cert: pki.serverCert,
    secureOptions: constants.SSL_OP_NO_TICKET,
    ...options.tlsOptions,
  });
  const sessions = new Map<string, Buffer>();
  const hellos = new Map<string, ClientHelloInfo>();
  const resumeCalls: ResumeCall[] = [];
  const readerResults: ReadClientHelloResult[] = [];
  const readerMicros: number[] = [];
  const clientErrors: Error[] = [];
  const serverReused: boolean[] = [];
  const sockets = new Set<net.Socket>();

  server.on('newSession', (id: Buffer, data: Buffer, cb: () => void) => {
    sessions.set(id.toString('hex'), data);
    cb();
  });
  server.on(
    'resumeSession',
    (id: Buffer, cb: (err: Error | null, data?: Buffer | null) => void) => {
      const legacyId = id.toString('hex');
      const psk = hellos.get(legacyId)?.preSharedKey?.identities[0]?.identity.toString('hex');
      const data = (psk === undefined ? undefined : sessions.get(psk)) ?? sessions.get(legacyId);
      resumeCalls.push({ legacyId, pskIdentity: psk, found: data !== undefined });
      cb(null, data ?? null);
    },
  );
  // Node only reports handshake failures (a handshake timeout included) and leaves the socket
  // open; closing it is the application's job.
  server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
    clientErrors.push(err);
    socket.destroy();
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    serverReused.push(socket.isSessionReused());
    socket.on('error', () => {});
    socket.end('hello from server\n');
  });

  const reader = options.reader ?? {};
  const saved = server.listeners('connection') as ((socket: net.Socket) => void)[];
  if (reader !== false) {
    server.removeAllListeners('connection');
    server.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      const started = process.hrtime.bigint();
      void readClientHello(socket, reader).then((result) => {
        readerMicros.push(Number(process.hrtime.bigint() - started) / 1000);
        readerResults.push(result);
        if (result.kind === 'closed') return;
        if (result.kind === 'hello' && result.hello.legacySessionId.length > 0) {
          const key = result.hello.legacySessionId.toString('hex');
          hellos.set(key, result.hello);
          socket.once('close', () => hellos.delete(key));
        }
        for (const listener of saved) listener.call(server, socket);
      });
    });
  } else {
    server.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    server,
    sessions,
    resumeCalls,
    readerResults,
    readerMicros,
    clientErrors,
    serverReused,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What {@link connectClient} observed. */
export interface ClientRun {
  /** `isSessionReused()` at 'secureConnect'. */
  reused: boolean;
  /** Sessions from the client's 'session' events, in order. */
  sessions: Buffer[];
  /** What the server wrote. */
  data: string;
}

/** Connects a real Node TLS client, reads until the server closes, and reports. */
export function connectClient(
  port: number,
  options: tls.ConnectionOptions = {},
): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const sessions: Buffer[] = [];
    let reused = false;
    let data = '';
    const socket = tls.connect({ host: '127.0.0.1', servername: 'localhost', ...options, port });
    socket.setEncoding('utf8');
    socket.on('session', (s: Buffer) => sessions.push(s));
    socket.on('secureConnect', () => (reused = socket.isSessionReused()));
    socket.on('data', (d: string) => (data += d));
    socket.on('error', reject);
    socket.on('close', () => resolve({ reused, sessions, data }));
  });
}
