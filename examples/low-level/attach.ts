// The low-level pieces without a store: OpenSSL's internal cache in this process only. Shown in
// docs/cache-semantics.md; run by test/docs/examples.test.ts.
import { announce } from '../support/announce.js';
// #region docs
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { SessionCache, attach, statefulServerOptions } from 'tls-session-cache';

const server = https.createServer(
  {
    key: readFileSync('key.pem'),
    cert: readFileSync('cert.pem'),
    ...statefulServerOptions({ sessionIdContext: 'my-api' }),
  },
  (req, res) => res.end('hello\n'),
);
const cache = new SessionCache(); // OpenSSL defaults: 20 480 sessions, per-session timeouts
const attachment = attach(server, cache);
server.listen(Number(process.env.PORT ?? 8443));

process.once('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify(cache.stats())}\n`); // hits, misses, timeouts, cacheFull, …
  attachment.detach(); // the server is as before
  server.close(() => cache.close());
});
// #endregion docs
announce(server);
