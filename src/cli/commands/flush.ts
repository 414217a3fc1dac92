// `tls-session-cache flush`: revoke sessions in bulk — every one, the expired ones, or those of a
// tenant, a namespace, a host name or an age. Nothing is removed without a selector.
import { Buffer } from 'node:buffer';
import type { Command } from 'commander';
import type { SessionStore } from '../../stores/store.js';
import { bulkProgress, entryCount } from '../bulk-progress.js';
import {
  EXIT_CODES_HELP,
  addFilterOptions,
  addStoreOptions,
  parseFilter,
  type RawFilterOptions,
  type RawStoreOptions,
} from '../operating-options.js';
import {
  matchesDecoded,
  needsValues,
  scanSessions,
  type SessionFilter,
} from '../session-selection.js';
import {
  TICKET_KEYS_NAMESPACE_PREFIX,
  TICKET_USES_NAMESPACE_PREFIX,
  storeEntryKind,
} from '../../node/ticket-keys.js';
import {
  countTicketEntry,
  describeTicketEntries,
  noTicketEntries,
  type TicketEntryCounts,
} from '../session-selection.js';
import { DeleteQueue } from '../delete-queue.js';
import { openStoreAccess, type StoreAccess } from '../store-access.js';
import { formatCount } from '../table.js';
import { undecodableHint } from './list.js';

interface RawFlushOptions extends RawStoreOptions, RawFilterOptions {
  all?: boolean;
  expired?: boolean;
  dryRun?: boolean;
}

/** What `flush --json` and `remove --json` print. */
export interface RemovalResult {
  /** Nothing was removed: the counts say what would have been. */
  dryRun: boolean;
  /** Sessions selected. */
  matched: number;
  /** Sessions removed (0 in a dry run). */
  removed: number;
  /** Values that could not be read, so that a --sni/--older-than filter could not be applied. */
  undecodable?: number;
  /** `flush --all`: tickets mode's ticket keys removed (would be, in a dry run) besides the sessions. */
  ticketKeys?: number;
  /** `flush --all`: TLS 1.3 first-use records removed (would be, in a dry run) besides the sessions. */
  ticketUses?: number;
}

/** Registers `flush`. */
export function registerFlushCommand(program: Command): void {
  const command = program
    .command('flush')
    .description(
      'remove (revoke) sessions from a store: all, the expired ones, or those selected by tenant, namespace, SNI or age',
    );
  addStoreOptions(command);
  command
    .option('--all', 'every session in the store')
    .option('--expired', 'sessions past their deadline that the store has not dropped yet');
  addFilterOptions(command);
  command
    .option('--dry-run', 'remove nothing; print how many would be removed')
    .addHelpText(
      'after',
      `
Say what to remove: a flush without a selector is refused, so that nothing is flushed by
accident. --tenant, --namespace, --sni and --older-than combine (every one given must hold);
--all and --expired stand alone. --all also removes tickets mode's ticket keys and TLS 1.3
first-use records (counted apart): running servers keep the keys they hold and put them back,
so tickets keep resuming; see docs/tickets.md to retire a ticket key. A server attached to the store never resumes a removed session
from the store; prints how many were removed ({ dryRun, matched, removed } with --json). A bar
shows progress on a terminal for large stores.
${EXIT_CODES_HELP}

Examples:
  $ tls-session-cache flush --store sqlite:/var/lib/my-api/sessions.db --sni api.example.com --dry-run
  $ tls-session-cache flush --store redis://10.0.0.5:6379 --tenant acme
  $ tls-session-cache flush --store sqlite:sessions.db --older-than 12h
  $ tls-session-cache flush --store sqlite:sessions.db --expired
  $ tls-session-cache flush --store redis://10.0.0.5:6379 --all     # after a key compromise`,
    )
    .action(async (raw: RawFlushOptions) => {
      const filter = parseFilter(raw);
      const filtered = Object.keys(filter).length > 0;
      const chosen = [raw.all === true, raw.expired === true, filtered].filter(Boolean).length;
      if (chosen === 0) {
        throw new Error(
          'flush: say what to remove: --all, --expired, --tenant, --namespace, --sni or --older-than',
        );
      }
      if (chosen > 1) {
        throw new Error(
          `${raw.all === true ? '--all' : '--expired'}: stands alone; not with other selectors`,
        );
      }
      const dryRun = raw.dryRun === true;
      const access = await openStoreAccess(raw);
      let result: RemovalResult;
      try {
        if (raw.all === true) result = await flushAll(access, dryRun);
        else if (raw.expired === true) result = await flushExpired(access, dryRun);
        else result = await flushSelected(access, filter, dryRun);
      } finally {
        await access.close();
      }
      printRemoval(result, raw.json === true, access.encrypted);
    });
}

