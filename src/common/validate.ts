// Argument checks shared by every store, so that all of them refuse the same inputs with the same
// messages. Messages name the argument and describe the value's type or size, never its bytes:
// ids come from the network and values are secrets.
import { Buffer } from 'node:buffer';

/** The longest session id OpenSSL issues or accepts (`SSL_MAX_SSL_SESSION_ID_LENGTH`). */
export const MAX_ID_BYTES = 32;

/**
 * The longest namespace a store accepts, in UTF-8 bytes. The Node wiring's namespaces are at most
 * 81 characters (a 64-character tenant, `/`, 16 characters of hash); the bound keeps keys and the
 * stored envelope small whatever a caller passes.
 */
export const MAX_NAMESPACE_BYTES = 1024;

/**
 * Throws a `TypeError`/`RangeError` naming `namespace` unless it is a string without NUL, of at most
 * {@link MAX_NAMESPACE_BYTES} UTF-8 bytes, and well-formed (no lone surrogate). NUL is refused, as
 * the cache engine refuses it, because in-process stores use it to separate the namespace from the
 * id in one map key. Lone surrogates are refused because UTF-8 (SQLite's TEXT, Redis keys, the
 * stored envelope) turns each into U+FFFD: `"\uD800"` and `"\uDC00"` would be one namespace there
 * and two in memory, breaking the isolation namespaces exist for.
 */
export function checkNamespace(namespace: unknown): string {
  if (typeof namespace !== 'string') {
    throw new TypeError(`namespace must be a string, got ${describe(namespace)}`);
  }
  // Cheap first: a short string cannot be too long in UTF-8 (≤ 3 bytes per UTF-16 unit).
  if (namespace.length * 3 > MAX_NAMESPACE_BYTES) {
    const bytes = Buffer.byteLength(namespace, 'utf8');
    if (bytes > MAX_NAMESPACE_BYTES) {
      throw new RangeError(`namespace must be at most ${MAX_NAMESPACE_BYTES} bytes, got ${bytes}`);
    }
  }
  if (namespace.includes('\u0000')) throw new RangeError('namespace must not contain NUL');
  // With the u flag a surrogate range matches only unpaired surrogates.
  if (LONE_SURROGATE.test(namespace)) {
    throw new RangeError('namespace must be well-formed Unicode (no lone surrogates)');
  }
  return namespace;
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Whether {@link checkNamespace} accepts `namespace`. */
export function isValidNamespace(namespace: string): boolean {
  try {
    checkNamespace(namespace);
    return true;
  } catch {
    return false;
  }
}

/** Throws a `TypeError` naming `name` unless `value` is a `Uint8Array` (a `Buffer` is one). */
export function checkBytes(name: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`);
  }
  return value;
}

/**
 * Throws unless `id` is a `Uint8Array` of 1–{@link MAX_ID_BYTES} bytes: for `set`, where a bad id is
 * the caller's bug.
 */
export function checkId(id: unknown): Uint8Array {
  const bytes = checkBytes('id', id);
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_ID_BYTES) {
    throw new RangeError(`id must be 1 to ${MAX_ID_BYTES} bytes, got ${bytes.byteLength}`);
  }
  return bytes;
}

/**
 * Whether an id can name a stored entry at all. For `get`/`take`/`delete` an id of the wrong length
 * is not a bug but untrusted input (a TLS 1.3 PSK identity may be up to 65 535 bytes): it is a miss,
 * answered without touching the store. A non-`Uint8Array` still throws: that is a bug.
 */
export function isStorableId(id: unknown): boolean {
  const bytes = checkBytes('id', id);
  return bytes.byteLength > 0 && bytes.byteLength <= MAX_ID_BYTES;
}

/** Throws unless `expiresAtMs` is a finite number (ms since the epoch). */
export function checkDeadline(expiresAtMs: unknown): number {
  if (typeof expiresAtMs !== 'number' || !Number.isFinite(expiresAtMs)) {
    throw new TypeError(`expiresAtMs must be a finite number, got ${describe(expiresAtMs)}`);
  }
  return expiresAtMs;
}

// --- options ---------------------------------------------------------------------------------
// One set of rules for every option of every layer (cache, stores, adapter, client, wiring): a
// value of the wrong type is a `TypeError`, a value of the right type out of range a `RangeError`,
// and every message starts with the option's name and ends with what was given (described, never
// quoted: an option may be a secret).

/**
 * Throws a `TypeError` naming `name` unless `value` is a number (not NaN), and a `RangeError` unless
 * it is an integer from `min` to `max`: `cacheSize must be an integer from 0 to 4294967295, got -1`.
 */
export function checkInteger(
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${name} must be an integer, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** {@link checkInteger}, with `fallback` for an undefined `value`. */
export function integerOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  return value === undefined ? fallback : checkInteger(name, value, min, max);
}

/** Throws a `TypeError` naming the option unless `value` is a function or undefined. */
export function functionOption<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${name} must be a function, got ${describe(value)}`);
  }
  return value;
}

