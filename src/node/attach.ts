import { errorMonitor, type EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { booleanOption, checkInteger } from '../common/validate.js';
import type { SessionCache } from '../cache/session-cache.js';
import type { CachedSession, LookupResult } from '../cache/types.js';
import type { ClientHelloInfo } from '../wire/client-hello.js';
import {
  DEFAULT_HELLO_MAX_BYTES,
  DEFAULT_HELLO_TIMEOUT_MS,
  readClientHello,
} from '../wire/hello-reader.js';
import { currentRawSocket } from './current-connection.js';
import { checkTenant, namespaceOf } from './namespace.js';
import {
  TLS1_3_VERSION,
  hasSessionIdContext,
  isSessionRecord,
  sessionRecordFromDer,
} from '../session/session-record.js';
import { emptyAttachmentStats, type AttachmentStats } from './attachment-stats.js';
import { checkAttachArguments } from './check-server.js';
import { channels, type RejectReason } from '../cache/events.js';
import type { TicketKeys } from './ticket-keys.js';

/** Options of {@link attach}. */
export interface AttachOptions {
  /**
   * A tenant name: sessions are resumed only by servers attached with the same tenant (and the
   * same session id context). Letters, digits, `.`, `_`, `-`; at most 64.
   * @default ''
   */
  tenant?: string;
  /**
   * Read each ClientHello before Node does, to learn the TLS 1.3 PSK identity (the id of a stateful
   * TLS 1.3 session), the SNI and the client's versions. Without it only TLS 1.2 sessions resume.
   * @default true
   */
  readClientHello?: boolean;
  /**
   * How long the ClientHello reader waits for a complete ClientHello before handing the connection
   * to Node untouched, in ms. Node's own `handshakeTimeout` applies afterwards.
   * @default 10000
   */
  helloTimeoutMs?: number;
  /**
   * Most bytes the ClientHello reader buffers before handing the connection over untouched.
   * @default 65536
   */
  helloMaxBytes?: number;
  /**
   * Resume a TLS 1.2 session only if it used the extended master secret (RFC 7627), and only if the
   * client offers it again (OpenSSL aborts a handshake that resumes an EMS session without EMS).
   * @default true
   */
  requireExtendedMasterSecret?: boolean;
  /**
   * Resume a session only if the ClientHello's SNI equals the session's (RFC 8446 §4.6.1; sessions
   * must not cross virtual hosts). Compared case-insensitively; absent equals absent.
   * @default true
   */
  requireServerNameMatch?: boolean;
  /**
   * Tickets mode: stateless tickets under keys shared through the store (see `openTicketKeys`).
   * The server must be made with `ticketServerOptions()`. TLS 1.3 sessions are then the tickets
   * themselves and are not stored; TLS 1.2 clients without ticket support still resume session
   * ids through the cache. With single use on, each ClientHello is screened by the ticket keys
   * before Node sees it.
   * @default undefined (stateful mode)
   */
  tickets?: TicketKeys;
}

/** A cache attached to a server; see {@link attach}. */
export interface Attachment {
  /** The server. */
  readonly server: tls.Server;
  /** The cache. */
  readonly cache: SessionCache;
  /** The namespace this server's sessions live in: tenant and session id context. */
  readonly namespace: string;
  /** The wiring's own counters (the cache has its statistics in `cache.stats()`). */
  stats(): AttachmentStats;
  /** Undoes {@link attach}: the server's listeners are as before; cached sessions stay. */
  detach(): void;
}

interface ConnectionState {
  hello: ClientHelloInfo | undefined;
  /** The id of the connection's current session, removed if the connection fails fatally. */
  sessionId: Uint8Array | undefined;
}

type ConnectionListener = (this: tls.Server, socket: Socket) => void;
type ResumeCallback = (err: Error | null, data?: Buffer | null) => void;

const ATTACHED = Symbol.for('tls-session-cache.attached');

/**
 * Wires a {@link SessionCache} to a `tls.Server`, `https.Server` or `http2` secure server so that it
 * resumes TLS 1.2 session ids and TLS 1.3 stateful tickets through the cache. Create the server with
 * {@link statefulServerOptions} and attach before it accepts connections; the server's own
 * `secureConnection` / `request` handlers keep working unchanged.
 *
 * What it does: it stores every session Node announces (`newSession`, answered at once), answers
 * `resumeSession` from the cache (never with an error: a store failure is a full handshake), and —
 * for TLS 1.3, where Node only offers the random legacy session id — reads each ClientHello before
 * Node does to learn the PSK identity, then puts the bytes back.
 *
 * @throws TypeError if `server` is not a TLS server, issues stateless tickets (made without
 * {@link statefulServerOptions}), already has `newSession`/`resumeSession` listeners, or is already
 * attached; if `cache` is not a `SessionCache`; for an unknown option key; TypeError/RangeError for
 * invalid option values.
 */
export function attach(
  server: tls.Server,
  cache: SessionCache,
  options: AttachOptions = {},
): Attachment {
  checkAttachArguments(server, cache, options);
  if ((server as unknown as Record<symbol, unknown>)[ATTACHED] === true) {
    throw new TypeError('server is already attached to a session cache; detach() it first');
  }
  for (const event of ['newSession', 'resumeSession'] as const) {
    if (server.listenerCount(event) > 0) {
      throw new TypeError(`server already has a '${event}' listener; Node calls only one`);
    }
  }
  const tenant = checkTenant(options.tenant ?? '');
  const readHello = booleanOption('readClientHello', options.readClientHello, true);
  const helloTimeoutMs = checkInteger(
    'helloTimeoutMs',
    options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS,
    1,
    2 ** 31 - 1,
  );
  const helloMaxBytes = checkInteger(
    'helloMaxBytes',
    options.helloMaxBytes ?? DEFAULT_HELLO_MAX_BYTES,
    512,
    2 ** 24,
  );
  const requireEms = booleanOption(
    'requireExtendedMasterSecret',
    options.requireExtendedMasterSecret,
    true,
  );
  const requireSni = booleanOption('requireServerNameMatch', options.requireServerNameMatch, true);

  const tickets = options.tickets;
  if (tickets !== undefined && tickets.singleUse && !readHello) {
    throw new TypeError('tickets with singleUse need readClientHello: true');
  }

  const stats = emptyAttachmentStats();
  const connections = new WeakMap<Socket, ConnectionState>();
  // The session id context can change with setSecureContext(); read it per use, cache the bytes.
  let sidCtxSource: string | undefined;
  let sidCtxBytes: Buffer = Buffer.alloc(0);
  let sidCtxLatin1 = '';
  let namespace = '';
  const refreshContext = (): string => {
    const current = String((server as { sessionIdContext?: unknown }).sessionIdContext ?? '');
    if (current !== sidCtxSource) {
      sidCtxSource = current;
      sidCtxBytes = Buffer.from(current, 'utf8');
      sidCtxLatin1 = sidCtxBytes.toString('latin1');
      namespace = namespaceOf(tenant, sidCtxBytes);
    }
    return namespace;
  };
  refreshContext();

  const stateOfCurrent = (): ConnectionState | undefined => {
    const raw = currentRawSocket();
    return raw === undefined ? undefined : connections.get(raw);
  };

  // --- connections: read the ClientHello, then hand the socket to Node's own listeners ------------
  const saved = server.listeners('connection') as ConnectionListener[];
  const handOver = (socket: Socket): void => {
    for (const listener of saved) listener.call(server, socket);
  };
  const onConnection = (socket: Socket): void => {
    stats.connections++;
    cache.handshakeStarted();
    const state: ConnectionState = { hello: undefined, sessionId: undefined };
    connections.set(socket, state);
    if (!readHello) {
      handOver(socket);
      return;
    }
    readClientHello(socket, { maxBytes: helloMaxBytes, timeoutMs: helloTimeoutMs }).then(
      (result) => {
        if (result.kind === 'closed') {
          stats.helloClosed++;
          return;
        }
        if (result.kind === 'hello') {
          stats.helloParsed++;
          if (result.merged) stats.helloMerged++;
          state.hello = result.hello;
          noteHello(result.hello);
          // Tickets mode keeps its logic in ticket-keys.ts; the connection waits for its verdict.
          const screened = tickets?.screenHello(
            result.hello,
            offersTls13(result.hello) && serverMayUseTls13(server),
          );
          if (screened !== undefined) {
            screened.then(
              () => {
                if (!socket.destroyed) handOver(socket);
              },
              () => undefined,
            );
            return;
          }
        } else {
          stats.helloPassthrough++;
        }
        handOver(socket);
      },
      () => {
        // readClientHello never rejects; if it ever did, Node still gets the socket.
        handOver(socket);
      },
    );
  };
  const noteHello = (hello: ClientHelloInfo): void => {
    if (
      hello.preSharedKey !== undefined &&
      hello.legacySessionId.length === 0 &&
      offersTls13(hello)
    ) {
      // Node emits resumeSession only for a non-empty legacy session id, so a client that turned
      // middlebox compatibility off cannot be resumed statefully by Node. Counted, not fixable here:
      // changing the hello would break the handshake transcript.
      stats.tls13NoLegacySessionId++;
    }
  };

  // --- newSession: store, and answer at once -------------------------------------------------------
  const onNewSession = (_id: Buffer, data: Buffer, done: () => void): void => {
    // A pending callback holds back all of the connection's output; never make Node wait.
    done();
    const state = stateOfCurrent();
    let record: ReturnType<typeof sessionRecordFromDer>;
    try {
      // Node hands each event a fresh Buffer, so the record may keep it without a copy.
      record = sessionRecordFromDer(data, refreshContext(), state?.hello?.serverName);
    } catch {
      stats.decodeErrors++;
      return;
    }
    // Tickets mode: a TLS 1.3 session is its ticket; nothing to store.
    if (tickets !== undefined && record.protocolVersion === TLS1_3_VERSION) return;
    if (state !== undefined) state.sessionId = record.id;
    cache.sessionNegotiated(record);
  };

  // --- resumeSession: find exactly the offered session, or answer "none" ---------------------------
  const onResumeSession = (legacyId: Buffer, callback: ResumeCallback): void => {
    const state = stateOfCurrent();
    let id: Uint8Array = legacyId;
    let answered = false;
    const answer = (result: LookupResult | undefined): void => {
      if (answered) return;
      answered = true;
      const session = result?.session;
      // The id looked up: the cache answers only with a session of exactly that id.
      if (session !== undefined && state !== undefined) state.sessionId = id;
      try {
        callback(null, session === undefined ? null : asBuffer(session.data));
      } catch {
        // The connection went away meanwhile; Node reports that itself.
      }
    };
    const hello = state?.hello;
    let tls13 = false;
    if (hello !== undefined && offersTls13(hello) && serverMayUseTls13(server)) {
      const psk = hello.preSharedKey?.identities[0];
      // A TLS 1.3 handshake resumes only through a PSK; the legacy id is then random.
      // Tickets mode: the PSK is a stateless ticket, which the key callback handles.
      if (psk === undefined || tickets !== undefined) return answer(undefined);
      id = psk.identity;
      tls13 = true;
    }
    const ns = refreshContext();
    const accept = (session: CachedSession): boolean => {
      const reason = refusal(session);
      if (reason === undefined) return true;
      stats.rejected++;
      if (reason === 'protocol') stats.rejectedProtocol++;
      else if (reason === 'session-id-context') stats.rejectedSessionIdContext++;
      else if (reason === 'host-name') stats.rejectedHostName++;
      else if (reason === 'extended-master-secret') stats.rejectedExtendedMasterSecret++;
      if (channels.rejected.hasSubscribers) {
        channels.rejected.publish({ namespace: ns, id, reason });
      }
      return false;
    };
    const refusal = (session: CachedSession): RejectReason | undefined => {
      if (!isSessionRecord(session)) return 'decode';
      if ((session.protocolVersion === TLS1_3_VERSION) !== tls13) return 'protocol';
      if (!hasSessionIdContext(session, sidCtxBytes, sidCtxLatin1)) return 'session-id-context';
      if (
        hello !== undefined &&
        requireSni &&
        (hello.serverName?.toLowerCase() ?? undefined) !== session.hostName
      ) {
        return 'host-name';
      }
      if (!tls13 && requireEms) {
        if (!session.extendedMasterSecret) return 'extended-master-secret';
        if (hello !== undefined && !hello.extendedMasterSecret) return 'extended-master-secret';
      }
      return undefined;
    };
    let result: LookupResult | Promise<LookupResult>;
    try {
      result = cache.lookup(id, { singleUse: tls13, accept, namespace: ns });
    } catch {
      return answer(undefined);
    }
    if (result instanceof Promise) result.then(answer, () => answer(undefined));
    else answer(result);
  };

  // --- completed handshakes and fatal errors -------------------------------------------------------
  const onSecureConnection = (socket: tls.TLSSocket): void => {
    stats.handshakes++;
    cache.handshakeCompleted();
    if (socket.isSessionReused()) {
      stats.resumed++;
      if (socket.getProtocol() === 'TLSv1.3') stats.resumedTls13++;
    }
    const raw = (socket as unknown as { _parent?: Socket })._parent;
    const state = raw === undefined ? undefined : connections.get(raw);
    // errorMonitor observes errors without handling them, so an application without an 'error'
    // listener behaves exactly as before.
    (socket as EventEmitter).on(errorMonitor, (error: unknown) => {
      const id = state?.sessionId;
      // A connection the server already ended counts as shut down cleanly (OpenSSL keeps a session
      // once it has sent close_notify). Node's end() can put the FIN before close_notify, and OpenSSL
      // 3 clients answer that with a decode_error alert; that is no reason to distrust the session.
      if (id !== undefined && !socket.writableEnded && isFatalTlsError(error)) {
        stats.badSessionsRemoved++;
        cache.removeBad(id, refreshContext());
      }
    });
  };

  const detachTickets = tickets?.attachTo(server);
  server.removeAllListeners('connection');
  server.on('connection', onConnection);
  server.on('newSession', onNewSession);
  server.on('resumeSession', onResumeSession);
  server.on('secureConnection', onSecureConnection);
  (server as unknown as Record<symbol, unknown>)[ATTACHED] = true;

  let attached = true;
  return {
    server,
    cache,
    get namespace() {
      return refreshContext();
    },
    stats: () => ({ ...stats }),
    detach() {
      if (!attached) return;
      attached = false;
      const later = (server.listeners('connection') as ConnectionListener[]).filter(
        (l) => l !== onConnection,
      );
      server.removeAllListeners('connection');
      for (const listener of [...saved, ...later]) server.on('connection', listener);
      server.off('newSession', onNewSession);
      server.off('resumeSession', onResumeSession);
      server.off('secureConnection', onSecureConnection);
      detachTickets?.();
      delete (server as unknown as Record<symbol, unknown>)[ATTACHED];
    },
  };
}

function offersTls13(hello: ClientHelloInfo): boolean {
  return hello.supportedVersions?.includes(TLS1_3_VERSION) === true;
}

const VERSION_RANK: Record<string, number> = { TLSv1: 1, 'TLSv1.1': 2, 'TLSv1.2': 3, 'TLSv1.3': 4 };

/** Whether the server may negotiate TLS 1.3 (its `maxVersion`, else Node's default). */
function serverMayUseTls13(server: tls.Server): boolean {
  const max = (server as { maxVersion?: string }).maxVersion ?? tls.DEFAULT_MAX_VERSION;
  return (VERSION_RANK[max] ?? 4) >= 4;
}

/** A TLS-layer failure (bad record MAC, decrypt error, alert), not a TCP reset or a timeout. */
function isFatalTlsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, library } = error as { code?: unknown; library?: unknown };
  return library === 'SSL routines' || (typeof code === 'string' && code.startsWith('ERR_SSL_'));
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
