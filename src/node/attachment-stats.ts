/** Counters of the Node wiring ({@link Attachment.stats}); the cache's own are in `cache.stats()`. */
export interface AttachmentStats {
  /** TCP connections accepted. */
  connections: number;
  /** ClientHellos read and parsed before Node saw them. */
  helloParsed: number;
  /** Of those, hellos that spanned several TLS records and were merged into one for Node. */
  helloMerged: number;
  /** Connections handed to Node untouched: not TLS, not a valid ClientHello, too big or too slow. */
  helloPassthrough: number;
  /**
   * Connections whose first read went into the one read buffer all connections share, instead of
   * a buffer of its own (see `first-bytes.ts`). Every connection read, unless the socket was paused
   * when it arrived (`pauseOnConnect`) or Node's internals differ: those read through a `'data'`
   * listener, which costs more.
   */
  helloSharedBuffer: number;
  /** Connections that closed before sending a complete ClientHello. */
  helloClosed: number;
  /** Handshakes completed (`secureConnection`). */
  handshakes: number;
  /** Of those, resumed ones (`isSessionReused()`). */
  resumed: number;
  /** Of the resumed ones, TLS 1.3. */
  resumedTls13: number;
  /**
   * TLS 1.3 ClientHellos that offered a session but no legacy session id (middlebox compatibility
   * off): Node does not emit `resumeSession` then; they resume only where `Attachment.helloHook` is true.
   */
  tls13NoLegacySessionId: number;
  /**
   * TLS 1.3 hellos that offered a session but no key share the server can use: OpenSSL answers
   * with a HelloRetryRequest, after which Node cannot resume, so the ticket was not taken (it stays
   * usable) and no lookup was counted.
   */
  tls13HelloRetry: number;
  /**
   * TLS 1.3 sessions taken from the cache whose handshake then did not resume (a HelloRetryRequest
   * the prediction above could not foresee). The cache counted each as a hit; subtract these.
   */
  tls13TakenNotResumed: number;
  /** Sessions from Node's `newSession` that could not be decoded (not cached). */
  decodeErrors: number;
  /** Sessions removed because their connection ended in a fatal TLS error. */
  badSessionsRemoved: number;
  /**
   * Sessions found for a lookup (in memory or in the store) but refused by the checks below; each
   * refusal is also published on the `tls-session-cache:rejected` channel with its reason.
   */
  rejected: number;
  /** Refused: made with another protocol version than the client resumes with. */
  rejectedProtocol: number;
  /** Refused: made under another session id context. */
  rejectedSessionIdContext: number;
  /** Refused: made for another SNI host name. */
  rejectedHostName: number;
  /** Refused: TLS 1.2 session or hello without the extended master secret (RFC 7627). */
  rejectedExtendedMasterSecret: number;
}

/** Zeroed counters. */
export function emptyAttachmentStats(): AttachmentStats {
  return {
    connections: 0,
    helloParsed: 0,
    helloMerged: 0,
    helloPassthrough: 0,
    helloSharedBuffer: 0,
    helloClosed: 0,
    handshakes: 0,
    resumed: 0,
    resumedTls13: 0,
    tls13NoLegacySessionId: 0,
    tls13HelloRetry: 0,
    tls13TakenNotResumed: 0,
    decodeErrors: 0,
    badSessionsRemoved: 0,
    rejected: 0,
    rejectedProtocol: 0,
    rejectedSessionIdContext: 0,
    rejectedHostName: 0,
    rejectedExtendedMasterSecret: 0,
  };
}
