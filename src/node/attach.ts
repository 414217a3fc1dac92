import { errorMonitor, type EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { booleanOption, checkInteger } from '../common/validate.js';
import type { SessionCache } from '../cache/session-cache.js';
import type { CachedSession, LookupResult } from '../cache/types.js';
import { HelloFields, scanClientHello } from '../wire/hello-fields.js';
import {
  DEFAULT_HELLO_MAX_BYTES,
  DEFAULT_HELLO_TIMEOUT_MS,
  readClientHello,
  type ReadClientHelloResult,
} from '../wire/hello-reader.js';
import { CONTENT_TYPE_HANDSHAKE, TLS_MAX_FRAGMENT_LENGTH } from '../wire/tls-record.js';
import { HELLO_HOOK, installHelloHook, type HelloHook } from './client-hello-hook.js';
import { userBufferReads } from './first-bytes.js';
import { serverKeyShareGroups } from './key-share-groups.js';
import { currentRawSocket } from './current-connection.js';
import { checkTenant, namespaceOf } from './namespace.js';
import {
  TLS1_3_VERSION,
  hasSessionIdContext,
  isSessionRecord,
  sessionRecordFromDer,
} from '../session/session-record.js';
import { emptyAttachmentStats, type AttachmentStats } from './attachment-stats.js';
import { channels, type RejectReason } from '../cache/events.js';
import { checkAttachArguments } from './check-server.js';
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
   * Resume a TLS 1.2 session only if it used the extended master secret (RFC 7627). A client that
   * offers an EMS session without offering EMS again gets what RFC 7627 §5.3 and OpenSSL's own
   * `s_server` give it, whatever this option says: OpenSSL aborts the handshake with a fatal
   * `handshake_failure` alert.
   * @default true
   */
  requireExtendedMasterSecret?: boolean;
  /**
   * Resume a session only if the ClientHello's SNI equals the session's (RFC 8446 §4.6.1; sessions
   * must not cross virtual hosts). Compared case-insensitively and without a trailing dot
   * (`localhost.` and `localhost` are one DNS name); absent equals absent.
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
  /**
   * Whether sessions are looked up in Node's own ClientHello hook (see `client-hello-hook.ts`):
   * true where Node's internals passed the feature test. False means the `resumeSession` event is
   * used, and TLS 1.3 clients with an empty legacy session id cannot resume.
   */
  readonly helloHook: boolean;
  /** The wiring's own counters (the cache has its statistics in `cache.stats()`). */
  stats(): AttachmentStats;
  /** Undoes {@link attach}: the server's listeners are as before; cached sessions stay. */
  detach(): void;
}

/** What the wiring knows about one TCP connection, from accept to its end. */
class ConnectionState {
  /** The ClientHello's fields, once read; `undefined` when it was not (passthrough, no reader). */
  fields: HelloFields | undefined = undefined;
  /** The id of the connection's current session, removed if the connection fails fatally. */
  sessionId: Uint8Array | undefined = undefined;
  /** A TLS 1.3 session was taken from the cache for this connection. */
  tookTls13 = false;
  /** The reader's give-up timer. */
  timer: NodeJS.Timeout | undefined = undefined;
  /** The first read was seen (reads through the shared buffer: later ones go to the stream). */
  firstRead = false;
}

type ConnectionListener = (this: tls.Server, socket: Socket) => void;
type ResumeCallback = (err: Error | null, data?: Buffer | null) => void;
type Lookup = LookupResult | Promise<LookupResult> | undefined;

const ATTACHED = Symbol.for('tls-session-cache.attached');

