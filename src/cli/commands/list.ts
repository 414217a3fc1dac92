// `tls-session-cache list`: the sessions in a store, one row each — never a secret.
import type { Command } from 'commander';
import { bulkProgress, entryCount } from '../bulk-progress.js';
import {
  EXIT_CODES_HELP,
  addFilterOptions,
  addStoreOptions,
  parseFilter,
  parseLimit,
  type RawFilterOptions,
  type RawStoreOptions,
} from '../operating-options.js';
import {
  countTicketEntry,
  describeTicketEntries,
  noTicketEntries,
  scanSessions,
  type SessionSummary,
} from '../session-selection.js';
import { openStoreAccess, STORE_ENV } from '../store-access.js';
import { formatTable, formatTime, shortId } from '../table.js';

/** Rows `list` prints unless `--limit` says otherwise. */
export const DEFAULT_LIST_LIMIT = 1000;

interface RawListOptions extends RawStoreOptions, RawFilterOptions {
  limit?: string;
}

/** A session as `list --json` prints it. */
export interface ListedSession {
  id: string;
  namespace: string;
  tenant: string;
  protocol: string | null;
  cipher: string | null;
  sni: string | null;
  alpn: string | null;
  createdAt: string | null;
  expiresAt: string;
  size: number;
  /** Why the value could not be read (e.g. `CODEC_MISMATCH`: encrypted); absent when it could. */
  undecodable?: string;
}

/** The `--json` form of one summary. */
export function listedSession(s: SessionSummary): ListedSession {
  return {
    id: s.id,
    namespace: s.namespace,
    tenant: s.tenant,
    protocol: s.protocol ?? null,
    cipher: s.cipher ?? null,
    sni: s.sni ?? null,
    alpn: s.alpn ?? null,
    createdAt: s.createdAtMs === undefined ? null : new Date(s.createdAtMs).toISOString(),
    expiresAt: new Date(s.expiresAtMs).toISOString(),
    size: s.size,
    ...(s.undecodable === undefined ? {} : { undecodable: s.undecodable }),
  };
}

/** Registers `list`. */
export function registerListCommand(program: Command): void {
  const command = program
    .command('list')
    .description(
      'list the sessions in a store: id prefix, protocol, cipher, SNI, ALPN, times (never secrets)',
    );
  addStoreOptions(command);
  addFilterOptions(command);
  command
    .option('--limit <n>', `at most this many sessions; 0 for all`, String(DEFAULT_LIST_LIMIT))
    .addHelpText(
      'after',
      `
Sessions are listed in the store's order. Tickets mode's ticket keys and TLS 1.3 first-use
records are not sessions: they are counted on stderr, never listed (a key is never shown). --json prints one array of objects with the whole id
(hex), namespace, tenant, protocol, cipher, sni, alpn, createdAt, expiresAt (ISO 8601) and size;
the table shows the first 8 bytes of each id, enough for "inspect" and "remove". --store may also
come from the ${STORE_ENV} environment variable.
${EXIT_CODES_HELP}

Examples:
  $ tls-session-cache list --store sqlite:/var/lib/my-api/sessions.db
  $ tls-session-cache list --store redis://10.0.0.5:6379 --sni api.example.com --limit 20
  $ tls-session-cache list --store sqlite:sessions.db --tenant acme --older-than 1h --json | jq '.[].id'`,
    )
    .action(async (raw: RawListOptions) => {
      const filter = parseFilter(raw);
      const limit = parseLimit(raw.limit, DEFAULT_LIST_LIMIT);
      const access = await openStoreAccess(raw);
      try {
        const progress = bulkProgress('listing', await entryCount(access.store));
        const rows: SessionSummary[] = [];
        const tickets = noTicketEntries();
        let more = false;
        try {
          for await (const summary of scanSessions(access, filter, Date.now(), {
            withValues: true,
            onScanned: progress.tick,
            onTicketEntry: (kind) => countTicketEntry(tickets, kind),
          })) {
            if (rows.length >= limit) {
              more = true;
              break;
            }
            rows.push(summary);
          }
        } finally {
          progress.stop();
        }
        const undecodable = rows.filter((s) => s.undecodable !== undefined).length;
        const hint = undecodable > 0 ? [undecodableHint(undecodable, access.encrypted)] : [];
        // Tickets mode's entries are counted, never listed: a key's bytes open every ticket it sealed.
        const ticketEntries = describeTicketEntries(tickets);
        if (ticketEntries !== '' && !more) {
          hint.push(`the store also holds ${ticketEntries} (tickets mode), not listed`);
        }
        if (raw.json === true) {
          process.stdout.write(`${JSON.stringify(rows.map(listedSession), null, 2)}\n`);
          process.stderr.write(hint.map((note) => `${note}\n`).join(''));
          return;
        }
        process.stdout.write(
          formatTable(
            ['ID', 'TENANT', 'PROTOCOL', 'CIPHER', 'SNI', 'ALPN', 'CREATED', 'EXPIRES'],
            rows.map((s) => [
              shortId(s.id),
              s.tenant || '-',
              s.protocol ?? `? (${s.undecodable ?? 'unread'})`,
              s.cipher ?? '-',
              s.sni ?? '-',
              s.alpn ?? '-',
              formatTime(s.createdAtMs),
              formatTime(s.expiresAtMs),
            ]),
          ),
        );
        const count = `${rows.length} session${rows.length === 1 ? '' : 's'}${more ? ` shown; more match (--limit 0 shows all)` : ''}`;
        process.stderr.write([count, ...hint].map((note) => `${note}\n`).join(''));
      } finally {
        await access.close();
      }
    });
}

/** Why some values could not be read, and what to do about it. */
export function undecodableHint(count: number, encrypted: boolean): string {
  return `${count} stored value${count === 1 ? '' : 's'} could not be read${
    encrypted ? ' with the keys of --key-file' : ' (encrypted? give --key-file)'
  }`;
}
