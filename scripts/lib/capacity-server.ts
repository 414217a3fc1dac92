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
import { openSessionCache, type OpenSessionCacheOptions } from '../../src/front-door/index.js';
import { openTicketKeys, ticketServerOptions } from '../../src/node/index.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { RedisStore } from '../../src/stores/redis-store.js';

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
    return listen(await serve(base, { store: 'memory' }));
  }
  if (config === 'tickets-callback-only') {
    // Deliberately not the front door: shared rotating keys through the key callback alone (the
    // low-level openTicketKeys + attachTo), no ClientHello reader, no session listeners, so no
    // single use and no session-id fallback for clients without tickets: the comparison point
    // that isolates what attach() adds.
    const tickets = await openTicketKeys(new MemoryStore(), { singleUse: false });
    const server = tls.createServer(
      { ...base, ...ticketServerOptions({ sessionIdContext: 'bench' }) },
      (s) => s.end('hello'),
    );
    tickets.attachTo(server);
    return listen(server);
  }
  // Tickets mode as users assemble it; a shared store holds the ticket keys sealed by the keyring.
  const shared: OpenSessionCacheOptions =
    config === 'attach-tickets-sqlite'
      ? { store: `sqlite:${options.path}` }
      : config === 'attach-tickets-redis'
        ? {
            // Opened here for its key prefix: each run's keys apart on a shared redis-server.
            store: await RedisStore.create({
              url: options.redisUrl!,
              keyPrefix: `cap${process.pid}:`,
            }),
          }
        : {};
  return listen(
    await serve(base, {
      ...shared,
      ...(shared.store === undefined ? {} : { encryption: { keys: [SEAL_KEY] } }),
      mode: 'tickets',
      singleUse: config !== 'attach-tickets-no-single-use',
    }),
  );
}

/** The keyring key sealing the shared stores' ticket keys: a fixed test key, not a secret. */
const SEAL_KEY = `seal:${'5a'.repeat(32)}`;

/** A server answering "hello", assembled through openSessionCache() as users do. */
async function serve(base: tls.TlsOptions, options: OpenSessionCacheOptions): Promise<tls.Server> {
  const sessions = await openSessionCache({ sessionIdContext: 'bench', ...options });
  const server = tls.createServer({ ...base, ...sessions.serverOptions() }, (s) => s.end('hello'));
  sessions.attach(server);
  return server;
}

function listen(server: tls.Server): void {
  server.on('tlsClientError', (_e, socket) => socket.destroy());
  server.listen(0, '127.0.0.1', () => {
    last = process.cpuUsage();
    process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
  });
}
