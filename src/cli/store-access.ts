// How the operating commands (stats, list, inspect, flush, remove) reach a store: open it from
// `--store`, and read its values with the codec of the keys `serve` writes with (`--key-file`, else
// TLS_SESSION_CACHE_KEYS). Everything about keys is in this one module.
import { existsSync } from 'node:fs';
import { createStore } from '../stores/from-url.js';
import {
  decodeStoredSession,
  type StoredSessionCodec,
  type StoredSessionOptions,
} from '../session/stored-record.js';
import type { SessionStore } from '../stores/store.js';
import type { SessionRecord } from '../session/session-record.js';
import { codecFromOptions } from '../stores/encryption/options.js';
import { keyringOption } from './commands/serve.js';
import { optionValue, show } from './option-parsing.js';
import { parseStoreUrl, type StoreUrl } from '../stores/store-url.js';

/** Environment variable read when `--store` is not given (keeps a Redis password out of `ps`). */
export const STORE_ENV = 'TLS_SESSION_CACHE_STORE';

/** An open store and how to read its values. */
export interface StoreAccess {
  /** The store; {@link close} closes it. */
  readonly store: SessionStore;
  /** `memory`, `sqlite`, `redis` or `redis-cluster`. */
  readonly kind: StoreUrl['kind'];
  /**
   * Decodes a value read under (`namespace`, `id`).
   * @throws StoredSessionError for a value that does not decode (e.g. encrypted, and no key given)
   */
  decode(value: Uint8Array, namespace: string, id: Uint8Array): SessionRecord;
  /** Whether values are read with a codec (a key file was given). */
  readonly encrypted: boolean;
  /** Closes the store. */
  close(): Promise<void>;
}

/** The store options of the operating commands, as commander hands them over. */
export interface StoreAccessOptions {
  /** `--store URL` (or the {@link STORE_ENV} variable). */
  store?: string | undefined;
  /**
   * `--key-file PATH`: the keys stored values are encrypted with; without it the
   * `TLS_SESSION_CACHE_KEYS` environment variable, as for `serve`.
   */
  keyFile?: string | undefined;
  /**
   * Where `TLS_SESSION_CACHE_KEYS` is read from.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * Opens the store named by `--store` for an operating command. Refuses `memory` (a memory store
 * lives inside one process: a command would only see an empty one of its own) and an SQLite file
 * that does not exist (opening would create an empty one, hiding a mistyped path).
 * @throws Error with a one-line message starting with the option's name.
 */
export async function openStoreAccess(options: StoreAccessOptions): Promise<StoreAccess> {
  if (options.store === undefined || options.store === '') {
    throw new Error(`--store: required (or set ${STORE_ENV})`);
  }
  const url = optionValue('--store', () => parseStoreUrl(options.store!));
  if (url.kind === 'memory') {
    throw new Error(
      '--store: a memory store lives inside one server process; give the sqlite: or redis:// store the servers share',
    );
  }
  if (url.kind === 'sqlite' && !existsSync(url.path)) {
    throw new Error(`--store: no such file ${show(url.path)}`);
  }
  // The keys `serve` would write with: --key-file, else TLS_SESSION_CACHE_KEYS, else plain.
  const keyring = keyringOption(options.keyFile, options.env ?? process.env);
  const codec: StoredSessionCodec | undefined = codecFromOptions(undefined, keyring);
  let store: SessionStore;
  try {
    // An operator's command wants an answer, not a degraded store: fail with the reason.
    store = await createStore(url, { requireStore: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`--store: ${message.split('\n')[0] ?? ''}`);
  }
  const decodeOptions: StoredSessionOptions = { codec };
  return {
    store,
    kind: url.kind,
    encrypted: codec !== undefined,
    decode: (value, namespace, id) => decodeStoredSession(value, namespace, id, decodeOptions),
    close: async () => {
      await store.close();
    },
  };
}
