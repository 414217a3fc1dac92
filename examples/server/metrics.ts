// Prometheus metrics of the cache, the store and the wiring on the application's own registry.
// Shown in docs/operating.md; run by test/docs/examples.test.ts, which scrapes GET /metrics.
import { announce } from '../support/announce.js';
// #region docs
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { openSessionCache } from 'tls-session-cache';
import { StoreLatencyRecorder, createMetrics } from 'tls-session-cache/metrics';

const registry = new Registry();
collectDefaultMetrics({ register: registry });
const latency = new StoreLatencyRecorder(); // optional: times the store's calls

const sessions = await openSessionCache({
  store: 'sqlite:sessions.db',
  sessionIdContext: 'my-api',
  wrapStore: (store) => latency.wrap(store),
});
const server = https.createServer(
  { key: readFileSync('key.pem'), cert: readFileSync('cert.pem'), ...sessions.serverOptions() },
  async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('content-type', registry.contentType);
      res.end(await registry.metrics());
    } else {
      res.end('hello\n');
    }
  },
);
const attachment = sessions.attach(server);
createMetrics({
  cache: sessions.cache,
  adapter: sessions.adapter,
  attachment,
  storeLatency: latency,
  registry,
}); // every series is named tls_session_cache_…
server.listen(Number(process.env.PORT ?? 8443));
process.once('SIGTERM', () => server.close(() => void sessions.close()));
// #endregion docs
announce(server);
