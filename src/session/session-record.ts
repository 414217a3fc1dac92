import { Buffer } from 'node:buffer';
import { decodeSession } from './decode.js';
import { decodeSessionPem } from './pem.js';
import type { CachedSession } from './cached-session.js';

/**
 * A cached session plus what the Node wiring checks before handing it to OpenSSL, decoded once
 * from the DER when the session enters the cache (from Node's `newSession`, or from a store).
 *
 * The records that {@link sessionRecordFromDer} makes are compact (a cache may hold a million):
 * their `id`, `data` and `sessionIdContext` return a new Buffer on every read, so read each once
 * and compare bytes, not identities.
 */
export interface SessionRecord extends CachedSession {
  /** Creation time in seconds since the epoch, from the session's own `time` (0 when it has none). */
  readonly time: number;
  /** Lifetime in seconds, from the session's own `timeout` (0 when it has none). */
  readonly timeout: number;
  /** Protocol version of the session (`0x0303` TLS 1.2, `0x0304` TLS 1.3). */
  readonly protocolVersion: number;
  /** The session id context the session was created under (empty when none). */
  readonly sessionIdContext: Uint8Array;
  /** SNI host name of the handshake that created it, lower-cased; `undefined` without SNI. */
  readonly hostName: string | undefined;
  /** Whether it used the extended master secret (RFC 7627); always true for TLS 1.3. */
  readonly extendedMasterSecret: boolean;
}

/** TLS 1.3's protocol version number. */
export const TLS1_3_VERSION = 0x0304;

/**
 * The records this module makes: one object per session, about 100 bytes around the DER (a cache
 * may hold a million of them). The DER is kept as a one-byte (latin1) string — about 200 bytes for
 * a typical 170-byte session, against about 360 as a Buffer with its own ArrayBuffer (V8's object,
 * the ArrayBuffer's, and its C++ backing store, which `process.memoryUsage()` does not even count)
 * — and the id and session id context are found in it by position instead of being kept as Buffer
 * views (about 100 bytes each). So `id`, `data` and `sessionIdContext` are getters that return a
 * new Buffer per read (a copy from Node's buffer pool, ~0.1 µs: the wiring reads `data` once per
 * resumption, and OpenSSL copies it anyway); the rest are plain fields. All of them are own, enumerable properties, as in a plain object.
 *
 * The price of a string: a V8 heap snapshot of the process contains the DER of cached sessions (as
 * it would contain a Buffer's bytes only by reference). Treat heap snapshots as secrets.
 */
class DerSessionRecord implements SessionRecord {
  readonly namespace: string;
  readonly time: number;
  readonly timeout: number;
  readonly protocolVersion: number;
  readonly hostName: string | undefined;
  readonly extendedMasterSecret: boolean;
  /** The DER, one character per byte. */
  readonly #der: string;
  /** Where the id is in the DER: `offset * 64 + length` (ids are at most 32 bytes). */
  readonly #idAt: number;
  /** Where the session id context is in the DER, the same way; 0 when it has none. */
  readonly #sidCtxAt: number;

  constructor(
    der: string,
    idAt: number,
    sidCtxAt: number,
    namespace: string,
    time: number,
    timeout: number,
    protocolVersion: number,
    hostName: string | undefined,
    extendedMasterSecret: boolean,
  ) {
    this.namespace = namespace;
    this.time = time;
    this.timeout = timeout;
    this.protocolVersion = protocolVersion;
    this.hostName = hostName;
    this.extendedMasterSecret = extendedMasterSecret;
    this.#der = der;
    this.#idAt = idAt;
    this.#sidCtxAt = sidCtxAt;
    // Own and enumerable, as the fields of a plain record were, so that `{ ...record }` and
    // equality matchers still see them. The same getter functions on every record: V8 keeps them in
    // the records' shared hidden class, not in each record.
    // (Three defineProperty calls: about half the cost of one defineProperties.)
    Object.defineProperty(this, 'id', ID);
    Object.defineProperty(this, 'data', DATA);
    Object.defineProperty(this, 'sessionIdContext', SESSION_ID_CONTEXT);
  }

