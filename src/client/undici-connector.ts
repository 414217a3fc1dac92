// A connector for undici (`new Agent({ connect })`), and so for Node's global `fetch` through a
// `dispatcher`, that takes its TLS sessions from a ClientSessionCache.
//
// undici's own connector keeps one session per server name (the port is ignored), in a map whose
// entries vanish at every garbage collection, offers the same TLS 1.3 ticket to every connection
// and keeps nothing across processes. This one does what undici's `buildConnector` does to a
// socket — `tls.connect` with undici's ALPN list, `setNoDelay`, TCP keep-alive (60 s), a connect
// timeout (10 s), callback on `secureConnect` or on the first error — and asks the cache for the
// session. It imports nothing from undici: the connector contract is a plain function.
import net from 'node:net';
import tls from 'node:tls';
import { checkInteger, isPromiseLike } from '../common/validate.js';
import type { ClientSessionCache } from './client-session-cache.js';
import { originKeyOf } from './origin-key.js';

/** What undici passes to a connector (undici's `buildConnector.Options`). */
export interface UndiciConnectOptions {
  /** The host to connect to (name or IP address, IPv6 without brackets). */
  hostname: string;
  /** The origin's `host` (name and port); the SNI name comes from it when `servername` is absent. */
  host?: string;
  /** `"https:"` for TLS; anything else gets a plain TCP socket. */
  protocol: string;
  /** The port; empty or absent means 443 for `https:`, 80 otherwise. */
  port: string | number;
  /** The SNI name to send; wins over the connector's own `servername` option. */
  servername?: string;
  /** The local address to bind to. */
  localAddress?: string | null;
  /** An established socket (e.g. a proxy tunnel) to run TLS over instead of connecting. */
  httpSocket?: net.Socket;
}

/** undici's connector callback. */
export type UndiciConnectCallback = (
  ...args: [null, net.Socket | tls.TLSSocket] | [Error, null]
) => void;

/** A connector function for `new undici.Agent({ connect })`. */
export type UndiciConnector = (
  options: UndiciConnectOptions,
  callback: UndiciConnectCallback,
) => void;

/** Options of {@link undiciConnector}: `tls.connect` options for every connection, plus undici's. */
export interface UndiciConnectorOptions extends tls.ConnectionOptions {
  /** Offer HTTP/2 by ALPN, as undici's `allowH2`. @default false */
  allowH2?: boolean;
  /** Connect timeout in ms, TLS handshake included; 0 for none. @default 10000 */
  timeout?: number;
  /** TCP keep-alive. @default true */
  keepAlive?: boolean;
  /** TCP keep-alive initial delay, ms. @default 60000 */
  keepAliveInitialDelay?: number;
}

/**
 * A connector for undici's `Agent` (and so for global `fetch`) that offers sessions from `cache` and
 * keeps the sessions its connections are given.
 *
 * @example
 * ```ts
 * import { Agent } from 'undici';
 * const dispatcher = new Agent({ connect: undiciConnector(cache) });
 * const response = await fetch('https://api.example.com/', { dispatcher });
 * ```
 */
export function undiciConnector(
  cache: ClientSessionCache,
  options: UndiciConnectorOptions = {},
): UndiciConnector {
  if (typeof cache !== 'object' || cache === null || typeof cache.lookup !== 'function') {
    throw new TypeError('cache must be a ClientSessionCache');
  }
  const {
    allowH2 = false,
    timeout = 10_000,
    keepAlive = true,
    keepAliveInitialDelay = 60_000,
    ...tlsOptions
  } = options;
  checkInteger('timeout', timeout, 0, 2 ** 31 - 1);
  const alpn = allowH2 ? ['http/1.1', 'h2'] : ['http/1.1'];

  return function connect(opts, callback) {
    let done = false;
    const finish: UndiciConnectCallback = (...args) => {
      if (done) return;
      done = true;
      callback(...args);
    };
    const setUp = (socket: net.Socket, event: 'secureConnect' | 'connect'): void => {
      if (keepAlive) socket.setKeepAlive(true, keepAliveInitialDelay);
      socket.setNoDelay(true);
      const timer =
        timeout > 0
          ? setTimeout(() => {
              const error = Object.assign(new Error(`connect timeout after ${timeout} ms`), {
                code: 'UND_ERR_CONNECT_TIMEOUT',
              });
              socket.destroy(error);
            }, timeout)
          : undefined;
      timer?.unref();
      socket.once(event, () => {
        clearTimeout(timer);
        finish(null, socket);
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        finish(error, null);
      });
    };

    if (opts.protocol !== 'https:') {
      const socket = net.connect({
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        port: Number(opts.port) || 80,
        host: opts.hostname,
      });
      setUp(socket, 'connect');
      return;
    }

    const servername =
      opts.servername || tlsOptions.servername || serverNameOf(opts.host ?? opts.hostname) || '';
    const connectOptions: tls.ConnectionOptions = {
      ...tlsOptions,
      servername,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      ALPNProtocols: alpn,
      ...(opts.httpSocket ? { socket: opts.httpSocket } : {}),
      port: Number(opts.port) || 443,
      host: opts.hostname,
    };
    let key;
    try {
      key = originKeyOf(connectOptions);
    } catch (error) {
      finish(error as Error, null);
      return;
    }
    const open = (session: Buffer | undefined): void => {
      let socket: tls.TLSSocket;
      try {
        socket = tls.connect(
          session === undefined ? connectOptions : { ...connectOptions, session },
        );
      } catch (error) {
        finish(error as Error, null);
        return;
      }
      cache.watch(socket, key);
      setUp(socket, 'secureConnect');
    };
    if (tlsOptions.session !== undefined) return open(undefined);
    const found = cache.lookup(key);
    if (isPromiseLike(found)) void Promise.resolve(found).then(open);
    else open(found);
  };
}

// undici's util.getServerName: the host without its port; no SNI for an IP address.
function serverNameOf(host: string): string | undefined {
  let name = host;
  if (name.startsWith('[')) {
    const end = name.indexOf(']');
    name = end < 0 ? name : name.slice(1, end);
  } else {
    const colon = name.indexOf(':');
    if (colon >= 0) name = name.slice(0, colon);
  }
  return name === '' || net.isIP(name) !== 0 ? undefined : name;
}
