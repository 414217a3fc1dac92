// Encryption at rest of stored sessions: AES-256-GCM under a rotating keyring.
export {
  AesGcmCodec,
  AES_256_GCM_CODEC_ID,
  AES_GCM_MAX_OVERHEAD,
  MAX_SEALED_SESSION_BYTES,
} from './aes-gcm-codec.js';
export { Keyring, KEY_BYTES, MAX_KEY_ID_LENGTH, type KeyringEntryLike } from './keyring.js';
export { loadKeyring, KEYS_ENV_VAR, MAX_KEY_FILE_BYTES, type KeySources } from './key-source.js';
export type { EncryptionOption } from './options.js';
