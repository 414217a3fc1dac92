// A plain tls.createServer with the session cache. Run by test/docs/examples.test.ts.
import { announce } from '../support/announce.js';
// #region docs
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { openSessionCache } from 'tls-session-cache';

const sessions = await openSessionCache({ store: 'memory', sessionIdContext: 'my-api' });
const server = tls.createServer(
  { key: readFileSync('key.pem'), cert: readFileSync('cert.pem'), ...sessions.serverOptions() },
  (socket) => socket.end('hello\n'),
);
sessions.attach(server);
server.listen(Number(process.env.PORT ?? 8443));
process.once('SIGTERM', () => server.close(() => void sessions.close()));
// #endregion docs
announce(server);
