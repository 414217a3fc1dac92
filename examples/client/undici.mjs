// The README's undici example as a program: two `fetch`es through an undici Agent whose connector
// is undiciConnector over a ClientSessionCache; the second on a new connection (the first
// dispatcher is closed), which resumes the session the first was given. Prints each body.
// Run: API_URL=https://127.0.0.1:8443/ node examples/client/undici.mjs
// #region docs
import { Agent } from 'undici'; // undici 6 for Node 20's fetch (which is undici 6 inside)
import { ClientSessionCache, undiciConnector } from 'tls-session-cache/client';

const url = process.env.API_URL ?? 'https://api.example.com/';
const cache = new ClientSessionCache();

const dispatcher = new Agent({ connect: undiciConnector(cache) });
const response = await fetch(url, { dispatcher });
// #endregion docs
console.log(await response.text());
await dispatcher.close();

// A second dispatcher, so a new connection: it resumes the session the first was given.
const second = new Agent({ connect: undiciConnector(cache) });
console.log(await (await fetch(url, { dispatcher: second })).text());
await second.close();
