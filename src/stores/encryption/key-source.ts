// Where keys come from: options, a key file, or the TLS_SESSION_CACHE_KEYS environment variable,
// all in one text format, `ID:KEY` (KEY = 64 hex digits or base64 of 32 bytes), newest first.
//
// Every error names the source and the line or entry, never its text: the text is the key.
import { Buffer } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Keyring, checkKeyId, toKeyObject, type KeyringEntryLike } from './keyring.js';
import { describe } from '../../common/validate.js';
import { SessionCacheError } from '../../common/errors.js';

/** The environment variable {@link loadKeyring} reads when no key is given otherwise. */
export const KEYS_ENV_VAR = 'TLS_SESSION_CACHE_KEYS';

/** The largest key file read: far more than 255 keys, far less than a mistaken path to a big file. */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

/** Where {@link loadKeyring} looks for keys. */
export interface KeySources {
  /**
   * Keys, newest first: `"ID:KEY"` strings or `{ id, key }` objects (see `KeyringEntryLike`).
   * @default undefined
   */
  keys?: readonly (string | KeyringEntryLike)[] | undefined;
  /**
   * A file of keys, one `ID:KEY` per line, newest first; blank lines and lines starting with `#`
   * are ignored. Read once, when the keyring is made. A warning (`process.emitWarning`, code
   * `TLS_SESSION_CACHE_KEY_FILE_MODE`) says so when group or others may read or write it.
   * @default undefined
   */
  keyFile?: string | undefined;
  /**
   * The environment to read {@link KEYS_ENV_VAR} from (`ID:KEY` entries separated by commas or
   * white space, newest first) — only when neither `keys` nor `keyFile` is given. Pass `{}` to
   * ignore the environment.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * The keyring the sources configure, or `undefined` when none configures a key. `keys` and
 * `keyFile` are used together when both are given (`keys` first); the environment variable is
 * read only when neither is.
 *
 * A source that is given but holds no key (an empty array, an empty file, the variable set to
 * blanks) is an error rather than "no encryption": a failed secret injection must not silently
 * store master secrets in plain text.
 *
 * @example
 * ```ts
 * const keyring = loadKeyring({ keyFile: '/run/secrets/session-keys' });
 * const adapter = storeCallbacks(store, { encryption: keyring }); // plain if undefined
 * ```
 * @throws TypeError/RangeError naming the option (`keys`, `keyFile`, `TLS_SESSION_CACHE_KEYS`) and
 * the entry or line, never key text: a missing or unreadable file, a line that is not `ID:KEY`, a
 * key that is not 32 bytes, a duplicate id, no key at all
 */
export function loadKeyring(sources: {
  keys?: readonly (string | KeyringEntryLike)[];
  keyFile?: string;
  env?: NodeJS.ProcessEnv;
}): Keyring | undefined {
  if (typeof sources !== 'object' || sources === null) {
    throw new TypeError(`key sources must be an object, got ${describe(sources)}`);
  }
  const { keys, keyFile } = sources as KeySources;
  const env = (sources as KeySources).env ?? process.env;
  if (keys === undefined && keyFile === undefined) {
    const value = env[KEYS_ENV_VAR];
    if (value === undefined) return undefined;
    return new Keyring(parseKeyList(value, KEYS_ENV_VAR), KEYS_ENV_VAR);
  }
  const entries: KeyringEntryLike[] = [];
  if (keys !== undefined) {
    if (!Array.isArray(keys)) throw new TypeError(`keys must be an array, got ${describe(keys)}`);
    if (keys.length === 0) throw new RangeError('keys must hold at least one key');
    keys.forEach((key: unknown, i) => {
      entries.push(typeof key === 'string' ? parseKeyLine(key, `keys[${i}]`) : (key as never));
    });
  }
  if (keyFile !== undefined) entries.push(...readKeyFile(keyFile));
  return new Keyring(entries, keys === undefined ? 'keyFile' : 'keys');
}

/**
 * Parses one `ID:KEY` entry (white space around it ignored).
 * @param where - how an error names the entry, e.g. `keyFile line 3`
 */
export function parseKeyLine(line: string, where: string): KeyringEntryLike {
  const text = line.trim();
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) {
    throw new RangeError(
      `${where}: expected ID:KEY (a key id, a colon, 32 bytes in hex or base64)`,
    );
  }
  // Checked here rather than in the Keyring, so that an error names the line, not an index.
  const id = checkKeyId(where, text.slice(0, colon));
  return { id, key: toKeyObject(`${where} (key id ${JSON.stringify(id)})`, text.slice(colon + 1)) };
}

/** Entries of the environment variable's form: `ID:KEY` separated by commas and/or white space. */
function parseKeyList(value: string, name: string): KeyringEntryLike[] {
  const items = value.split(/[\s,]+/).filter((item) => item !== '');
  if (items.length === 0) throw new RangeError(`${name} is set but holds no key`);
  return items.map((item, i) => parseKeyLine(item, `${name} entry ${i + 1}`));
}

/** The keys of a key file; warns when group or others may read or write it. */
function readKeyFile(path: string): KeyringEntryLike[] {
  if (typeof path !== 'string' || path === '') {
    throw new TypeError(`keyFile must be a non-empty path, got ${describe(path)}`);
  }
  const bytes = readBounded(path);
  let text: string;
  try {
    text = bytes.toString('utf8');
  } finally {
    bytes.fill(0);
  }
  const entries: KeyringEntryLike[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    entries.push(parseKeyLine(line, `keyFile ${path} line ${i + 1}`));
  });
  if (entries.length === 0) throw new RangeError(`keyFile ${path} holds no key`);
  return entries;
}

/** Reads at most MAX_KEY_FILE_BYTES; works for pipes too (`--key-file <(vault read …)`). */
function readBounded(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new SessionCacheError(
      'ERR_KEY_FILE',
      `keyFile ${path}: cannot read it (${errorCode(error)})`,
    );
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) {
      throw new SessionCacheError('ERR_KEY_FILE', `keyFile ${path}: is a directory`);
    }
    if (stat.isFile() && process.platform !== 'win32' && (stat.mode & 0o066) !== 0) {
      // A warning, not a refusal: container runtimes mount secrets 0644 by default (Kubernetes'
      // defaultMode, Docker configs), and refusing those would push people to plain text instead.
      process.emitWarning(
        `keyFile ${path} is open to group or others (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}): whoever can read it can decrypt stored sessions, whoever can write it can plant them; chmod 600 it`,
        { code: 'TLS_SESSION_CACHE_KEY_FILE_MODE' },
      );
    }
    const buffer = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, length, buffer.length - length, null);
      } catch (error) {
        buffer.fill(0);
        throw new SessionCacheError(
          'ERR_KEY_FILE',
          `keyFile ${path}: cannot read it (${errorCode(error)})`,
        );
      }
      if (n === 0) break;
      length += n;
      if (length > MAX_KEY_FILE_BYTES) {
        buffer.fill(0);
        throw new RangeError(`keyFile ${path}: larger than ${MAX_KEY_FILE_BYTES} bytes`);
      }
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? 'error';
}