/**
 * Wires a {@link SessionCache} to a `tls.Server`, `https.Server` or `http2` secure server so that it
 * resumes TLS 1.2 session ids and TLS 1.3 stateful tickets through the cache. Create the server with
 * {@link statefulServerOptions} and attach before it accepts connections; the server's own
 * `secureConnection` / `request` handlers keep working unchanged.
 *
 * What it does: it stores every session Node announces (`newSession`, answered at once), and
 * answers Node's session lookup from the cache (never with an error: a store failure is a full
 * handshake). For TLS 1.3, where Node only offers the random legacy session id, it reads each
 * ClientHello before Node does to learn the PSK identity, then puts the bytes back. Where Node's
 * internals allow it (see `client-hello-hook.ts`), the lookup runs in Node's own ClientHello hook,
 * so that TLS 1.3 clients with an empty legacy session id resume too; otherwise in `resumeSession`.
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
  const userReads = readHello ? userBufferReads() : undefined;
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
  const stateOfTls = (socket: tls.TLSSocket): ConnectionState | undefined => {
    const raw = (socket as unknown as { _parent?: Socket })._parent;
    return raw === undefined ? undefined : connections.get(raw);
  };

  // --- connections: read the ClientHello, then hand the socket to Node's own listeners ------------
  // Every listener below is made once per attach() and shared by all connections (`this` is the
  // socket); the per-connection cost is one ConnectionState, one HelloFields and a timer.
  const saved = server.listeners('connection') as ConnectionListener[];
  const handOver = (socket: Socket): void => {
    for (const listener of saved) listener.call(server, socket);
  };
  const stopWaiting = (socket: Socket, state: ConnectionState): void => {
    if (state.timer !== undefined) clearTimeout(state.timer);
    state.timer = undefined;
    socket.removeListener('data', onFirstData);
    socket.removeListener('error', onWaitingError);
    socket.removeListener('close', onWaitingClose);
  };
  const onConnection = (socket: Socket): void => {
    stats.connections++;
    cache.handshakeStarted();
    const state = new ConnectionState();
    connections.set(socket, state);
    if (!readHello) {
      handOver(socket);
      return;
    }
    if (socket.readableEncoding !== null) {
      stats.helloPassthrough++;
      handOver(socket);
      return;
    }
    socket.on('error', onWaitingError);
    socket.on('close', onWaitingClose);
    if (userReads !== undefined && userReads.start(socket, onFirstBytes)) {
      stats.helloSharedBuffer++;
    } else {
      // Adding a 'data' listener starts the flow (unless someone paused the socket on purpose).
      socket.on('data', onFirstData);
      if (socket.readableFlowing !== true) socket.resume();
    }
    state.timer = setTimeout(onWaitingTimeout, helloTimeoutMs, socket);
  };
  function onWaitingError(this: Socket): void {
    // Nobody else owns the socket yet; 'close' follows and counts it.
    this.destroy();
  }
  function onWaitingClose(this: Socket): void {
    const state = connections.get(this);
    if (state !== undefined) stopWaiting(this, state);
    stats.helloClosed++;
  }
  function onWaitingTimeout(socket: Socket): void {
    const state = connections.get(socket);
    if (state === undefined) return;
    state.timer = undefined;
    stopWaiting(socket, state);
    socket.pause();
    stats.helloPassthrough++;
    handOver(socket);
  }
  /**
   * The first chunk. The usual case (a whole ClientHello in one record in one TCP read) is read
   * here, synchronously, with no copy and no allocation; the chunk goes back with `unshift` and
   * Node's TLSSocket feeds it to OpenSSL. Anything else goes to the general reader.
   */
  function onFirstData(this: Socket, chunk: Buffer | string): void {
    const state = connections.get(this);
    if (state !== undefined) firstData(this, state, chunk);
  }
  /**
   * A read through the shared buffer (see first-bytes.ts): the first one is the hello's; any later
   * one (a hello in several reads, the general reader's business) goes to the stream as a 'data'
   * chunk would have.
   */
  function onFirstBytes(this: Socket, shared: Buffer, length: number): void {
    // Pooled for small reads: no ArrayBuffer of its own.
    const chunk = Buffer.allocUnsafe(length);
    shared.copy(chunk, 0, 0, length);
    const state = connections.get(this);
    if (state === undefined || state.firstRead) {
      this.push(chunk);
      return;
    }
    state.firstRead = true;
    firstData(this, state, chunk);
  }
  const firstData = (socket: Socket, state: ConnectionState, chunk: Buffer | string): void => {
    stopWaiting(socket, state);
    // Pause first, so that `unshift` buffers the bytes instead of emitting them to nobody. (Reads
    // through the shared buffer never made the stream flow; pausing would stop the handle reading,
    // and TLSWrap would have to start it again.)
    if (!state.firstRead) socket.pause();
    if (typeof chunk === 'string') {
      // Only if someone set an encoding meanwhile: the bytes cannot be put back as they came.
      socket.destroy();
      return;
    }
    socket.unshift(chunk);
    const fragment = wholeHelloFragment(chunk);
    if (fragment === 0) {
      readSlowly(socket, state);
      return;
    }
    const fields = new HelloFields();
    if (fragment > 0 && scanClientHello(chunk, 5, 5 + fragment, fields)) {
      state.fields = fields;
      stats.helloParsed++;
      noteHello(fields);
    } else {
      stats.helloPassthrough++;
    }
    handOverScreened(socket, state);
  };
  // Hellos spread over several records or TCP reads: the general reader (a promise, merging).
  const readSlowly = (socket: Socket, state: ConnectionState): void => {
    readClientHello(socket, { maxBytes: helloMaxBytes, timeoutMs: helloTimeoutMs }).then(
      (result: ReadClientHelloResult) => {
        if (result.kind === 'closed') {
          stats.helloClosed++;
          return;
        }
        if (result.kind === 'hello') {
          const fields = new HelloFields();
          if (scanClientHello(result.message, 0, result.message.length, fields)) {
            stats.helloParsed++;
            if (result.merged) stats.helloMerged++;
            state.fields = fields;
            noteHello(fields);
          } else {
            stats.helloPassthrough++;
          }
        } else {
          stats.helloPassthrough++;
        }
        handOverScreened(socket, state);
      },
      () => {
        // readClientHello never rejects; if it ever did, Node still gets the socket.
        handOver(socket);
      },
    );
  };
  /**
   * Hands the socket over once tickets mode has screened its hello (single use: one store round
   * trip, see ticket-keys.ts; its logic stays there). A screening that fails hands over all the
   * same: without a permit the key callback refuses the ticket, a full handshake.
   */
  const handOverScreened = (socket: Socket, state: ConnectionState): void => {
    const fields = state.fields;
    const screened =
      tickets === undefined || fields === undefined
        ? undefined
        : tickets.screenHello(fields, fields.offersTls13 && serverMayUseTls13(server));
    if (screened === undefined) {
      handOver(socket);
      return;
    }
    const then = (): void => {
      if (!socket.destroyed) handOver(socket);
    };
    screened.then(then, then);
  };
  const noteHello = (fields: HelloFields): void => {
    if (fields.pskIdentityLength >= 0 && fields.sessionIdLength === 0 && fields.offersTls13) {
      // Node emits resumeSession only for a non-empty legacy session id: such a client resumes only
      // through the ClientHello hook (helloHook in stats says whether this process has it).
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
      record = sessionRecordFromDer(data, refreshContext(), state?.fields?.serverName());
    } catch {
      stats.decodeErrors++;
      return;
    }
    // Tickets mode: a TLS 1.3 session is its ticket; nothing to store.
    if (tickets !== undefined && record.protocolVersion === TLS1_3_VERSION) return;
    if (state !== undefined) state.sessionId = record.id;
    cache.sessionNegotiated(record);
  };

  // --- the lookup: find exactly the offered session, or nothing ------------------------------------
  /**
   * Looks up the session this connection offers: the PSK identity of a TLS 1.3 hello (`legacyId` is
   * then random), else the legacy session id. `undefined`: nothing to look up.
   */
  const lookUp = (state: ConnectionState | undefined, legacyId: Buffer): Lookup => {
    const fields = state?.fields;
    let id: Uint8Array = legacyId;
    let tls13 = false;
    if (fields !== undefined && fields.offersTls13 && serverMayUseTls13(server)) {
      // A TLS 1.3 handshake resumes only through a PSK.
      const psk = fields.pskIdentity();
      // Tickets mode: the PSK is a stateless ticket, which the key callback handles.
      if (psk === undefined || tickets !== undefined) return undefined;
      if (helloRetryAhead(fields)) {
        // OpenSSL will answer with a HelloRetryRequest and Node asks for a session only once per
        // connection: the resumption cannot happen, so the ticket is left where it is (unused)
        // instead of being taken and counted as a hit.
        stats.tls13HelloRetry++;
        return undefined;
      }
      id = psk;
      tls13 = true;
    }
    if (id.byteLength === 0) return undefined;
    const ns = refreshContext();
    const accept = (session: CachedSession): boolean => {
      const reason = refusal(session, tls13, fields);
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
    let result: LookupResult | Promise<LookupResult>;
    try {
      result = cache.lookup(id, { singleUse: tls13, accept, namespace: ns });
    } catch {
      return undefined;
    }
    if (state !== undefined) {
      if (result instanceof Promise) {
        result = result.then((r) => noteFound(state, r, id, tls13));
      } else {
        noteFound(state, result, id, tls13);
      }
    }
    return result;
  };
  const noteFound = (
    state: ConnectionState,
    result: LookupResult,
    id: Uint8Array,
    tls13: boolean,
  ): LookupResult => {
    if (result.session !== undefined) {
      // The cache answers only with a session of exactly that id.
      state.sessionId = id;
      if (tls13) state.tookTls13 = true;
    }
    return result;
  };
  const refusal = (
    session: CachedSession,
    tls13: boolean,
    fields: HelloFields | undefined,
  ): RejectReason | undefined => {
    if (!isSessionRecord(session)) return 'decode';
    if ((session.protocolVersion === TLS1_3_VERSION) !== tls13) return 'protocol';
    if (!hasSessionIdContext(session, sidCtxBytes, sidCtxLatin1)) return 'session-id-context';
    if (fields !== undefined && requireSni && !fields.serverNameIs(session.hostName)) {
      return 'host-name';
    }
    // An EMS session offered without EMS is handed over: OpenSSL aborts that handshake, as
    // RFC 7627 §5.3 says and as its s_server does.
    if (!tls13 && requireEms && !session.extendedMasterSecret) return 'extended-master-secret';
    return undefined;
  };

  // Whether OpenSSL will send a HelloRetryRequest: it takes the first key share whose group it
  // supports, and asks again when there is none (OpenSSL 3.0's tls_parse_ctos_key_share).
  let groupsFor: string | undefined;
  let groups: ReadonlySet<number> | undefined;
  const helloRetryAhead = (fields: HelloFields): boolean => {
    if (fields.keyShareLength < 0) return false;
    const curve = String((server as { ecdhCurve?: unknown }).ecdhCurve ?? tls.DEFAULT_ECDH_CURVE);
    if (curve !== groupsFor) {
      groupsFor = curve;
      groups = serverKeyShareGroups(curve);
    }
    // Groups this code cannot name: no prediction (a miss-counted hit is possible, see stats).
    return groups !== undefined && !fields.keyShareOffers(groups);
  };

  // --- Node's resumeSession event (no hook, or a hello the hook left to Node) ----------------------
  const onResumeSession = (legacyId: Buffer, callback: ResumeCallback): void => {
    answerWith(lookUp(stateOfCurrent(), legacyId), callback);
  };

  // --- Node's ClientHello hook: every hello, empty legacy id included ------------------------------
  const onNodeHello: HelloHook = (handle, socket, hello, nodeLoadSession) => {
    const state = stateOfTls(socket);
    // A TLS 1.2 ticket: Node skips the lookup and so does OpenSSL's stateful cache; so do we.
    if (state?.fields === undefined || hello.tlsTicket) {
      nodeLoadSession.call(handle, hello);
      return;
    }
    const result = lookUp(state, hello.sessionId);
    if (result instanceof Promise) {
      result.then(
        (r) => loadInto(socket, r),
        () => loadInto(socket, undefined),
      );
    } else {
      loadInto(socket, result);
    }
  };
  const helloHook = installHelloHook();

  // --- completed handshakes and fatal errors -------------------------------------------------------
  const onSecureConnection = (socket: tls.TLSSocket): void => {
    stats.handshakes++;
    cache.handshakeCompleted();
    const reused = socket.isSessionReused();
    if (reused) {
      stats.resumed++;
      if (socket.getProtocol() === 'TLSv1.3') stats.resumedTls13++;
    }
    const state = stateOfTls(socket);
    if (state === undefined) return;
    // A HelloRetryRequest the prediction missed (groups it cannot name): told, not hidden.
    if (state.tookTls13 && !reused) stats.tls13TakenNotResumed++;
    // errorMonitor observes errors without handling them, so an application without an 'error'
    // listener behaves exactly as before.
    (socket as EventEmitter).on(errorMonitor, onSocketError);
  };
  function onSocketError(this: tls.TLSSocket, error: unknown): void {
    const id = stateOfTls(this)?.sessionId;
    // A connection the server already ended counts as shut down cleanly (OpenSSL keeps a session
    // once it has sent close_notify). Node's end() can put the FIN before close_notify, and OpenSSL
    // 3 clients answer that with a decode_error alert; that is no reason to distrust the session.
    if (id !== undefined && !this.writableEnded && isFatalTlsError(error)) {
      stats.badSessionsRemoved++;
      cache.removeBad(id, refreshContext());
    }
  }

  const detachTickets = tickets?.attachTo(server);
  server.removeAllListeners('connection');
  server.on('connection', onConnection);
  server.on('newSession', onNewSession);
  server.on('resumeSession', onResumeSession);
  server.on('secureConnection', onSecureConnection);
  if (helloHook) (server as unknown as Record<symbol, unknown>)[HELLO_HOOK] = onNodeHello;
  (server as unknown as Record<symbol, unknown>)[ATTACHED] = true;

  let attached = true;
  return {
    server,
    cache,
    helloHook,
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
      delete (server as unknown as Record<symbol, unknown>)[HELLO_HOOK];
      delete (server as unknown as Record<symbol, unknown>)[ATTACHED];
    },
  };
}

