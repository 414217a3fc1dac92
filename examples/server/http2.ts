// http2.createSecureServer with the session cache. Run by test/docs/examples.test.ts.
import { announce } from '../support/announce.js';
// #region docs
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { openSessionCache } from 'tls-session-cache';

const sessions = await openSessionCache({ store: 'memory', sessionIdContext: 'my-api' });
const server = http2.createSecureServer(
  {
    key: readFileSync('key.pem'),
    cert: readFileSync('cert.pem'),
    allowHTTP1: true,
    ...sessions.serverOptions(),
  },
  (req, res) => res.end('hello\n'),
);
sessions.attach(server);
server.listen(Number(process.env.PORT ?? 8443));
process.once('SIGTERM', () => server.close(() => void sessions.close()));
// #endregion docs
announce(server);
