// A store plugged into a cache by hand (what openSessionCache does for you). Shown in
// docs/stores.md; run by test/docs/examples.test.ts in a directory holding key.pem, cert.pem and
// session-keys.
import { announce } from '../support/announce.js';
// #region docs
import { readFileSync } from 'node:fs';
import https from 'node:https';
import {
  SessionCache,
  SqliteStore,
  attach,
  loadKeyring,
  statefulServerOptions,
  storeCallbacks,
} from 'tls-session-cache';

const store = await SqliteStore.open({ path: 'sessions.db' });
const adapter = storeCallbacks(store, {
  encryption: loadKeyring({ keyFile: 'session-keys' }), // undefined (plain) when no key is configured
});
const cache = new SessionCache({ ...adapter.callbacks }); // { onNew, onRemove, onGet }
adapter.bind(cache); // a session removed from the store, by any process, leaves this memory too
const server = https.createServer(
  {
    key: readFileSync('key.pem'),
    cert: readFileSync('cert.pem'),
    ...statefulServerOptions({ sessionIdContext: 'my-api' }),
  },
  (req, res) => res.end('hello\n'),
);
attach(server, cache);
server.listen(Number(process.env.PORT ?? 8443));

process.once('SIGTERM', () => {
  server.close(async () => {
    cache.close(); // every session leaves memory with reason "closed": the store keeps them
    await adapter.close(); // waits for pending writes, then closes the store
    process.stdout.write(`${JSON.stringify(adapter.stats())}\n`); // writes, reads, found, …
  });
});
// #endregion docs
announce(server);
