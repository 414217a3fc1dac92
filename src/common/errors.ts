// The one error base class of the package and the list of its codes. Every error a store, the store
// adapter, the stored-record decoder, encryption or the session decoder raises on its own account
// (as opposed to a TypeError/RangeError for a bad argument, see validate.ts) is a SessionCacheError
// with one of these codes, so that callers switch on `error.code` the same way whatever the store.
// Codes are stable: a value never changes meaning, and new values are only added. The table in
// docs/errors.md repeats this list for readers of the docs; keep both in step.

/**
 * What went wrong in or around a store. Upper case and `ERR_`-prefixed, as Node's own codes.
 *
 * - `ERR_STORE_CLOSED`: the store (or the adapter in front of it) was closed; every later call
 *   fails with this code, synchronously for in-process stores (memory, SQLite), as a rejection for
 *   Redis.
 * - `ERR_STORE_UNAVAILABLE`: the store cannot be reached now: Redis refused, down, reconnecting or
 *   not yet connected; a SQLite file that cannot be opened (missing permission, not a database,
 *   locked for longer than `busyTimeoutMs`, a directory).
 * - `ERR_STORE_TIMEOUT`: no answer within the bound: Redis's `commandTimeoutMs`, or the store
 *   adapter's `readTimeoutMs`/`writeTimeoutMs` (reported to `onError`, never thrown at a handshake).
 * - `ERR_STORE_OVERLOADED`: Redis's `maxPendingCommands` commands were already in flight.
 * - `ERR_STORE_UNSUPPORTED`: the server or file lacks something the store needs: Redis < 6.2 (no
 *   `SET … PXAT`, `GETDEL`), a SQLite file that cannot use WAL journaling, one written by a newer
 *   schema version.
 * - `ERR_STORE_COMMAND`: Redis answered a command with an error (`OOM`, `MOVED` storms, …).
 * - `ERR_STORE_CONFIG`: Redis answered and refused the store's settings: a wrong password or user
 *   (`WRONGPASS`, `NOAUTH`), a database it does not have, an ACL without the commands (`NOPERM`).
 *   Not an outage: `RedisStore.create` rejects with it even when it would start degraded.
 * - `ERR_STORE_FOREIGN`: the SQLite file belongs to another application (other tables, another
 *   `application_id`); the store refuses to touch it.
 * - `ERR_DEPENDENCY_MISSING`: an optional dependency (`ioredis`, `better-sqlite3`) is not installed;
 *   the message names the `npm install` that fixes it.
 * - `ERR_KEY_FILE`: an encryption key file cannot be read (missing, a directory, unreadable).
 */
export type StoreErrorCode =
  | 'ERR_STORE_CLOSED'
  | 'ERR_STORE_UNAVAILABLE'
  | 'ERR_STORE_TIMEOUT'
  | 'ERR_STORE_OVERLOADED'
  | 'ERR_STORE_UNSUPPORTED'
  | 'ERR_STORE_COMMAND'
  | 'ERR_STORE_CONFIG'
  | 'ERR_STORE_FOREIGN'
  | 'ERR_DEPENDENCY_MISSING'
  | 'ERR_KEY_FILE';

/**
 * Why a stored value was refused (`StoredSessionError`): a value from a store that is not a session
 * this process may resume. The store adapter counts these (`decodeErrors`) and answers a miss.
 *
 * - `BAD_INPUT`: not a `Uint8Array`;
 * - `TRUNCATED`: shorter than its header or its declared lengths;
 * - `UNSUPPORTED_VERSION`: an envelope version this release does not read;
 * - `CODEC_MISMATCH`: written with another codec (plain vs. encrypted, or another codec id);
 * - `BAD_FORMAT`: a malformed envelope (flags, lengths, trailing bytes);
 * - `NAMESPACE_MISMATCH` / `ID_MISMATCH`: the value belongs to another key;
 * - `BAD_SESSION`: the DER inside is not a valid serialized session;
 * - `KEY_RETIRED`: (encryption) sealed under a key the keyring no longer lists;
 * - `AUTHENTICATION_FAILED`: (encryption) the AEAD tag does not verify: tampered, moved to another
 *   key, or sealed with another key of the same id;
 * - `TOO_LARGE`: longer than the store's `maxValueBytes` (checked by the store adapter before
 *   parsing) or than any sealed session can be (checked before decrypting).
 */
export type StoredSessionErrorCode =
  | 'BAD_INPUT'
  | 'TRUNCATED'
  | 'UNSUPPORTED_VERSION'
  | 'CODEC_MISMATCH'
  | 'BAD_FORMAT'
  | 'NAMESPACE_MISMATCH'
  | 'ID_MISMATCH'
  | 'BAD_SESSION'
  | 'KEY_RETIRED'
  | 'AUTHENTICATION_FAILED'
  | 'TOO_LARGE';

/**
 * Why a serialized session (OpenSSL's `i2d_SSL_SESSION` DER or its PEM) was rejected
 * (`SessionDecodeError`).
 *
 * - `TRUNCATED`: the input ends before a header or a declared length does.
 * - `BAD_TAG`: an element has the wrong tag, is out of order, is repeated, or has the wrong form.
 * - `BAD_LENGTH`: a length is indefinite, not minimally encoded, overruns its enclosing element,
 *   or an element is followed by bytes that belong to nothing.
 * - `TOO_LARGE`: the input is larger than `MAX_SESSION_DER_LENGTH` (or its PEM equivalent).
 * - `BAD_VALUE`: the DER is well formed but a value is not: a non-minimal or out-of-range integer,
 *   a wrong format version, an over-long session id, an unparseable peer certificate.
 * - `BAD_PEM`: the text is not a single `SSL SESSION PARAMETERS` PEM block with valid base64.
 */
export type SessionDecodeErrorCode =
  'TRUNCATED' | 'BAD_TAG' | 'BAD_LENGTH' | 'TOO_LARGE' | 'BAD_VALUE' | 'BAD_PEM';

/**
 * Every code a {@link SessionCacheError} carries: see {@link StoreErrorCode} (stores, adapter,
 * dependencies, key files), {@link StoredSessionErrorCode} (stored values refused) and
 * {@link SessionDecodeErrorCode} (serialized sessions refused). docs/errors.md has the table.
 */
export type SessionCacheErrorCode =
  StoreErrorCode | StoredSessionErrorCode | SessionDecodeErrorCode;

/**
 * The base class of every error this package raises on its own account (invalid arguments are
 * plain `TypeError`/`RangeError`s). Switch on {@link code}, never on the message. Messages name
 * stores, hosts, options, offsets and lengths — never a password, a key or session bytes.
 *
 * @example
 * ```ts
 * try {
 *   store.get(namespace, id);
 * } catch (error) {
 *   if (error instanceof SessionCacheError && error.code === 'ERR_STORE_CLOSED') return undefined;
 *   throw error;
 * }
 * ```
 */
export class SessionCacheError<
  C extends SessionCacheErrorCode = SessionCacheErrorCode,
> extends Error {
  /** What went wrong; stable (see {@link SessionCacheErrorCode}). */
  readonly code: C;

  /**
   * @param code - the stable reason
   * @param message - human-readable detail; never a secret
   * @param options - `{ cause }`, the lower-level error, if any
   */
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SessionCacheError';
    this.code = code;
  }
}

/** Whether `error` is a {@link SessionCacheError} with code `code`. */
export function hasErrorCode<C extends SessionCacheErrorCode>(
  error: unknown,
  code: C,
): error is SessionCacheError<C> {
  return error instanceof SessionCacheError && error.code === code;
}
