/**
 * One server process of `npm run tickets:capacity`: a `tls.Server` answering "hello", in one of
 * the configurations compared, reporting its own CPU time (process.cpuUsage) between marks, so
 * that the client's work never counts. Forked with `--import tsx`, driven over IPC:
 * `{ type: 'start', config, key, cert, redisUrl?, path? }` → `{ type: 'ready', port }`;
 * `{ type: 'mark' }` → `{ type: 'cpu', us }` (CPU µs since the previous mark).
 *
 * @module
 */
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { SessionCache } from '../../src/cache/index.js';
import {
  attach,
  openTicketKeys,
  statefulServerOptions,
  ticketServerOptions,
} from '../../src/node/index.js';
import { storeCallbacks } from '../../src/stores/cache-adapter.js';
import { Keyring } from '../../src/stores/encryption/keyring.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { RedisStore } from '../../src/stores/redis-store.js';
import { SqliteStore } from '../../src/stores/sqlite-store.js';
import type { SessionStore } from '../../src/stores/store.js';

/** The configurations compared. */
export type CapacityConfig =
  | 'node-default-tickets'
  | 'stateful'
  | 'attach-tickets'
  | 'attach-tickets-no-single-use'
  | 'attach-tickets-sqlite'
  | 'attach-tickets-redis'
  | 'tickets-callback-only';

interface Start {
  type: 'start';
  config: CapacityConfig;
  key: string;
  cert: string;
  path: string;
  redisUrl?: string;
}

let last = process.cpuUsage();

process.on('message', (message: Start | { type: 'mark' }) => {
  if (message.type === 'mark') {
    const now = process.cpuUsage(last);
    last = process.cpuUsage();
    process.send?.({ type: 'cpu', us: now.user + now.system });
  } else void start(message);
});
process.on('disconnect', () => process.exit(0));

async function start(options: Start): Promise<void> {
  const { config } = options;
  const base = { key: options.key, cert: options.cert };
  if (config === 'node-default-tickets') {
    // Node's own: one ticket key per process, no cache attached.
    return listen(tls.createServer(base, (s) => s.end('hello')));
  }
  if (config === 'stateful') {
    const server = tls.createServer(
      { ...base, ...statefulServerOptions({ sessionIdContext: 'bench' }) },
      (s) => s.end('hello'),
    );
    const store = new MemoryStore();
    attach(server, new SessionCache({ ...storeCallbacks(store).callbacks }));
    return listen(server);
  }
  if (config === 'tickets-callback-only') {
    // Shared rotating keys through the key callback alone: no ClientHello reader, no session
    // listeners, so no single use and no session-id fallback for clients without tickets.
    const tickets = await openTicketKeys(new MemoryStore(), { singleUse: false });
    const server = tls.createServer(
      { ...base, ...ticketServerOptions({ sessionIdContext: 'bench' }) },
      (s) => s.end('hello'),
    );
    tickets.attachTo(server);
    return listen(server);
  }
  let store: SessionStore;
  if (config === 'attach-tickets-sqlite') store = await SqliteStore.open({ path: options.path });
  else if (config === 'attach-tickets-redis') {
    store = await RedisStore.create({ url: options.redisUrl!, keyPrefix: `cap${process.pid}:` });
  } else store = new MemoryStore();
  const keyring = new Keyring([{ id: 'seal', key: '5a'.repeat(32) }]);
  const tickets = await openTicketKeys(store, {
    ...(store.kind === 'memory' ? {} : { keyring }),
    singleUse: config !== 'attach-tickets-no-single-use',
  });
  const server = tls.createServer(
    { ...base, ...ticketServerOptions({ sessionIdContext: 'bench' }) },
    (s) => s.end('hello'),
  );
  attach(server, new SessionCache({ ...storeCallbacks(store).callbacks }), { tickets });
  return listen(server);
}

function listen(server: tls.Server): void {
  server.on('tlsClientError', (_e, socket) => socket.destroy());
  server.listen(0, '127.0.0.1', () => {
    last = process.cpuUsage();
    process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
  });
}
