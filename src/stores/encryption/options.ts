// The `encryption` option of storeCallbacks(): a keyring, or where to find one, turned into the
// codec the adapter writes and reads with.
import type { StoredSessionCodec } from '../../session/stored-record.js';
import { AesGcmCodec } from './aes-gcm-codec.js';
import { KEYS_ENV_VAR, loadKeyring, type KeySources } from './key-source.js';
import { isKeyring, type Keyring } from './keyring.js';
import { describe } from '../../common/validate.js';

/**
 * What `encryption` accepts: a {@link Keyring}, or the sources {@link loadKeyring} reads (`keys`,
 * `keyFile`, `env`), which must then configure at least one key.
 */
export type EncryptionOption = Keyring | KeySources;

/**
 * The codec for a `codec` and an `encryption` option, of which at most one may be given.
 * @throws TypeError/RangeError naming `encryption` (or `codec`) for invalid options
 */
export function codecFromOptions(
  codec: StoredSessionCodec | undefined,
  encryption: EncryptionOption | undefined,
): StoredSessionCodec | undefined {
  if (encryption === undefined) return codec;
  if (codec !== undefined) {
    throw new TypeError('give either codec or encryption, not both');
  }
  return new AesGcmCodec(keyringFromOption(encryption));
}

/**
 * The {@link Keyring} an `encryption` option gives: the keyring itself, or the one its sources hold.
 * @throws TypeError/RangeError naming `encryption` for an invalid option or one that finds no key
 */
export function keyringFromOption(encryption: EncryptionOption): Keyring {
  if (isKeyring(encryption)) return encryption;
  if (typeof encryption !== 'object' || encryption === null) {
    throw new TypeError(
      `encryption must be a Keyring or { keys, keyFile, env }, got ${describe(encryption)}`,
    );
  }
  let keyring: Keyring | undefined;
  try {
    keyring = loadKeyring(encryption as Parameters<typeof loadKeyring>[0]);
  } catch (error) {
    if (error instanceof Error) error.message = `encryption: ${error.message}`;
    throw error;
  }
  if (keyring === undefined) {
    // Asked for encryption, found no key: refusing beats storing master secrets in plain text.
    throw new RangeError(
      `encryption: no key configured (give keys, keyFile or the ${KEYS_ENV_VAR} environment variable)`,
    );
  }
  return keyring;
}
