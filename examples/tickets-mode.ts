// Tickets mode with the low-level API: stateless TLS tickets whose keys every process sharing the
// SQLite file uses, sealed in it with the encryption keys, rotating every 6 hours by default.
// Run by test/node/tickets-example.test.ts; docs/tickets.md shows it.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  Keyring,
  SessionCache,
  SqliteStore,
  attach,
  openTicketKeys,
  storeCallbacks,
  ticketServerOptions,
} from '../src/index.js';

/** Starts the server; returns its port and a function that stops it. */
export async function startTicketsServer(options: {
  path: string;
  sealKey: string;
  key: string | Buffer;
  cert: string | Buffer;
}): Promise<{ port: number; close(): Promise<void> }> {
  const store = await SqliteStore.open({ path: options.path });
  const keyring = new Keyring([{ id: '2026-12', key: options.sealKey }]);
  // #region docs
  // Reads (or mints) this period's and the next period's key before it resolves.
  const tickets = await openTicketKeys(store, { keyring });
  // #endregion docs
  // TLS 1.2 clients without ticket support still resume session ids through the store.
  const adapter = storeCallbacks(store, { encryption: keyring });
  const cache = new SessionCache({ ...adapter.callbacks });
  // #region docs
  const server = https.createServer(
    {
      key: options.key,
      cert: options.cert,
      ...ticketServerOptions({ sessionIdContext: 'my-api' }),
    },
    (_req, res) => res.end('ok\n'),
  );
  attach(server, cache, { tickets });
  // #endregion docs
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      tickets.close();
      cache.close();
      await adapter.close();
    },
  };
}
