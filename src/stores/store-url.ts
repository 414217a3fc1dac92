// `--store` takes a URL-ish string so that every store (memory, SQLite, Redis, Redis Cluster, Redis
// Sentinel) fits one option without new flags. Parsing reads the whole form (a Redis URL with the
// Redis store's own parser, which loads no client), so that a malformed value fails before anything
// is opened; opening the store (createStore in src/stores/from-url.ts) checks the rest, e.g. that a
// file can be opened or a Redis server accepts the password. Adding a store is a new union member,
// a case below, and a case there.
import { parseRedisUrl } from './redis-options.js';

/** `memory`: the embedded {@link MemoryStore}, in this process only. */
export interface MemoryStoreUrl {
  /** Discriminant of {@link StoreUrl}. */
  readonly kind: 'memory';
}

/** `sqlite:PATH`: a {@link SqliteStore} file, shared by the processes of one host. */
export interface SqliteStoreUrl {
  /** Discriminant of {@link StoreUrl}. */
  readonly kind: 'sqlite';
  /** The database file as given (relative paths are relative to the working directory). */
  readonly path: string;
}

/**
 * `redis://[user:pass@]HOST:PORT[/db]` or `rediss://…` (TLS): one Redis server. The URL is kept
 * whole for the Redis client and checked when the store is opened. It may hold a password: never
 * print it.
 */
export interface RedisStoreUrl {
  /** Discriminant of {@link StoreUrl}. */
  readonly kind: 'redis';
  /** The URL as given. A secret when it holds a password. */
  readonly url: string;
}

/**
 * `redis+cluster://[user:pass@]HOST:PORT,HOST:PORT,…` or `rediss+cluster://…`: a Redis Cluster,
 * discovered from the nodes listed. Kept whole like {@link RedisStoreUrl}.
 */
export interface RedisClusterStoreUrl {
  /** Discriminant of {@link StoreUrl}. */
  readonly kind: 'redis-cluster';
  /** The URL as given. A secret when it holds a password. */
  readonly url: string;
}

/**
 * `redis+sentinel://[user:pass@]HOST:PORT,HOST:PORT,…/MASTER_NAME[/db]` or `rediss+sentinel://…`:
 * the master that these Redis Sentinels monitor under MASTER_NAME, followed across failovers. Kept
 * whole like {@link RedisStoreUrl}.
 */
export interface RedisSentinelStoreUrl {
  /** Discriminant of {@link StoreUrl}. */
  readonly kind: 'redis-sentinel';
  /** The URL as given. A secret when it holds a password. */
  readonly url: string;
}

/** A parsed `--store` value, discriminated by `kind`. */
export type StoreUrl =
  MemoryStoreUrl | SqliteStoreUrl | RedisStoreUrl | RedisClusterStoreUrl | RedisSentinelStoreUrl;

/** The forms {@link parseStoreUrl} accepts, for help texts and error messages. */
export const SUPPORTED_STORES: readonly string[] = [
  'memory',
  'sqlite:PATH',
  'redis://HOST:PORT',
  'rediss://HOST:PORT',
  'redis+cluster://HOST:PORT,HOST:PORT',
  'redis+sentinel://HOST:PORT,HOST:PORT/MASTER_NAME',
];

/**
 * Thrown by {@link parseStoreUrl}: a `TypeError` (the value is of the wrong form) whose message is
 * one line, names the part that is wrong and never repeats credentials.
 */
export class StoreUrlError extends TypeError {
  /** Always `'StoreUrlError'`, so logs and `error.name` checks tell it apart. */
  override readonly name = 'StoreUrlError';
}

const REDIS_SCHEMES: Readonly<Record<string, 'redis' | 'redis-cluster' | 'redis-sentinel'>> = {
  redis: 'redis',
  rediss: 'redis',
  'redis+cluster': 'redis-cluster',
  'rediss+cluster': 'redis-cluster',
  'redis+sentinel': 'redis-sentinel',
  'rediss+sentinel': 'redis-sentinel',
};

/**
 * Parses a `--store` value: `memory` (also `memory:`), `sqlite:PATH` (also `sqlite:///abs/path`),
 * `redis://…`, `rediss://…`, `redis+cluster://…`, `rediss+cluster://…`, `redis+sentinel://…`,
 * `rediss+sentinel://…`.
 *
 * @throws {@link StoreUrlError} for an empty, malformed or unknown value.
 * @example
 * ```ts
 * parseStoreUrl('memory'); // { kind: 'memory' }
 * parseStoreUrl('sqlite:/var/lib/api/sessions.db'); // { kind: 'sqlite', path: '/var/lib/api/sessions.db' }
 * ```
 */
export function parseStoreUrl(value: string): StoreUrl {
  const supported = `supported: ${SUPPORTED_STORES.join(', ')}`;
  if (value.trim() === '') throw new StoreUrlError(`empty store; ${supported}`);
  const scheme = schemeOf(value);
  if (scheme === undefined) {
    throw new StoreUrlError(
      `malformed store ${quote(value)}: expected a store name or SCHEME:…; ${supported}`,
    );
  }
  const rest = value.slice(scheme.length).replace(/^:/, '');
  const kind = scheme.toLowerCase();
  switch (kind) {
    case 'memory':
      if (rest !== '') {
        throw new StoreUrlError(`the memory store takes no location, got ${quote(value)}`);
      }
      return { kind: 'memory' };
    case 'sqlite':
      return { kind: 'sqlite', path: sqlitePath(rest, value) };
    default: {
      const redis = REDIS_SCHEMES[kind];
      if (redis !== undefined) {
        // The scheme alone is named in errors: the rest may hold a password (the Redis parser's
        // messages never repeat the user info either).
        if (!rest.startsWith('//') || /^\/\/(?:[^@/]*@)?(?:[/?#]|$)/.test(rest)) {
          throw new StoreUrlError(
            `the ${kind} store needs ${kind}://HOST:PORT${redis === 'redis-sentinel' ? '/MASTER_NAME' : ''}`,
          );
        }
        try {
          parseRedisUrl(value);
        } catch (error) {
          // "url: the database must be a number" → "the redis store: the database must be a number"
          const message = error instanceof Error ? error.message.replace(/^url: /, '') : '';
          throw new StoreUrlError(`the ${kind} store: ${message}`);
        }
        return { kind: redis, url: value };
      }
      throw new StoreUrlError(`unknown store ${quote(scheme)}; ${supported}`);
    }
  }
}

/** `sqlite:PATH` → PATH; `sqlite:///abs` (URL style) → `/abs`. */
function sqlitePath(rest: string, value: string): string {
  let path = rest;
  if (path.startsWith('//')) {
    // sqlite://host/… has no meaning for a local file; sqlite:///abs/path is the URL spelling.
    if (!path.startsWith('///')) {
      throw new StoreUrlError(
        `the sqlite store takes a file: sqlite:PATH or sqlite:///ABSOLUTE/PATH, got ${quote(value)}`,
      );
    }
    path = path.slice(2);
  }
  if (path === '') throw new StoreUrlError('the sqlite store needs a file: sqlite:PATH');
  if (path.includes('\u0000')) throw new StoreUrlError('the sqlite file name must not contain NUL');
  return path;
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
