import type { CachedSession } from '../session/cached-session.js';

export type { CachedSession };

/**
 * Why a session left the cache; passed to the remove callback so that an external cache can tell
 * "evicted from this process's memory" from "must never be resumed again".
 *
 * - `expired`: its `time + timeout` passed (found on lookup, by `flush`, or by auto-clear);
 * - `evicted`: the cache was full and it was the session expiring soonest (`cacheFull`);
 * - `replaced`: a different session with the same id was added;
 * - `removed`: `remove(id)` was called (revocation);
 * - `flushed`: `clear()` removed every session;
 * - `notKept`: the new callback answered `false` ("not kept");
 * - `resumed`: a single-use (TLS 1.3) session was used for resumption;
 * - `bad`: its connection ended in a fatal error (OpenSSL's `ssl_clear_bad_session`);
 * - `closed`: the cache was closed (OpenSSL's `SSL_CTX_free`);
 * - `revoked`: removed from the shared store elsewhere (another process, a script, the CLI), and
 *   dropped here by `revoke`/`revokeAll`: an external cache must not delete it again.
 */
export type RemoveReason =
  | 'expired'
  | 'evicted'
  | 'replaced'
  | 'removed'
  | 'flushed'
  | 'notKept'
  | 'resumed'
  | 'bad'
  | 'closed'
  | 'revoked';

/**
 * Called whenever a session is negotiated and caching is on (OpenSSL's `new_session_cb`). In TLS
 * 1.3 expect several calls per connection, one per ticket. Return `false` for "not kept": the
 * session then leaves the internal cache at once (reason `notKept`). Any other return value,
 * including `undefined`, means kept.
 */
export type NewSessionCallback = (session: CachedSession) => boolean | void;

/**
 * Called whenever a session leaves the internal cache or must not be resumed again (OpenSSL's
 * `remove_session_cb`); no feedback. As in OpenSSL 3, an explicit removal, a bad session, an expired
 * session from the get callback and a single-use resumption notify it even when the session was not
 * in the internal cache, so that an external cache can delete it: then `session` is `undefined`.
 * Use `reason` to decide what an external cache should do: `evicted` and `closed` concern only this
 * process's memory.
 */
export type RemoveSessionCallback = (
  id: Uint8Array,
  reason: RemoveReason,
  session: CachedSession | undefined,
  namespace: string,
) => void;

/** What the get callback learns about the lookup besides the id. */
export interface GetSessionInfo {
  /**
   * True for a TLS 1.3 resumption: the session may be used once, so an external cache must delete
   * what it returns, atomically (a `take`). The cache does not keep a copy, and drops its own copy
   * without a remove callback: the take is the notification. This is what keeps one session from
   * resuming twice across processes that share an external cache.
   */
  readonly singleUse: boolean;
  /** The namespace of the lookup; an answer from another namespace is ignored. */
  readonly namespace: string;
}

/**
 * Called on a server when a client offers a session that the internal cache does not have, or when
 * internal lookup is off (OpenSSL's `get_session_cb`). May answer asynchronously. The id is
 * untrusted input from the network.
 */
export type GetSessionCallback = (
  id: Uint8Array,
  info: GetSessionInfo,
) => CachedSession | undefined | PromiseLike<CachedSession | undefined>;

/**
 * OpenSSL's session-cache modes (`SSL_SESS_CACHE_OFF/CLIENT/SERVER/BOTH`): which side's sessions
 * the internal cache keeps.
 */
export type SessionCacheMode = 'off' | 'server' | 'client' | 'both';

/** The result of a server-side lookup. */
export interface LookupResult {
  /** The session to resume, or `undefined` for a full handshake. */
  readonly session: CachedSession | undefined;
  /** Where it came from: the internal cache, the get callback, or nowhere. */
  readonly source: 'internal' | 'external' | 'none';
}
