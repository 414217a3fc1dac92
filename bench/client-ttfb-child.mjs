// One short-lived client process of `npm run bench:client`: one HTTPS GET, then exit. Plain
// JavaScript on the built library (dist/), so that no TypeScript loader is part of what is timed.
// Usage: node bench/client-ttfb-child.mjs URL TLS_VERSION none|sqlite [DB_PATH]
// Prints one JSON line: ms from process start to first byte, from request to first byte, reused.
import https from 'node:https';
import { performance } from 'node:perf_hooks';

const [url, version, mode, db] = process.argv.slice(2);
let agent;
let cache;
let store;
if (mode === 'sqlite') {
  // The client entry point (tls-session-cache/client): the server side is not loaded.
  const lib = await import('../dist/client/entry.js');
  // No checkpoint thread: a process this short never needs one, and starting it costs a worker.
  store = await lib.SqliteStore.open({ path: db, checkpointIntervalMs: 0 });
  cache = new lib.ClientSessionCache({ store });
  agent = new lib.SessionCachingAgent({ keepAlive: false, sessionCache: cache });
} else {
  agent = new https.Agent({ keepAlive: false });
}
const requestAt = performance.now();
const result = await new Promise((resolve, reject) => {
  const req = https.get(url, { agent, rejectUnauthorized: false, maxVersion: version }, (res) => {
    const reused = res.socket.isSessionReused();
    res.once('data', () => {
      const firstByteAt = performance.now();
      res.resume();
      res.on('end', () =>
        resolve({ sinceStartMs: firstByteAt, requestMs: firstByteAt - requestAt, reused }),
      );
    });
  });
  req.on('error', reject);
});
await cache?.close();
await store?.close();
process.stdout.write(JSON.stringify(result) + '\n');
