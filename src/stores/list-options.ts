import type { ListOptions } from './store.js';
import {
  booleanOption,
  checkNamespace,
  checkOptions,
  describe,
  integerOption,
} from '../common/validate.js';

/** {@link ListOptions} checked, with defaults filled in. */
export interface ListFilters {
  readonly namespace: string | undefined;
  readonly namespacePrefix: string | undefined;
  readonly expiresBeforeMs: number;
  readonly limit: number;
  readonly withValues: boolean;
}

/**
 * Checks `list`'s options, throwing a `TypeError`/`RangeError` naming the option, and fills in the
 * defaults (no limit, no deadline filter, no values).
 */
export function checkListOptions(options: ListOptions | undefined): ListFilters {
  const opts = checkOptions(options);
  const { namespace, namespacePrefix, expiresBeforeMs, limit, withValues } = opts;
  if (namespace !== undefined) checkNamespace(namespace);
  if (namespacePrefix !== undefined) checkNamespace(namespacePrefix);
  if (
    expiresBeforeMs !== undefined &&
    (typeof expiresBeforeMs !== 'number' || Number.isNaN(expiresBeforeMs))
  ) {
    throw new TypeError(`expiresBeforeMs must be a number, got ${describe(expiresBeforeMs)}`);
  }
  return {
    namespace,
    namespacePrefix,
    expiresBeforeMs: expiresBeforeMs ?? Number.POSITIVE_INFINITY,
    limit: integerOption('limit', limit, Number.POSITIVE_INFINITY, 0),
    withValues: booleanOption('withValues', withValues),
  };
}

/** Whether an entry passes the namespace and deadline filters (liveness is the caller's check). */
export function matchesList(filters: ListFilters, namespace: string, expiresAtMs: number): boolean {
  return (
    (filters.namespace === undefined || namespace === filters.namespace) &&
    (filters.namespacePrefix === undefined || namespace.startsWith(filters.namespacePrefix)) &&
    expiresAtMs < filters.expiresBeforeMs
  );
}
