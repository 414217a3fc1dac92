// Express behind node:https with the session cache. Run by test/docs/examples.test.ts.
import { announce } from '../support/announce.js';
// #region docs
import express from 'express';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { openSessionCache } from 'tls-session-cache';

const app = express();
app.get('/', (req, res) => {
  res.send('hello\n');
});

const sessions = await openSessionCache({ store: 'memory', sessionIdContext: 'my-api' });
const server = https.createServer(
  { key: readFileSync('key.pem'), cert: readFileSync('cert.pem'), ...sessions.serverOptions() },
  app,
);
sessions.attach(server);
server.listen(Number(process.env.PORT ?? 8443));
process.once('SIGTERM', () => server.close(() => void sessions.close()));
// #endregion docs
announce(server);
