import type { ListOptions } from './store.js';
import { checkNamespace, checkOptions, describe } from '../common/validate.js';

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
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new RangeError(`limit must be a whole number ≥ 0, got ${describe(limit)}`);
  }
  if (withValues !== undefined && typeof withValues !== 'boolean') {
    throw new TypeError(`withValues must be a boolean, got ${describe(withValues)}`);
  }
  return {
    namespace,
    namespacePrefix,
    expiresBeforeMs: expiresBeforeMs ?? Number.POSITIVE_INFINITY,
    limit: limit ?? Number.POSITIVE_INFINITY,
    withValues: withValues === true,
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
