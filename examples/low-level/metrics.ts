// Prometheus metrics of the cache, the store and the wiring on the application's own registry.
// Shown in docs/operating.md; run by test/docs/examples.test.ts, which scrapes GET /metrics.
import { announce } from '../support/announce.js';
// #region docs
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  SessionCache,
  SqliteStore,
  attach,
  statefulServerOptions,
  storeCallbacks,
} from 'tls-session-cache';
import { StoreLatencyRecorder, createMetrics } from 'tls-session-cache/metrics';

const registry = new Registry();
collectDefaultMetrics({ register: registry });

const latency = new StoreLatencyRecorder(); // optional: times the store's calls
const adapter = storeCallbacks(latency.wrap(await SqliteStore.open({ path: 'sessions.db' })));
const cache = new SessionCache({ ...adapter.callbacks });
adapter.bind(cache);
const server = https.createServer(
  {
    key: readFileSync('key.pem'),
    cert: readFileSync('cert.pem'),
    ...statefulServerOptions({ sessionIdContext: 'my-api' }),
  },
  async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('content-type', registry.contentType);
      res.end(await registry.metrics());
    } else {
      res.end('hello\n');
    }
  },
);
const attachment = attach(server, cache);
createMetrics({ cache, attachment, adapter, storeLatency: latency, registry }); // tls_session_cache_…
server.listen(Number(process.env.PORT ?? 8443));
// #endregion docs
process.once('SIGTERM', () => {
  server.close(() => {
    cache.close();
    void adapter.close();
  });
});
announce(server);
