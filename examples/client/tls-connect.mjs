// The README's `tls.connect` example as a program: one HTTPS request over a TLS connection through
// a ClientSessionCache whose sessions live in a SQLite file under ~/.cache (its directory is
// created on the first run), so that the next run of the program resumes the session this one was
// given. Prints the response body.
// Run: API_URL=https://127.0.0.1:8443/ node examples/client/tls-connect.mjs (twice)
// #region docs
import os from 'node:os';
import { ClientSessionCache, SqliteStore } from 'tls-session-cache/client';

const url = new URL(process.env.API_URL ?? 'https://api.example.com/');

const store = await SqliteStore.open({ path: `${os.homedir()}/.cache/my-cli/tls-sessions.db` });
const cache = new ClientSessionCache({ store });
// Resolves once the connection is secure (rejects with the TLS error otherwise): a tls.TLSSocket.
const socket = await cache.connect({ host: url.hostname, port: Number(url.port || 443) });
// … use it as usual; at exit:
// #endregion docs
console.error(`resumed (as the client saw it): ${socket.isSessionReused()}`);
socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
let response = '';
for await (const chunk of socket) response += chunk;
console.log(response.slice(response.indexOf('\r\n\r\n') + 4));
// #region docs
await cache.close();
await store.close(); // a store you pass stays open: close it yourself
// #endregion docs