  /** The session id (a new Buffer per read). */
  get id(): Buffer {
    return slice(this.#der, this.#idAt);
  }

  /** The serialized session, `i2d_SSL_SESSION` DER (a new Buffer per read). A secret. */
  get data(): Buffer {
    return Buffer.from(this.#der, 'latin1');
  }

  /** The session id context (a new Buffer per read; empty when none). */
  get sessionIdContext(): Buffer {
    return slice(this.#der, this.#sidCtxAt);
  }

  /** Whether the session id context is `context`, given as a latin1 string; allocates nothing. */
  static hasSessionIdContext(record: DerSessionRecord, context: string): boolean {
    const at = record.#sidCtxAt;
    return at % 64 === context.length && record.#der.startsWith(context, Math.floor(at / 64));
  }
}

/** An own, enumerable property made of the class's getter `name`. */
function ownGetter(name: 'id' | 'data' | 'sessionIdContext'): PropertyDescriptor {
  const { get } = Object.getOwnPropertyDescriptor(DerSessionRecord.prototype, name)!;
  return { get, enumerable: true };
}
const ID = ownGetter('id');
const DATA = ownGetter('data');
const SESSION_ID_CONTEXT = ownGetter('sessionIdContext');

/** The bytes at `at` (`offset * 64 + length`) of a latin1 string, as a Buffer. */
function slice(der: string, at: number): Buffer {
  const offset = Math.floor(at / 64);
  return Buffer.from(der.substring(offset, offset + (at % 64)), 'latin1');
}

/** `offset * 64 + length` of a view into `outer`, or -1 if it is not inside it. */
function positionIn(outer: Uint8Array, view: Uint8Array): number {
  const offset = view.byteOffset - outer.byteOffset;
  if (view.buffer !== outer.buffer || offset < 0 || offset + view.byteLength > outer.byteLength) {
    return -1;
  }
  return view.byteLength < 64 ? offset * 64 + view.byteLength : -1;
}

/**
 * Decodes a serialized `SSL_SESSION` into a {@link SessionRecord} in `namespace`.
 *
 * OpenSSL records the SNI in a server-side session only when a servername callback acknowledged
 * it, which a Node server without `SNICallback` never does; so the wiring passes the SNI it read in
 * the ClientHello as `serverName`, used when the session itself has none.
 *
 * The record's `data` is a copy of `data` (of the DER inside, for PEM input): `data` itself is not
 * kept.
 * @throws {@link SessionDecodeError} for malformed data
 */
export function sessionRecordFromDer(
  data: Uint8Array,
  namespace: string,
  serverName?: string,
): SessionRecord {
  let der = data;
  let decoded = decodeSession(der);
  if (positionIn(der, decoded.sessionId) < 0) {
    // PEM: the fields are views into the DER decoded from it, which is what the record keeps.
    der = decodeSessionPem(
      Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1'),
    );
    decoded = decodeSession(der);
  }
  const idAt = positionIn(der, decoded.sessionId);
  const sidCtx = decoded.sessionIdContext;
  const sidCtxAt = sidCtx === undefined || sidCtx.byteLength === 0 ? 0 : positionIn(der, sidCtx);
  if (idAt < 0 || sidCtxAt < 0) throw new Error('session fields outside the decoded DER');
  const host = decoded.hostName ?? serverName;
  return new DerSessionRecord(
    Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1'),
    idAt,
    sidCtxAt,
    namespace,
    decoded.time,
    decoded.timeout,
    decoded.protocolVersion,
    host === undefined ? undefined : internHostName(host.toLowerCase()),
    decoded.protocolVersion === TLS1_3_VERSION || decoded.extendedMasterSecret,
  );
}

/** Whether a cached session carries the decoded fields of a {@link SessionRecord}. */
export function isSessionRecord(session: CachedSession): session is SessionRecord {
  return typeof (session as Partial<SessionRecord>).protocolVersion === 'number';
}

/**
 * Whether a record's session id context is `context` (also given as a latin1 string, which a
 * record of this module compares without allocating).
 */
export function hasSessionIdContext(
  record: SessionRecord,
  context: Buffer,
  contextLatin1: string,
): boolean {
  return record instanceof DerSessionRecord
    ? DerSessionRecord.hasSessionIdContext(record, contextLatin1)
    : context.equals(record.sessionIdContext);
}

// Every session of a virtual host carries the same host name: one string for all of them instead
// of one per session (about 32 bytes each). Bounded, since host names come from the network: when
// full it starts over, which costs sharing, never memory.
const HOST_NAMES = new Map<string, string>();
const MAX_HOST_NAMES = 256;

function internHostName(name: string): string {
  const known = HOST_NAMES.get(name);
  if (known !== undefined) return known;
  if (HOST_NAMES.size >= MAX_HOST_NAMES) HOST_NAMES.clear();
  HOST_NAMES.set(name, name);
  return name;
}
