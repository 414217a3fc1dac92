// The HTTPS server behind `serve` and `demo`, in its own module so that both commands and the tests
// build exactly the same thing: a node:https server made with the session cache's serverOptions()
// and attached to it, the cache opened by openSessionCache() on the store chosen by --store.
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type tls from 'node:tls';
import type { SessionCache } from '../cache/index.js';
import type { Attachment } from '../node/index.js';
import { openSessionCache } from '../front-door/open-session-cache.js';
import type { SessionService } from '../front-door/session-service.js';
import type { ResumptionMode } from '../front-door/options.js';
import type { StoreLatencyRecorder } from '../metrics/store-latency.js';
import type { StoreAdapter } from '../stores/cache-adapter.js';
import type { Keyring } from '../stores/encryption/keyring.js';
import type { SessionStore } from '../stores/store.js';
import type { StoreUrl } from '../stores/store-url.js';

/** Which TLS versions the server offers. */
export type TlsChoice = '1.2' | '1.3' | 'both';

/** Every value of {@link TlsChoice}, for option parsing and help. */
export const TLS_CHOICES: readonly TlsChoice[] = ['1.2', '1.3', 'both'];

/** Options of {@link startHttpsServer}. */
export interface HttpsServerOptions {
  /**
   * Address to listen on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Port to listen on; `0` lets the system choose a free one ({@link RunningHttpsServer.port} tells which).
   * @default 0
   */
  port?: number;
  /**
   * TLS versions offered: `'1.2'` only, `'1.3'` only, or both.
   * @default 'both'
   */
  tls?: TlsChoice;
  /** Certificate (PEM). With {@link key}; when both are absent a self-signed one is made. */
  cert?: string | Buffer;
  /** Private key (PEM) of {@link cert}. */
  key?: string | Buffer;
  /**
   * Where sessions are kept: a parsed `--store` value (opened here), or a store already open. The
   * server owns it either way and closes it in {@link RunningHttpsServer.close}, or when starting
   * fails.
   * @default { kind: 'memory' }
   */
  store?: StoreUrl | SessionStore;
  /** See `OpenSessionCacheOptions.tenant`. */
  tenant?: string;
  /** See `OpenSessionCacheOptions.sessionIdContext`. */
  sessionIdContext?: string;
  /** See `OpenSessionCacheOptions.timeout`. */
  timeout?: number;
  /** See `OpenSessionCacheOptions.lookupDeadlineMs`. */
  lookupDeadlineMs?: number;
  /** A keyring (`--key-file`); see `OpenSessionCacheOptions.encryption`. */
  encryption?: Keyring | undefined;
  /**
   * Times the store's calls (for `serve --metrics-port`): the cache then uses the store through
   * `storeLatency.wrap(store)` (`OpenSessionCacheOptions.wrapStore`).
   * @default undefined (not timed)
   */
  storeLatency?: StoreLatencyRecorder | undefined;
  /** See `OpenSessionCacheOptions.mode`. */
  mode?: ResumptionMode;
  /** See `OpenSessionCacheOptions.rotateEveryMs` (tickets mode). */
  rotateEveryMs?: number;
  /** See `OpenSessionCacheOptions.acceptForMs` (tickets mode). */
  acceptForMs?: number;
}

/** A listening server made by {@link startHttpsServer}. */
export interface RunningHttpsServer {
  /** `https://HOST:PORT` with the real port (an IPv6 host in brackets). */
  readonly url: string;
  /** The host it listens on, as given. */
  readonly host: string;
  /** The port it listens on. */
  readonly port: number;
  /** The certificate it presents (PEM): the trust anchor for clients when it is self-signed. */
  readonly cert: string;
  /** Whether {@link cert} was generated rather than given. */
  readonly selfSigned: boolean;
  /** The node:https server. */
  readonly server: https.Server;
  /** The session cache, store and attachments, as openSessionCache() assembled them. */
  readonly sessions: SessionService;
  /** The session cache it resumes from (`sessions.cache`). */
  readonly cache: SessionCache;
  /** The store behind the cache (its external cache; `sessions.store`). */
  readonly store: SessionStore;
  /** The callbacks joining the store to the cache, with their counters (`sessions.adapter`). */
  readonly storeAdapter: StoreAdapter;
  /** The wiring between the two. */
  readonly attachment: Attachment;
  /**
   * Stops listening, closes idle connections at once, gives requests in flight `graceMs` to
   * finish, destroys what is left, then closes the session cache (`sessions.close()`: cache,
   * pending store writes, store). Idempotent: later calls return the same promise.
   */
  close(graceMs?: number): Promise<void>;
}