/** Throws a `TypeError` naming the option unless `value` is a boolean; `fallback` when undefined. */
export function booleanOption(name: string, value: unknown, fallback = false): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

/** Throws a `TypeError` naming the option unless `value` is a string. */
export function stringOption(name: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new TypeError(`${name} must be a string, got ${describe(value)}`);
  }
  return value;
}

/** Throws a `TypeError` naming the option unless `value` is one of `choices`. */
export function oneOfOption<T extends string>(
  name: string,
  value: unknown,
  choices: readonly T[],
): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new TypeError(`${name} must be one of ${choices.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** Throws a `TypeError` unless `options` is an object or undefined. */
export function checkOptions<T extends object>(options: T | undefined): T | Record<string, never> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  return options;
}

/** A short, secret-free description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `a string of length ${value.length}`;
  if (value instanceof Uint8Array) return `${value.constructor.name} of ${value.byteLength} bytes`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value)}`;
}

/** A `Buffer` view of the same bytes (no copy), for APIs that want a `Buffer`. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Whether `value` is a promise or another thenable. */
export function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Throws a `TypeError` naming the first key of `options` that `known` does not list, with the
 * nearest known key when one is close (`cachesize` → "did you mean cacheSize?"): a misspelt
 * option silently falling back to its default is worse than a refusal. Keys whose value is
 * `undefined` are checked too — `{ cachesize: undefined }` is still a misspelling.
 *
 * @param where - whose options these are, for the message, e.g. `'openSessionCache'`
 * @param known - every accepted key; a `Record<keyof Options, true>` keeps the list complete at
 * compile time
 */
export function checkKnownKeys(
  where: string,
  options: object,
  known: Readonly<Record<string, unknown>> | readonly string[],
): void {
  const names = Array.isArray(known) ? (known as readonly string[]) : Object.keys(known);
  for (const key of Object.keys(options)) {
    if (names.includes(key)) continue;
    const nearest = nearestKey(key, names);
    throw new TypeError(
      `${where}: unknown option ${JSON.stringify(key)}${
        nearest === undefined ? '' : `; did you mean ${nearest}?`
      }`,
    );
  }
}

/**
 * The entry of `candidates` nearest to `key`: the smallest edit distance, compared without case
 * (so `sessionidcontext` finds `sessionIdContext`), if that distance is small enough to be a typo
 * — at most a third of the longer name, and at least 1 —; otherwise `undefined`.
 */
export function nearestKey(key: string, candidates: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  const allowed = Math.max(1, Math.floor(Math.max(key.length, best.length) / 3));
  return bestDistance <= allowed ? best : undefined;
}

/**
 * Levenshtein distance (insertions, deletions, substitutions), two rows of memory. Hand-written:
 * a dozen lines on option names of a few dozen characters, called only when an option is wrong,
 * are not worth a dependency.
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
