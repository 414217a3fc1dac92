// The front door as two processes of one service would run it: an HTTPS server whose TLS sessions live in a
// SQLite file, sealed with AES-256-GCM, shared by every process of the service that opens the same
// file. Run by test/front-door/example.test.ts:
//
//   node --import tsx examples/sqlite-encrypted-server.ts DB_FILE KEY_FILE CERT_FILE KEY_PEM_FILE
//
// It prints `listening on PORT` and stops (closing the session cache) on SIGTERM.
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { openSessionCache } from 'tls-session-cache';

const [dbFile, keyFile, certFile, keyPemFile] = process.argv.slice(2);
if (keyPemFile === undefined) throw new Error('usage: DB_FILE KEY_FILE CERT_FILE KEY_PEM_FILE');
const cert = readFileSync(certFile!);
const key = readFileSync(keyPemFile);
const app = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
  res.end('ok\n');
};

// --- as in the README's quick start (examples/server/quick-start.ts) -----------------------------
const sessions = await openSessionCache({
  store: `sqlite:${dbFile}`,
  encryption: { keyFile },
  sessionIdContext: 'my-api',
});
const server = https.createServer({ key, cert, ...sessions.serverOptions() }, app);
sessions.attach(server);
server.listen(0, '127.0.0.1');
// -------------------------------------------------------------------------------------------------

server.once('listening', () => {
  process.stdout.write(`listening on ${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => {
    void sessions.close().then(() => {
      const { cache, store, attachments } = sessions.stats();
      process.stdout.write(
        `${JSON.stringify({ hits: cache.hits, writes: store.writes, resumed: attachments.resumed })}\n`,
      );
    });
  });
  server.closeAllConnections();
});
