// The shapes of the CLI's --json outputs, as docs/cli.md ("JSON output") shows them: each region
// is one of that section's blocks. Type-checked with the examples; test/cli/json-shapes.test.ts
// checks every command's real output against the types as the doc prints them.
// #region imports
import type {
  AttachmentStats,
  DecodedSessionJSON,
  SessionCacheStats,
  StoreAdapterStats,
} from 'tls-session-cache';
// #endregion imports

// #region decode
type DecodeJson = DecodedSessionJSON;
// #endregion decode

// #region demo
interface DemoJson {
  /** The in-process server the demo talked to, `https://127.0.0.1:PORT`. */
  url: string;
  /** Always `stateful`: the demo shows the session cache and its store (`serve` defaults to tickets). */
  mode: 'stateful';
  /** The kind of store behind the cache: `memory`, `sqlite`, `redis`, … */
  store: string;
  /** How stored sessions were protected. */
  encryption: 'aes-256-gcm' | 'none';
  /** TLS 1.2 first, then TLS 1.3. */
  protocols: {
    protocol: 'TLSv1.2' | 'TLSv1.3';
    /** Connections made, each a full HTTPS request. */
    connections: number;
    /** Connections that offered a session from an earlier connection. */
    resumeAttempts: number;
    /** Connections the client saw resumed. */
    resumed: number;
    /** `resumed / resumeAttempts` in percent, one decimal. */
    resumedPercent: number;
    /** Median handshake times, ms; null when there was none of that kind. */
    fullMedianMs: number | null;
    resumedMedianMs: number | null;
    /** `fullMedianMs / resumedMedianMs`, two decimals. */
    speedup: number | null;
  }[];
  /** The cache's, the server wiring's and the store adapter's counters after the run. */
  cache: SessionCacheStats;
  attachment: AttachmentStats;
  storeAdapter: StoreAdapterStats;
  /** Wall time of the whole run, ms. */
  elapsedMs: number;
}
// #endregion demo

// #region stats
interface StatsJson {
  store: {
    /** `sqlite`, `redis`, … */
    kind: string;
    /** Entries and value bytes as the store counts them (SQLite counts expired rows not yet swept); null when it cannot tell. */
    entries: number | null;
    bytes: number | null;
    /** Live sessions listed, and their value bytes. */
    live: number;
    liveBytes: number;
    oldestCreatedAt: string | null;
    newestCreatedAt: string | null;
    /** Live sessions by protocol (`TLSv1.3`), by SNI host name (`(none)` without SNI), by tenant (`""` for none). */
    byProtocol: Record<string, number>;
    bySni: Record<string, number>;
    byTenant: Record<string, number>;
    /** Values that could not be read, by reason (e.g. `CODEC_MISMATCH`: encrypted with keys not given). */
    undecodable: Record<string, number>;
    /** Tickets mode's entries, counted apart from the sessions (a key is never shown): ticket keys, and TLS 1.3 first-use records. */
    ticketKeys: number;
    ticketUses: number;
  } | null;
  server: {
    /** The metrics URL read. */
    url: string;
    /** hits ÷ lookups; null before the first lookup. */
    hitRate: number | null;
    /** Every `tls_session_cache_…` series but histogram buckets, keyed `name{label="value"}`. */
    metrics: Record<string, number>;
  } | null;
}
// #endregion stats

// #region list
type ListJson = {
  /** The session id (TLS 1.2) or ticket (TLS 1.3 stateful), hex. */
  id: string;
  namespace: string;
  tenant: string;
  /** Null when the value could not be read. */
  protocol: string | null;
  cipher: string | null;
  sni: string | null;
  alpn: string | null;
  createdAt: string | null;
  expiresAt: string;
  /** Value bytes in the store. */
  size: number;
  /** Why the value could not be read (e.g. `CODEC_MISMATCH`: encrypted); absent when it could. */
  undecodable?: string;
}[];
// #endregion list

// #region inspect
interface InspectJson {
  namespace: string;
  tenant: string;
  sni: string | null;
  /** Null when the store keeps it without a deadline. */
  expiresAt: string | null;
  /** Value bytes in the store. */
  size: number;
  session:
    | DecodedSessionJSON
    | (Omit<DecodedSessionJSON, 'masterSecret' | 'ticket' | 'ticketAppData'> & {
        masterSecret: string;
        ticket?: string;
        ticketAppData?: string;
      });
}
// #endregion inspect

// #region removal
interface RemovalJson {
  /** `--dry-run`: nothing was removed, the counts say what would have been. */
  dryRun: boolean;
  /** Sessions selected. */
  matched: number;
  /** Sessions removed (0 in a dry run). */
  removed: number;
  /**
   * `flush` only (always, 0 when none): values that could not be read (encrypted with keys not
   * given) while an `--sni` or `--older-than` filter needed them, so they were neither matched nor
   * removed. `remove` selects by id and reads no value, so it never prints this field.
   */
  undecodable?: number;
  /**
   * `flush --all` only (always, 0 when none): tickets mode's ticket keys and TLS 1.3 first-use
   * records removed (in a dry run: that would be) besides the sessions; not in `matched`/`removed`.
   */
  ticketKeys?: number;
  ticketUses?: number;
}
// #endregion removal

export type { DecodeJson, DemoJson, StatsJson, ListJson, InspectJson, RemovalJson };