/** Prints a {@link RemovalResult}: one line, or JSON. */
export function printRemoval(result: RemovalResult, json: boolean, encrypted: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const n = result.dryRun ? result.matched : result.removed;
    const tickets = describeTicketEntries({
      ticketKeys: result.ticketKeys ?? 0,
      ticketUses: result.ticketUses ?? 0,
    });
    const sessions = `${formatCount(n)} session${n === 1 ? '' : 's'}${tickets === '' ? '' : `, ${tickets}`}`;
    process.stdout.write(
      result.dryRun ? `would remove ${sessions} (dry run)\n` : `removed ${sessions}\n`,
    );
  }
  if ((result.undecodable ?? 0) > 0) {
    process.stderr.write(`${undecodableHint(result.undecodable!, encrypted)}: not removed\n`);
  }
}

async function countLive(store: SessionStore, label: string): Promise<number> {
  if (store.list === undefined) throw new Error(`the ${store.kind} store cannot list its sessions`);
  const progress = bulkProgress(label, await entryCount(store));
  let live = 0;
  try {
    for await (const _ of store.list()) {
      live++;
      progress.tick();
    }
  } finally {
    progress.stop();
  }
  return live;
}

/**
 * Tickets mode's entries in the store, counted by their namespaces (ticket keys and first-use
 * records only: a store lists a namespace prefix without reading the sessions).
 */
async function countTicketEntries(store: SessionStore): Promise<TicketEntryCounts> {
  const counts = noTicketEntries();
  if (store.list === undefined) return counts;
  for (const namespacePrefix of [TICKET_KEYS_NAMESPACE_PREFIX, TICKET_USES_NAMESPACE_PREFIX]) {
    for await (const entry of store.list({ namespacePrefix })) {
      countTicketEntry(counts, storeEntryKind(entry.namespace, entry.size));
    }
  }
  return counts;
}

async function flushAll(access: StoreAccess, dryRun: boolean): Promise<RemovalResult> {
  const { store } = access;
  // Everything goes, tickets mode's keys and first-use records too (docs/tickets.md says what
  // running servers do then); they are counted apart, so that "sessions" means sessions.
  const tickets = await countTicketEntries(store);
  const ticketEntries = tickets.ticketKeys + tickets.ticketUses;
  if (dryRun) {
    const matched = Math.max(0, (await countLive(store, 'counting')) - ticketEntries);
    return { dryRun, matched, removed: 0, ...tickets };
  }
  if (store.clear === undefined) throw new Error(`the ${store.kind} store cannot be cleared`);
  const removed = Math.max(0, (await store.clear()) - ticketEntries);
  return { dryRun, matched: removed, removed, ...tickets };
}

/** Stores that keep expired entries until a sweep (SQLite, memory) have a `sweep(now)`. */
interface Sweepable {
  sweep(nowMs?: number): number;
}

function sweepable(store: SessionStore): store is SessionStore & Sweepable {
  return typeof (store as Partial<Sweepable>).sweep === 'function';
}

async function flushExpired(access: StoreAccess, dryRun: boolean): Promise<RemovalResult> {
  const { store } = access;
  // Redis drops each key at its deadline by itself: there is never anything left to sweep.
  if (!sweepable(store)) return { dryRun, matched: 0, removed: 0 };
  if (dryRun) {
    // stats() counts rows not yet swept; list() only live ones.
    const entries = store.stats === undefined ? 0 : (await store.stats()).entries;
    const matched = Math.max(0, entries - (await countLive(store, 'counting')));
    return { dryRun, matched, removed: 0 };
  }
  let removed = 0;
  // A sweep removes a bounded batch (SQLite: 10 000 rows), so that it never holds the lock long.
  for (let batch = store.sweep(); batch > 0; batch = store.sweep()) removed += batch;
  return { dryRun, matched: removed, removed };
}

async function flushSelected(
  access: StoreAccess,
  filter: SessionFilter,
  dryRun: boolean,
): Promise<RemovalResult> {
  const { store } = access;
  const progress = bulkProgress(dryRun ? 'counting' : 'flushing', await entryCount(store));
  const deletes = new DeleteQueue(store);
  let matched = 0;
  let undecodable = 0;
  const scope: SessionFilter = { namespace: filter.namespace, tenant: filter.tenant };
  const withValues = needsValues(filter);
  const nowMs = Date.now();
  try {
    // Deleted as the listing goes, so that memory stays small whatever the store's size.
    for await (const summary of scanSessions(access, scope, nowMs, {
      withValues,
      onScanned: progress.tick,
    })) {
      if (withValues && summary.undecodable !== undefined) {
        undecodable++;
        continue;
      }
      if (!matchesDecoded(filter, summary, nowMs)) continue;
      matched++;
      if (!dryRun) await deletes.push(summary.namespace, Buffer.from(summary.id, 'hex'));
    }
    await deletes.drain();
  } finally {
    progress.stop();
  }
  return { dryRun, matched, removed: deletes.removed, undecodable };
}
