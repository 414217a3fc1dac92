// `--store` takes a URL-ish string so that every store the project grows (SQLite, Redis, Redis
// Cluster) fits one option without new flags. Only `memory` exists today; the schemes planned next
// are recognised so that their error says "not available yet" rather than "unknown", and adding one
// is a new union member plus a case below.

/** The embedded default: the in-process {@link SessionCache} alone, no external store. */
export interface MemoryStoreUrl {
  readonly kind: 'memory';
}

/**
 * A parsed `--store` value, discriminated by `kind`. Stores planned next: `sqlite:PATH`,
 * `redis://…`, `rediss://…`, `redis+cluster://host:port,host:port`.
 */
export type StoreUrl = MemoryStoreUrl;

/** Every store kind {@link parseStoreUrl} accepts today, for help texts and error messages. */
export const SUPPORTED_STORES: readonly string[] = ['memory'];

/** Thrown by {@link parseStoreUrl}; the message is one line and never repeats credentials. */
export class StoreUrlError extends Error {
  override readonly name = 'StoreUrlError';
}

// Schemes the project plans to support; listed so their error can say so. Matched on the scheme only.
const PLANNED_SCHEMES: readonly string[] = ['sqlite', 'redis', 'rediss', 'redis+cluster'];

/**
 * Parses a `--store` value. Accepts `memory` (also written `memory:`).
 *
 * @throws {@link StoreUrlError} for an empty, malformed or not (yet) supported value.
 * @example
 * ```ts
 * parseStoreUrl('memory'); // { kind: 'memory' }
 * ```
 */
export function parseStoreUrl(value: string): StoreUrl {
  if (value.trim() === '') throw new StoreUrlError('empty store; use one of: memory');
  const scheme = schemeOf(value);
  if (scheme === undefined) {
    throw new StoreUrlError(
      `malformed store ${quote(value)}: expected a store name or SCHEME:…; supported: ${SUPPORTED_STORES.join(', ')}`,
    );
  }
  const rest = value.slice(scheme.length).replace(/^:/, '');
  switch (scheme.toLowerCase()) {
    case 'memory':
      if (rest !== '') {
        throw new StoreUrlError(`the memory store takes no location, got ${quote(value)}`);
      }
      return { kind: 'memory' };
    default:
      if (PLANNED_SCHEMES.includes(scheme.toLowerCase())) {
        // The scheme alone is named: the rest of a Redis URL may hold a password.
        throw new StoreUrlError(
          `the ${scheme.toLowerCase()} store is not available yet; supported: ${SUPPORTED_STORES.join(', ')}`,
        );
      }
      throw new StoreUrlError(
        `unknown store ${quote(scheme)}; supported: ${SUPPORTED_STORES.join(', ')}`,
      );
  }
}

/** The leading `scheme` of `scheme:rest` (or of a bare name), RFC 3986 syntax; else undefined. */
function schemeOf(value: string): string | undefined {
  return /^([A-Za-z][A-Za-z0-9+.-]*)(?::|$)/.exec(value)?.[1];
}

/**
 * Quotes a user-supplied value for a one-line message: URL user info (which may hold a password) is
 * masked, the length bounded and control characters escaped.
 */
function quote(value: string): string {
  const masked = value.replace(/\/\/[^/]*@/g, '//***@');
  const shown = masked.length > 60 ? `${masked.slice(0, 60)}…` : masked;
  return JSON.stringify(shown);
}
