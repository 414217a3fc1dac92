// The README's `https.Agent` example as a program: two requests through a SessionCachingAgent
// over a ClientSessionCache, the second on a new connection (no keep-alive between them), which
// resumes the session the first was given. Prints each response body.
// Run: API_URL=https://127.0.0.1:8443/ node examples/client/https-agent.mjs
// #region docs
import https from 'node:https';
import { ClientSessionCache, SessionCachingAgent } from 'tls-session-cache/client';

const url = process.env.API_URL ?? 'https://api.example.com/';

const agent = new SessionCachingAgent({ keepAlive: true, sessionCache: new ClientSessionCache() });
// #endregion docs

/** One GET through the agent; resolves with the body. */
function get() {
  return new Promise((resolve, reject) => {
    https
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

console.log(await get());
// A new connection for the second request: the first one's socket is closed, not reused.
agent.destroy();
console.log(await get());
agent.destroy();
