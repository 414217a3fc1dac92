// The README's quick start: an HTTPS server whose sessions live in an encrypted SQLite file that
// every process on the host shares. Run by test/docs/examples.test.ts in a directory holding
// key.pem, cert.pem and session-keys.
import { announce } from '../support/announce.js';
// #region docs
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { openSessionCache } from 'tls-session-cache';

const sessions = await openSessionCache({
  store: 'sqlite:sessions.db', // every process on this host shares the file
  encryption: { keyFile: 'session-keys' }, // sessions are AES-256-GCM sealed at rest
  sessionIdContext: 'my-api', // the same in every process of one service
});
const server = https.createServer(
  { key: readFileSync('key.pem'), cert: readFileSync('cert.pem'), ...sessions.serverOptions() },
  (req, res) => res.end('hello\n'),
);
sessions.attach(server);
server.listen(Number(process.env.PORT ?? 8443));
process.once('SIGTERM', () => server.close(() => void sessions.close()));
// #endregion docs
announce(server);
