// The ways to give storeCallbacks its encryption keys. Shown in docs/security.md; run by
// test/docs/examples.test.ts in a directory holding session-keys.
import { randomBytes } from 'node:crypto';
// #region docs
import { Keyring, MemoryStore, loadKeyring, storeCallbacks } from 'tls-session-cache';

const store = new MemoryStore();
// From a key file, from options, or from TLS_SESSION_CACHE_KEYS; undefined when none is configured.
const keyring = loadKeyring({ keyFile: 'session-keys' });
const adapter = storeCallbacks(store, { encryption: keyring });
// #endregion docs
const base64Key = randomBytes(32).toString('base64');
const thirtyTwoBytes = randomBytes(32);
// #region docs
// or: the sources themselves, which must then yield a key
storeCallbacks(store, { encryption: { keys: [`2026-02:${base64Key}`] } });
// or: a Keyring made in code
storeCallbacks(store, { encryption: new Keyring([{ id: '2026-02', key: thirtyTwoBytes }]) });
// #endregion docs
process.stdout.write(`${keyring === undefined ? 'plain' : 'encrypted'}\n`);
await adapter.close();
