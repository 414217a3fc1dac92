// The options every operating command (stats, list, inspect, flush, remove) shares, declared and
// checked in one place so that they read and fail the same way everywhere.
import { Option, type Command } from 'commander';
import { checkTenant } from '../node/namespace.js';
import { checkNamespace } from '../common/validate.js';
import { optionValue, parseDuration, wholeNumber } from './option-parsing.js';
import type { SessionFilter } from './session-selection.js';
import { STORE_ENV, type StoreAccessOptions } from './store-access.js';
import { SUPPORTED_STORES } from '../stores/store-url.js';

/** What commander hands over for the shared options. */
export interface RawStoreOptions extends StoreAccessOptions {
  json?: boolean;
}

/** What commander hands over for the filter options. */
export interface RawFilterOptions {
  namespace?: string;
  tenant?: string;
  sni?: string;
  olderThan?: string;
}

export { EXIT_CODES_HELP } from './exit-codes.js';

/** Adds `--store`, `--key-file` and `--json` to `command`; `--store` is required unless `optional`. */
export function addStoreOptions(command: Command, { storeOptional = false } = {}): Command {
  const store = new Option(
    '--store <url>',
    `the store the servers share: ${SUPPORTED_STORES.filter((s) => s !== 'memory').join(', ')}`,
  ).env(STORE_ENV);
  if (!storeOptional) store.makeOptionMandatory();
  return command
    .addOption(store)
    .option(
      '--key-file <path>',
      'keys the stored sessions are encrypted with, one ID:KEY per line, as for serve (default: the TLS_SESSION_CACHE_KEYS environment variable, else plain values)',
    )
    .option('--json', 'print JSON for scripts instead of a table')
    .showHelpAfterError(false);
}

/** Adds `--namespace` and `--tenant` (and, unless `idOnly`, `--sni` and `--older-than`). */
export function addFilterOptions(command: Command, { idOnly = false } = {}): Command {
  command
    .option('--namespace <ns>', 'only this namespace (TENANT/HASH, or HASH without a tenant)')
    .option('--tenant <name>', 'only the namespaces of this tenant ("" for those without one)');
  if (idOnly) return command;
  return command
    .option('--sni <host>', 'only sessions made for this SNI host name')
    .option(
      '--older-than <duration>',
      'only sessions made at least this long ago (30s, 15m, 2h, 7d)',
    );
}

/** Checks the filter options. */
export function parseFilter(raw: RawFilterOptions): SessionFilter {
  const filter: SessionFilter = {};
  if (raw.namespace !== undefined) {
    filter.namespace = optionValue('--namespace', () => checkNamespace(raw.namespace));
  }
  if (raw.tenant !== undefined)
    filter.tenant = optionValue('--tenant', () => checkTenant(raw.tenant));
  if (raw.sni !== undefined) {
    if (!/^[A-Za-z0-9._-]{1,253}$/.test(raw.sni)) {
      throw new Error(
        '--sni: must be a host name (letters, digits, ".", "-", "_"), at most 253 characters',
      );
    }
    filter.sni = raw.sni.toLowerCase();
  }
  if (raw.olderThan !== undefined)
    filter.olderThanMs = parseDuration('--older-than', raw.olderThan);
  return filter;
}

/** `--limit N`: a whole number, `0` for no limit. */
export function parseLimit(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = wholeNumber('--limit', value, 0, 2 ** 31 - 1);
  return n === 0 ? Number.POSITIVE_INFINITY : n;
}