/** How long {@link RunningHttpsServer.close} lets requests in flight finish by default, in ms. */
export const DEFAULT_CLOSE_GRACE_MS = 1000;

/**
 * Starts an HTTPS server that resumes TLS 1.2 session ids and TLS 1.3 stateful tickets through a
 * {@link SessionCache}, and answers every request with `ok`, the protocol and whether the session
 * was resumed (one `name: value` per line), which lets tests and people see resumption at work.
 *
 * @throws TypeError/RangeError for invalid options; the `listen` error (e.g. `EADDRINUSE`).
 * @example
 * ```ts
 * const running = await startHttpsServer({ port: 0, tls: '1.3' });
 * console.log(running.url);
 * await running.close();
 * ```
 */
export async function startHttpsServer(
  options: HttpsServerOptions = {},
): Promise<RunningHttpsServer> {
  const choice = options.tls ?? 'both';
  if (!TLS_CHOICES.includes(choice)) {
    throw new TypeError(`tls must be one of ${TLS_CHOICES.join(', ')}`);
  }
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new TypeError('cert and key must be given together');
  }
  const { storeLatency } = options;
  // Owns the store from here on: closes it in close(), or below when starting fails.
  const sessions = await openSessionCache({
    store: options.store ?? 'memory',
    ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
    ...(options.sessionIdContext === undefined
      ? {}
      : { sessionIdContext: options.sessionIdContext }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.lookupDeadlineMs === undefined
      ? {}
      : { lookupDeadlineMs: options.lookupDeadlineMs }),
    ...(options.encryption === undefined ? {} : { encryption: options.encryption }),
    ...(options.mode === undefined ? {} : { mode: options.mode }),
    ...(options.rotateEveryMs === undefined ? {} : { rotateEveryMs: options.rotateEveryMs }),
    ...(options.acceptForMs === undefined ? {} : { acceptForMs: options.acceptForMs }),
    ...(storeLatency === undefined ? {} : { wrapStore: (store) => storeLatency.wrap(store) }),
  });
  try {
    return await listenWith(options, sessions);
  } catch (error) {
    await sessions.close().catch(() => undefined);
    throw error;
  }
}

async function listenWith(
  options: HttpsServerOptions,
  sessions: SessionService,
): Promise<RunningHttpsServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const choice = options.tls ?? 'both';
  const pair =
    options.cert !== undefined && options.key !== undefined
      ? { cert: options.cert.toString(), key: options.key }
      : // Loaded only when needed: the certificate library takes ~0.3–0.7 s to load, which every
        // other command (stats, list, …) would pay at start-up.
        await (await import('./self-signed.js')).generateSelfSigned();

  const server = https.createServer(
    { cert: pair.cert, key: pair.key, ...versionsOf(choice), ...sessions.serverOptions() },
    (req, res) => {
      const socket = req.socket as tls.TLSSocket;
      const body = [
        'ok',
        `protocol: ${socket.getProtocol() ?? 'unknown'}`,
        `resumed: ${socket.isSessionReused() ? 'yes' : 'no'}`,
        '',
      ].join('\n');
      res.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    },
  );
  // A client that gives up mid-handshake is routine for a test server, not worth a crash or a log.
  server.on('tlsClientError', () => undefined);
  const attachment = sessions.attach(server);

  // Raw TCP sockets, tracked from accept: http only learns of a connection once its handshake is
  // done, so close() could otherwise wait on one still reading its ClientHello. Added after attach()
  // so it sees sockets at once rather than after attach() hands them over.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const actualPort = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = (graceMs = DEFAULT_CLOSE_GRACE_MS): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      // Never the reason the process stays alive: if nothing else is open, close has finished.
      timer.unref();
      server.close(() => {
        clearTimeout(timer);
        // Detach, close the cache, let pending writes land, close the store. A store that fails to
        // close has nothing left to lose, so close() still resolves.
        sessions.close().then(resolve, () => resolve());
      });
      server.closeIdleConnections();
    });
    return closing;
  };

  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    host,
    port: actualPort,
    cert: pair.cert,
    selfSigned: options.cert === undefined,
    server,
    sessions,
    cache: sessions.cache,
    store: sessions.store,
    storeAdapter: sessions.adapter,
    attachment,
    close,
  };
}

/** The minVersion/maxVersion pair for a {@link TlsChoice}. */
function versionsOf(choice: TlsChoice): Pick<tls.TlsOptions, 'minVersion' | 'maxVersion'> {
  switch (choice) {
    case '1.2':
      return { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
    case '1.3':
      return { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };
    case 'both':
      return { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' };
  }
}
