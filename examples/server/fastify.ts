// Fastify with its own HTTPS server and the session cache. Run by test/docs/examples.test.ts.
import { announce } from '../support/announce.js';
// #region docs
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import { openSessionCache } from 'tls-session-cache';

const sessions = await openSessionCache({ store: 'memory', sessionIdContext: 'my-api' });
const app = Fastify({
  https: {
    key: readFileSync('key.pem'),
    cert: readFileSync('cert.pem'),
    ...sessions.serverOptions(),
  },
});
app.get('/', async () => 'hello\n');
app.addHook('onClose', async () => sessions.close());

sessions.attach(app.server); // before listen: Fastify made the https.Server already
// #endregion docs
announce(app.server);
// #region docs
await app.listen({ port: Number(process.env.PORT ?? 8443) });
process.once('SIGTERM', () => void app.close());
// #endregion docs
