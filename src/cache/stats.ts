/**
 * The cache's statistics, as one snapshot. The first group are OpenSSL's `SSL_CTX_sess_*` counters
 * with OpenSSL's meaning; the second group are ours.
 */
export interface SessionCacheStats {
  /** Sessions in the internal cache now (`SSL_CTX_sess_number`). */
  number: number;
  /** Client handshakes started (`sess_connect`); counted by client-side wiring. */
  connect: number;
  /** Client handshakes completed (`sess_connect_good`). */
  connectGood: number;
  /** Client renegotiations started (`sess_connect_renegotiate`). */
  connectRenegotiate: number;
  /** Server handshakes started (`sess_accept`). */
  accept: number;
  /** Server handshakes completed (`sess_accept_good`). */
  acceptGood: number;
  /** Server renegotiations started (`sess_accept_renegotiate`). */
  acceptRenegotiate: number;
  /** Sessions found and accepted for resumption, internal or external (`sess_hits`). */
  hits: number;
  /** Of the hits, those found through the get callback (`sess_cb_hits`). */
  cbHits: number;
  /**
   * Lookups the internal cache could not answer (`sess_misses`). As in OpenSSL this counts an
   * internal miss even when the get callback then finds the session; see {@link lookups} for the
   * overall hit rate.
   */
  misses: number;
  /** Sessions found but expired (`sess_timeouts`). */
  timeouts: number;
  /** Sessions evicted because the cache was full (`sess_cache_full`). */
  cacheFull: number;
  /** Server-side lookups made (every resumption attempt). Hit rate = `hits / lookups`. */
  lookups: number;
  /** Get-callback calls that found nothing. */
  getMisses: number;
  /** Get-callback calls that threw or rejected (answered as misses). */
  getErrors: number;
  /** Get-callback calls that did not answer within the lookup deadline (answered as misses). */
  getTimeouts: number;
  /** Sessions found but refused by the caller's acceptance check (context, SNI, …). */
  rejected: number;
  /** Exceptions thrown by the new/remove callbacks (caught; the cache stays consistent). */
  callbackErrors: number;
}

/** A zeroed statistics record. */
export function emptyStats(): SessionCacheStats {
  return {
    number: 0,
    connect: 0,
    connectGood: 0,
    connectRenegotiate: 0,
    accept: 0,
    acceptGood: 0,
    acceptRenegotiate: 0,
    hits: 0,
    cbHits: 0,
    misses: 0,
    timeouts: 0,
    cacheFull: 0,
    lookups: 0,
    getMisses: 0,
    getErrors: 0,
    getTimeouts: 0,
    rejected: 0,
    callbackErrors: 0,
  };
}