/**
 * The length of the first record's fragment if the chunk holds a whole handshake record that is
 * exactly one ClientHello (the usual first flight); 0 if the chunk is only the start of something
 * that may still become one (the general reader waits for more); -1 if it can never be one
 * (OpenSSL gets the bytes untouched).
 */
function wholeHelloFragment(chunk: Buffer): number {
  const n = chunk.length;
  if (n < 9) return n === 0 || chunk[0] === CONTENT_TYPE_HANDSHAKE ? 0 : -1;
  if (chunk[0] !== CONTENT_TYPE_HANDSHAKE || chunk[1] !== 3 || chunk[5] !== 1) return -1;
  const fragment = (chunk[3]! << 8) | chunk[4]!;
  if (fragment === 0 || fragment > TLS_MAX_FRAGMENT_LENGTH) return -1;
  const hello = 4 + ((chunk[6]! << 16) | (chunk[7]! << 8) | chunk[8]!);
  // A hello longer than its record continues in the next one; one shorter would share its record
  // with another message: both are the general reader's business.
  if (hello !== fragment || n < 5 + fragment) return 0;
  return fragment;
}

/** Hands a lookup's answer to Node's `resumeSession` callback. */
function answerWith(lookup: Lookup, callback: ResumeCallback): void {
  if (lookup instanceof Promise) {
    lookup.then(
      (r) => callNode(callback, r),
      () => callNode(callback, undefined),
    );
  } else {
    callNode(callback, lookup);
  }
}

function callNode(callback: ResumeCallback, result: LookupResult | undefined): void {
  const session = result?.session;
  try {
    callback(null, session === undefined ? null : asBuffer(session.data));
  } catch {
    // The connection went away meanwhile; Node reports that itself.
  }
}

/** Hands a lookup's answer to OpenSSL through the handle, as Node's own `loadSession` does. */
function loadInto(socket: tls.TLSSocket, result: LookupResult | undefined): void {
  const handle = (
    socket as unknown as { _handle: { loadSession(s: Buffer): void; endParser(): void } | null }
  )._handle;
  // The connection went away meanwhile.
  if (handle === null) return;
  try {
    const session = result?.session;
    if (session !== undefined) handle.loadSession(asBuffer(session.data));
    handle.endParser();
  } catch (error) {
    socket.destroy(error instanceof Error ? error : undefined);
  }
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
