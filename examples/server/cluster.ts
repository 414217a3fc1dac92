// node:cluster: one worker per core, all sharing one SQLite file, so a session made by one worker
// resumes on any other. Run by test/docs/examples.test.ts.
import { announce } from '../support/announce.js';
// #region docs
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import { openSessionCache } from 'tls-session-cache';

if (cluster.isPrimary) {
  for (let i = 0; i < os.availableParallelism(); i++) cluster.fork();
  process.once('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
  });
} else {
  const sessions = await openSessionCache({
    store: 'sqlite:sessions.db',
    sessionIdContext: 'my-api',
  });
  const server = https.createServer(
    { key: readFileSync('key.pem'), cert: readFileSync('cert.pem'), ...sessions.serverOptions() },
    (req, res) => res.end(`hello from ${process.pid}\n`),
  );
  sessions.attach(server);
  server.listen(Number(process.env.PORT ?? 8443));
  process.once('SIGTERM', () => {
    server.close(async () => {
      await sessions.close();
      process.disconnect(); // the channel to the primary would keep the worker alive
    });
  });
  // #endregion docs
  announce(server);
  // #region docs
}
// #endregion docs
