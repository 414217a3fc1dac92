// `tls-session-cache stats`: what a store holds (entries, bytes, ages, by protocol, SNI and tenant)
// and, with --server, a running `serve`'s counters read from its /metrics endpoint.
import type { Command } from 'commander';
import { DEFAULT_METRICS_PREFIX } from '../../metrics/create-metrics.js';
import { bulkProgress, entryCount } from '../bulk-progress.js';
import { EXIT_CODES_HELP, addStoreOptions, type RawStoreOptions } from '../operating-options.js';
import { parsePrometheusText, seriesKey, type PrometheusSample } from '../prometheus-text.js';
import { countTicketEntry, scanSessions } from '../session-selection.js';
import { openStoreAccess, STORE_ENV, type StoreAccess } from '../store-access.js';
import { formatCount, formatPairs, formatTable, formatTime } from '../table.js';
import { undecodableHint } from './list.js';

interface RawStatsOptions extends RawStoreOptions {
  server?: string;
}

/** The key `bySni` uses for sessions made without SNI (no host name can be spelled so). */
export const NO_SNI = '(none)';

/** What `stats --json` prints under `store`. */
export interface StoreReport {
  kind: string;
  /** Entries as the store counts them (SQLite counts expired rows not yet swept). */
  entries: number | null;
  /** Value bytes as the store counts them. */
  bytes: number | null;
  /** Live sessions listed. */
  live: number;
  /** Value bytes of the live sessions. */
  liveBytes: number;
  oldestCreatedAt: string | null;
  newestCreatedAt: string | null;
  byProtocol: Record<string, number>;
  bySni: Record<string, number>;
  byTenant: Record<string, number>;
  /** Values that could not be read, by reason (e.g. `CODEC_MISMATCH`: encrypted). */
  undecodable: Record<string, number>;
  /** Tickets mode: ticket keys in the store (counted, never shown). */
  ticketKeys: number;
  /** Tickets mode: first-use records of TLS 1.3 tickets (single use). */
  ticketUses: number;
}

/** What `stats --json` prints under `server`. */
export interface ServerReport {
  url: string;
  /** hits ÷ lookups, or null before the first lookup. */
  hitRate: number | null;
  /** Every `tls_session_cache_…` series but histogram buckets, keyed `name{label="value"}`. */
  metrics: Record<string, number>;
}

/** Registers `stats`. */
export function registerStatsCommand(program: Command): void {
  const command = program
    .command('stats')
    .description(
      "what a store holds (entries, bytes, oldest/newest, by protocol, SNI and tenant) and a running server's counters",
    );
  addStoreOptions(command, { storeOptional: true });
  command
    .option(
      '--server <url>',
      'also read the counters of a running "serve --metrics-port" (http://HOST:PORT)',
    )
    .addHelpText(
      'after',
      `
Needs --store (or ${STORE_ENV}), --server, or both. Reading a store lists every session in it
(decoding each value, never printing a secret): O(entries), with a progress bar on a terminal.
--json prints { store, server } with the counts by protocol, SNI ("${NO_SNI}" without) and tenant.
Tickets mode's ticket keys and TLS 1.3 first-use records are counted apart from the sessions
(ticketKeys, ticketUses); a key is never shown.
${EXIT_CODES_HELP}

Examples:
  $ tls-session-cache stats --store sqlite:/var/lib/my-api/sessions.db
  $ tls-session-cache stats --store redis://10.0.0.5:6379 --json
  $ tls-session-cache serve --store sqlite:sessions.db --metrics-port 9464 &
  $ tls-session-cache stats --store sqlite:sessions.db --server http://127.0.0.1:9464`,
    )
    .action(async (raw: RawStatsOptions) => {
      if ((raw.store === undefined || raw.store === '') && raw.server === undefined) {
        throw new Error(`stats: give --store (or ${STORE_ENV}), --server, or both`);
      }
      const metricsUrl = raw.server === undefined ? undefined : metricsUrlOf(raw.server);
      let store: StoreReport | undefined;
      let encrypted = false;
      if (raw.store !== undefined && raw.store !== '') {
        const access = await openStoreAccess(raw);
        encrypted = access.encrypted;
        try {
          store = await storeReport(access);
        } finally {
          await access.close();
        }
      }
      const server = metricsUrl === undefined ? undefined : await serverReport(metricsUrl);
      if (raw.json === true) {
        process.stdout.write(
          `${JSON.stringify({ store: store ?? null, server: server ?? null }, null, 2)}\n`,
        );
      } else {
        const parts = [
          ...(store === undefined ? [] : [storeText(store)]),
          ...(server === undefined ? [] : [serverText(server)]),
        ];
        process.stdout.write(parts.join('\n'));
      }
      const undecodable = Object.values(store?.undecodable ?? {}).reduce((a, b) => a + b, 0);
      if (undecodable > 0) process.stderr.write(`${undecodableHint(undecodable, encrypted)}\n`);
    });
}

