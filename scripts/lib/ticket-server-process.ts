/**
 * One server process of the rotation run (`rotation.ts`): a `tls.Server` in tickets mode whose keys
 * are shared with its sibling through one SQLite file, rotated every `rotateEveryMs` of real time.
 * Forked with `--import tsx`; driven over IPC.
 *
 * Messages in: `{ type: 'start', path, rotateEveryMs, acceptForMs, refreshMs, key, cert }` →
 * `{ type: 'ready', port }`; `{ type: 'stats' }` → `{ type: 'stats', tickets, attachment }`;
 * `{ type: 'stop' }` closes everything and exits.
 *
 * @module
 */
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { SessionCache } from '../../src/cache/index.js';
import { attach, openTicketKeys, ticketServerOptions } from '../../src/node/index.js';
import { storeCallbacks } from '../../src/stores/cache-adapter.js';
import { Keyring } from '../../src/stores/encryption/keyring.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';

/** The start message. */
export interface TicketServerStart {
  type: 'start';
  path: string;
  rotateEveryMs: number;
  acceptForMs: number;
  refreshMs: number;
  /** The keyring key (hex) sealing ticket keys in the file: a test key, not a secret. */
  sealKeyHex: string;
  key: string;
  cert: string;
}

let stop: (() => Promise<void>) | undefined;

process.on('message', (message: TicketServerStart | { type: 'stats' } | { type: 'stop' }) => {
  if (message.type === 'start') void start(message);
  else if (message.type === 'stop') void stop?.().then(() => process.exit(0));
});

async function start(options: TicketServerStart): Promise<void> {
  const store = await SqliteStore.open({ path: options.path });
  const tickets = await openTicketKeys(store, {
    rotateEveryMs: options.rotateEveryMs,
    acceptForMs: options.acceptForMs,
    refreshMs: options.refreshMs,
    keyring: new Keyring([{ id: 'seal', key: options.sealKeyHex }]),
  });
  const adapter = storeCallbacks(store);
  const cache = new SessionCache({ ...adapter.callbacks });
  const server = tls.createServer(
    {
      key: options.key,
      cert: options.cert,
      ...ticketServerOptions({ sessionIdContext: 'rotation' }),
    },
    (socket) => socket.end('hello'),
  );
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  const attachment = attach(server, cache, { tickets });
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stats') {
      process.send?.({ type: 'stats', tickets: tickets.stats(), attachment: attachment.stats() });
    }
  });
  stop = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    tickets.close();
    cache.close();
    await adapter.close();
  };
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
  });
}
process.on('disconnect', () => process.exit(0));
