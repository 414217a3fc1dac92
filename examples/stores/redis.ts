// RedisStore plugged into a cache by hand (what openSessionCache does for you with a redis:// URL).
// Shown in docs/redis.md; run by test/docs/examples.test.ts against a real redis-server, whose URL
// it gets in SESSION_REDIS_URL, in a directory holding key.pem and cert.pem.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { statefulServerOptions } from 'tls-session-cache';
import { announce } from '../support/announce.js';
// #region docs
import { RedisStore, SessionCache, attach, storeCallbacks } from 'tls-session-cache';
// #endregion docs

const server = https.createServer(
  {
    key: readFileSync('key.pem'),
    cert: readFileSync('cert.pem'),
    ...statefulServerOptions({ sessionIdContext: 'my-api' }),
  },
  (req, res) => res.end('hello\n'),
);
// #region docs

const store = await RedisStore.create({ url: process.env.SESSION_REDIS_URL });
const adapter = storeCallbacks(store); // the store as the cache's new/remove/get callbacks
const cache = new SessionCache({ ...adapter.callbacks });
attach(server, cache); // server made with statefulServerOptions(), see the README
// on shutdown: await adapter.close(); (drains pending writes, then closes the store)
// #endregion docs
server.listen(Number(process.env.PORT ?? 8443));

process.once('SIGTERM', () => {
  server.close(async () => {
    cache.close();
    await adapter.close();
    process.stdout.write(`${JSON.stringify(adapter.stats())}\n`); // writes, reads, found, …
  });
});
announce(server);
