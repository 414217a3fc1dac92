// Which stored sessions an operating command acts on: the filters of `list` and `flush`
// (--namespace, --tenant, --sni, --older-than) and ids given by their hex prefix (`inspect`,
// `remove`). Namespace filters go to the store's `list`; the others need the decoded value.
import { Buffer } from 'node:buffer';
import { StoredSessionError } from '../session/stored-record.js';
import type { ListOptions, StoredEntry } from '../stores/store.js';
import { decodeSession } from '../session/decode.js';
import { storeEntryKind, type StoreEntryKind } from '../node/ticket-keys.js';
import type { StoreAccess } from './store-access.js';

/**
 * The entries of tickets mode a scan passed over (they are never decoded, shown or selected):
 * ticket keys and TLS 1.3 first-use records.
 */
export interface TicketEntryCounts {
  /** Ticket keys (`ticket-keys/…`): sealed key material, never printed. */
  ticketKeys: number;
  /** First-use records of TLS 1.3 tickets (`ticket-uses/…`). */
  ticketUses: number;
}

/** A {@link TicketEntryCounts} of zeros. */
export function noTicketEntries(): TicketEntryCounts {
  return { ticketKeys: 0, ticketUses: 0 };
}

/** Adds one entry of `kind` to `counts` (sessions are not counted there). */
export function countTicketEntry(counts: TicketEntryCounts, kind: StoreEntryKind): void {
  if (kind === 'ticket-key') counts.ticketKeys++;
  else if (kind === 'ticket-use') counts.ticketUses++;
}

/** `2 ticket keys and 5 ticket first-use records`, or `''` when there are none. */
export function describeTicketEntries(counts: TicketEntryCounts): string {
  const parts: string[] = [];
  if (counts.ticketKeys > 0) {
    parts.push(`${counts.ticketKeys} ticket key${counts.ticketKeys === 1 ? '' : 's'}`);
  }
  if (counts.ticketUses > 0) {
    parts.push(`${counts.ticketUses} ticket first-use record${counts.ticketUses === 1 ? '' : 's'}`);
  }
  return parts.join(' and ');
}

/** What `list`, `stats` and `flush` show of one session: never a secret. */
export interface SessionSummary {
  /** The namespace (`TENANT/HASH`, or `HASH` without a tenant). */
  readonly namespace: string;
  /** The tenant part of the namespace; `''` when none. */
  readonly tenant: string;
  /** The session id, hex (public: it travels in clear in the ClientHello). */
  readonly id: string;
  /** Stored value size in bytes. */
  readonly size: number;
  /** When the store expires it, ms since the epoch. */
  readonly expiresAtMs: number;
  /** `TLSv1.3`, `TLSv1.2`…; absent when the value did not decode. */
  readonly protocol?: string;
  /** OpenSSL's cipher name (or the IANA one, or the hex id). */
  readonly cipher?: string;
  /** The SNI host name the session was made for, lower case; absent without SNI. */
  readonly sni?: string;
  /** The ALPN protocol selected. */
  readonly alpn?: string;
  /** When the session was made, ms since the epoch. */
  readonly createdAtMs?: number;
  /** Why the value did not decode (a `StoredSessionError` code), when it did not. */
  readonly undecodable?: string;
}

/** The filters of `list` and `flush`, checked. Every given one must hold. */
export interface SessionFilter {
  /** Exactly this namespace. */
  namespace?: string | undefined;
  /** Namespaces of this tenant; `''` selects the namespaces without a tenant. */
  tenant?: string | undefined;
  /** Sessions made for this SNI host name (case-insensitive). */
  sni?: string | undefined;
  /** Sessions made at least this long before `nowMs`. */
  olderThanMs?: number | undefined;
}

/** Whether {@link SessionFilter} needs the decoded value (SNI, creation time). */
export function needsValues(filter: SessionFilter): boolean {
  return filter.sni !== undefined || filter.olderThanMs !== undefined;
}

/** The store-side part of a filter: namespace, tenant prefix. */
export function listOptionsOf(filter: SessionFilter): ListOptions {
  const options: ListOptions = {};
  if (filter.namespace !== undefined) options.namespace = filter.namespace;
  // The tenant '' has no prefix to give: its namespaces are told apart by having no '/'.
  if (filter.tenant !== undefined && filter.tenant !== '') {
    options.namespacePrefix = `${filter.tenant}/`;
  }
  return options;
}

/** The tenant of a namespace: what comes before its last `/`, or `''`. */
export function tenantOf(namespace: string): string {
  const slash = namespace.lastIndexOf('/');
  return slash < 0 ? '' : namespace.slice(0, slash);
}

/**
 * Whether a listed entry passes the namespace and tenant filters (the store applied what it could;
 * the tenant `''` is checked here).
 */
export function matchesNamespace(filter: SessionFilter, namespace: string): boolean {
  if (filter.namespace !== undefined && namespace !== filter.namespace) return false;
  if (filter.tenant !== undefined && tenantOf(namespace) !== filter.tenant) return false;
  return true;
}

/**
 * Whether a summary passes the filters that need the decoded value. An undecodable value passes
 * only when no such filter is given: nothing is known of it.
 */
export function matchesDecoded(filter: SessionFilter, summary: SessionSummary, nowMs: number) {
  if (!needsValues(filter)) return true;
  if (summary.undecodable !== undefined) return false;
  if (filter.sni !== undefined && summary.sni !== filter.sni.toLowerCase()) return false;
  if (
    filter.olderThanMs !== undefined &&
    !(summary.createdAtMs !== undefined && summary.createdAtMs <= nowMs - filter.olderThanMs)
  ) {
    return false;
  }
  return true;
}