async function storeReport(access: StoreAccess): Promise<StoreReport> {
  const { store } = access;
  const counted = store.stats === undefined ? undefined : await store.stats();
  const report: StoreReport = {
    kind: store.kind,
    entries: counted?.entries ?? null,
    bytes: counted?.bytes ?? null,
    live: 0,
    liveBytes: 0,
    oldestCreatedAt: null,
    newestCreatedAt: null,
    byProtocol: {},
    bySni: {},
    byTenant: {},
    undecodable: {},
    ticketKeys: 0,
    ticketUses: 0,
  };
  let oldest = Infinity;
  let newest = -Infinity;
  const bump = (counts: Record<string, number>, key: string): void => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const progress = bulkProgress('reading', await entryCount(store));
  try {
    for await (const s of scanSessions(access, {}, Date.now(), {
      withValues: true,
      onScanned: progress.tick,
      onTicketEntry: (kind) => countTicketEntry(report, kind),
    })) {
      report.live++;
      report.liveBytes += s.size;
      bump(report.byTenant, s.tenant);
      if (s.undecodable !== undefined) {
        bump(report.undecodable, s.undecodable);
        continue;
      }
      bump(report.byProtocol, s.protocol ?? 'unknown');
      bump(report.bySni, s.sni ?? NO_SNI);
      if (s.createdAtMs !== undefined) {
        oldest = Math.min(oldest, s.createdAtMs);
        newest = Math.max(newest, s.createdAtMs);
      }
    }
  } finally {
    progress.stop();
  }
  if (Number.isFinite(oldest)) report.oldestCreatedAt = new Date(oldest).toISOString();
  if (Number.isFinite(newest)) report.newestCreatedAt = new Date(newest).toISOString();
  return report;
}

/** `http://host:port` → `http://host:port/metrics`; a URL with a path is used as given. */
function metricsUrlOf(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(
      `--server: must be a URL such as http://127.0.0.1:9464, got ${JSON.stringify(value.slice(0, 60))}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error('--server: must be an http:// or https:// URL');
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/metrics';
  return url;
}

/** How long `stats --server` waits for the metrics endpoint. */
const SERVER_TIMEOUT_MS = 5000;

async function serverReport(url: URL): Promise<ServerReport> {
  const shown = `${url.origin}${url.pathname}`;
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(SERVER_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    text = await response.text();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`--server: cannot read ${shown}: ${cause ?? message.split('\n')[0]}`);
  }
  const samples = parsePrometheusText(text).filter(
    (s) => s.name.startsWith(DEFAULT_METRICS_PREFIX) && !s.name.endsWith('_bucket'),
  );
  if (samples.length === 0) {
    throw new Error(`--server: ${shown} has no ${DEFAULT_METRICS_PREFIX}* metrics`);
  }
  const metrics: Record<string, number> = {};
  for (const sample of samples) metrics[seriesKey(sample)] = sample.value;
  const value = (name: string): number | undefined =>
    samples.find((s: PrometheusSample) => s.name === DEFAULT_METRICS_PREFIX + name)?.value;
  const hits = value('hits_total');
  const lookups = value('lookups_total');
  return {
    url: shown,
    hitRate: hits !== undefined && lookups !== undefined && lookups > 0 ? hits / lookups : null,
    metrics,
  };
}

function countsTable(title: string, counts: Record<string, number>): string {
  const rows = Object.entries(counts)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([key, n]) => [key === '' ? '-' : key, formatCount(n)]);
  return rows.length === 0 ? '' : `\n${formatTable([title, 'SESSIONS'], rows)}`;
}

function storeText(r: StoreReport): string {
  const undecodable = Object.values(r.undecodable).reduce((a, b) => a + b, 0);
  const pairs: [string, string][] = [
    ['store', r.kind],
    ['sessions', formatCount(r.live)],
    ['bytes', formatCount(r.liveBytes)],
  ];
  if (r.ticketKeys > 0) pairs.push(['ticket keys', formatCount(r.ticketKeys)]);
  if (r.ticketUses > 0) pairs.push(['ticket first uses', formatCount(r.ticketUses)]);
  const listed = r.live + r.ticketKeys + r.ticketUses;
  if (r.entries !== null && r.entries > listed) {
    pairs.push(['expired, not yet swept', formatCount(r.entries - listed)]);
  }
  pairs.push(
    ['oldest', r.oldestCreatedAt === null ? '-' : formatTime(Date.parse(r.oldestCreatedAt))],
    ['newest', r.newestCreatedAt === null ? '-' : formatTime(Date.parse(r.newestCreatedAt))],
  );
  if (undecodable > 0) pairs.push(['unreadable', formatCount(undecodable)]);
  return (
    formatPairs(pairs) +
    countsTable('PROTOCOL', r.byProtocol) +
    countsTable('SNI', r.bySni) +
    countsTable('TENANT', r.byTenant)
  );
}

function serverText(r: ServerReport): string {
  const strip = (key: string): string => key.slice(DEFAULT_METRICS_PREFIX.length);
  const pairs: [string, string][] = [
    ['server', r.url],
    ['hit rate', r.hitRate === null ? '-' : `${(r.hitRate * 100).toFixed(1)} %`],
    ...Object.entries(r.metrics).map(([key, value]): [string, string] => [
      strip(key),
      Number.isInteger(value) ? formatCount(value) : String(value),
    ]),
  ];
  return formatPairs(pairs);
}
