// An https.Agent whose TLS sessions come from a ClientSessionCache.
//
// What it relies on in Node's https.Agent (lib/https.js and lib/_http_agent.js, Node 20–24):
// - the agent calls `createConnection(options, callback)` for every new socket, with the request's
//   options merged with the agent's (host, port, servername already computed, every TLS option);
//   a returned socket is used at once, otherwise the agent waits for `callback(err, socket)`;
// - the agent emits `free` on itself with (socket, options) when a request finished on a socket.
// Node's own per-agent session cache lives in `_getSession`/`_cacheSession`/`_evictSession`, which
// only Node's `createConnection` calls: overriding `createConnection` bypasses it entirely (and
// `maxCachedSessions: 0` turns it off in case another code path reaches it). Nothing else private
// is used.
import type { Duplex } from 'node:stream';
import https from 'node:https';
import tls from 'node:tls';
import { isPromiseLike } from '../common/validate.js';
import type { ClientSessionCache } from './client-session-cache.js';
import { originKeyOf, type OriginOptions } from './origin-key.js';

/** Options of {@link SessionCachingAgent}: `https.AgentOptions` plus the cache. */
export interface SessionCachingAgentOptions extends https.AgentOptions {
  /** Where this agent's TLS sessions come from and go to (several agents may share one). */
  sessionCache: ClientSessionCache;
}

/**
 * An `https.Agent` that offers sessions from a {@link ClientSessionCache} (each TLS 1.3 ticket once,
 * so concurrent connections use different tickets) and keeps the sessions its connections are
 * given, instead of Node's per-agent cache (one session per origin, the last ticket overwriting
 * the others, gone with the process).
 *
 * @example
 * ```ts
 * const agent = new SessionCachingAgent({ keepAlive: true, sessionCache: cache });
 * https.get('https://api.example.com/', { agent }, (res) => res.resume());
 * ```
 */
export class SessionCachingAgent extends https.Agent {
  /** The cache this agent uses. */
  readonly sessionCache: ClientSessionCache;

  /** @param options - `https.AgentOptions` and `sessionCache` */
  constructor(options: SessionCachingAgentOptions) {
    if (typeof options !== 'object' || options === null || options.sessionCache === undefined) {
      throw new TypeError('options.sessionCache must be a ClientSessionCache');
    }
    const { sessionCache, ...agentOptions } = options;
    super({ ...agentOptions, maxCachedSessions: 0 });
    this.sessionCache = sessionCache;
    // A request completed on this socket: the connection is healthy, its held-back sessions may go.
    this.on('free', (socket: Duplex) => {
      if (socket instanceof tls.TLSSocket) sessionCache.release(socket);
    });
  }

  /** Connects with a cached session offered; see the module comment for what Node calls. */
  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const tlsOptions = options as tls.ConnectionOptions & OriginOptions;
    const key = originKeyOf(tlsOptions);
    const open = (session: Buffer | undefined): tls.TLSSocket => {
      const socket = tls.connect(session === undefined ? tlsOptions : { ...tlsOptions, session });
      this.sessionCache.watch(socket, key);
      return socket;
    };
    if (tlsOptions.session !== undefined) return open(undefined);
    const found = this.sessionCache.lookup(key);
    if (!isPromiseLike(found)) return open(found);
    void Promise.resolve(found).then((session) => {
      let socket: tls.TLSSocket;
      try {
        socket = open(session);
      } catch (error) {
        callback?.(error as Error, undefined as unknown as Duplex);
        return;
      }
      callback?.(null, socket);
    });
    return undefined;
  }
}