/** The summary of a listed entry; its value, when listed with values, is decoded. */
export function summarize(access: StoreAccess, entry: StoredEntry): SessionSummary {
  const base = {
    namespace: entry.namespace,
    tenant: tenantOf(entry.namespace),
    id: Buffer.from(entry.id).toString('hex'),
    size: entry.size,
    expiresAtMs: entry.expiresAtMs,
  };
  if (entry.value === undefined) return base;
  try {
    const record = access.decode(entry.value, entry.namespace, entry.id);
    const session = decodeSession(record.data);
    return {
      ...base,
      protocol: session.protocol,
      cipher:
        session.cipherName ??
        session.cipherStandardName ??
        `0x${session.cipherId.toString(16).padStart(4, '0')}`,
      ...(record.hostName === undefined ? {} : { sni: record.hostName }),
      ...(session.alpnProtocol === undefined ? {} : { alpn: session.alpnProtocol }),
      createdAtMs: record.time * 1000,
    };
  } catch (error) {
    return { ...base, undecodable: error instanceof StoredSessionError ? error.code : 'ERROR' };
  }
}

/** Options of {@link scanSessions}. */
export interface ScanOptions {
  /** Read and decode the values (for the SNI, protocol, times…). */
  withValues: boolean;
  /** Called for every entry the store lists, matching or not (progress). */
  onScanned?: () => void;
  /**
   * Called for every entry of tickets mode (a ticket key, a first-use record) the scan passes over,
   * when the filter selects no namespace or tenant: such entries are never yielded.
   */
  onTicketEntry?: (kind: StoreEntryKind) => void;
}

/**
 * The stored sessions that pass `filter`, summarized, in the store's order. A store's `list` may
 * run while entries are deleted (`flush` deletes as it goes): each of ours pages by key or by SCAN
 * cursor, which tolerates that.
 */
export async function* scanSessions(
  access: StoreAccess,
  filter: SessionFilter,
  nowMs: number,
  options: ScanOptions,
): AsyncGenerator<SessionSummary> {
  const list = access.store.list?.bind(access.store);
  if (list === undefined)
    throw new Error(`the ${access.store.kind} store cannot list its sessions`);
  const withValues = options.withValues || needsValues(filter);
  for await (const entry of list({ ...listOptionsOf(filter), withValues })) {
    options.onScanned?.();
    const kind = storeEntryKind(entry.namespace, entry.size);
    if (kind !== 'session') {
      // Sealed key material and replay records: not sessions, never decoded nor shown.
      if (filter.namespace === undefined && filter.tenant === undefined) {
        options.onTicketEntry?.(kind);
      }
      continue;
    }
    if (!matchesNamespace(filter, entry.namespace)) continue;
    const summary = summarize(access, entry);
    if (matchesDecoded(filter, summary, nowMs)) yield summary;
  }
}

/**
 * Parses an id argument: hex digits (any case, `:` and `…` allowed as in `list` output) of a
 * session id or of its beginning.
 * @throws Error naming the argument for anything else
 */
export function parseIdPrefix(value: string): string {
  const hex = value.replace(/[:…]/g, '').toLowerCase();
  if (!/^[0-9a-f]{1,64}$/.test(hex)) {
    throw new Error(
      `ID: must be the hex digits of a session id (or of its beginning, as list shows it), got ${JSON.stringify(value.slice(0, 70))}`,
    );
  }
  return hex;
}

/**
 * The sessions whose id starts with `idHex`, within the namespace filters of `filter` (summaries
 * without the decoded fields). With an exact namespace and a whole id, one `get` answers;
 * otherwise the store is listed.
 */
export async function findById(
  access: StoreAccess,
  idHex: string,
  filter: SessionFilter,
): Promise<SessionSummary[]> {
  if (
    filter.namespace !== undefined &&
    idHex.length % 2 === 0 &&
    // A first-use record is one byte; any other value under a ticket namespace is a key: not read.
    storeEntryKind(filter.namespace, 2) === 'session'
  ) {
    const id = Buffer.from(idHex, 'hex');
    const value = await access.store.get(filter.namespace, id);
    if (value !== undefined) {
      // `get` does not tell the store's deadline; the adapter writes it as time + timeout.
      const summary = summarize(access, {
        namespace: filter.namespace,
        id,
        size: value.byteLength,
        expiresAtMs: Number.NaN,
        value,
      });
      if (summary.undecodable === undefined) {
        const record = access.decode(value, filter.namespace, id);
        return [{ ...summary, expiresAtMs: (record.time + record.timeout) * 1000 }];
      }
    }
  }
  const found: SessionSummary[] = [];
  for await (const summary of scanSessions(access, filter, 0, { withValues: false })) {
    if (summary.id.startsWith(idHex)) found.push(summary);
  }
  return found;
}

/**
 * The kind of the tickets-mode entries whose id starts with `idHex` (within the namespace filter),
 * for an error that says why `inspect` and `remove` do not act on them; `undefined` when none.
 */
export async function findTicketEntry(
  access: StoreAccess,
  idHex: string,
  filter: SessionFilter,
): Promise<StoreEntryKind | undefined> {
  const list = access.store.list?.bind(access.store);
  if (list === undefined) return undefined;
  const options = filter.namespace === undefined ? {} : { namespace: filter.namespace };
  for await (const entry of list(options)) {
    const kind = storeEntryKind(entry.namespace, entry.size);
    if (kind !== 'session' && Buffer.from(entry.id).toString('hex').startsWith(idHex)) return kind;
  }
  return undefined;
}
