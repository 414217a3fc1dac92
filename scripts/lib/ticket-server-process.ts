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
import { openSessionCache } from '../../src/front-door/index.js';

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
  // As users assemble tickets mode: the keys sealed in the shared SQLite file by the keyring.
  const sessions = await openSessionCache({
    store: `sqlite:${options.path}`,
    mode: 'tickets',
    rotateEveryMs: options.rotateEveryMs,
    acceptForMs: options.acceptForMs,
    refreshMs: options.refreshMs,
    encryption: { keys: [`seal:${options.sealKeyHex}`] },
    sessionIdContext: 'rotation',
  });
  const server = tls.createServer(
    { key: options.key, cert: options.cert, ...sessions.serverOptions() },
    (socket) => socket.end('hello'),
  );
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  const attachment = sessions.attach(server);
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stats') {
      process.send?.({
        type: 'stats',
        tickets: sessions.stats().tickets,
        attachment: attachment.stats(),
      });
    }
  });
  stop = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await sessions.close();
  };
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
  });
}
process.on('disconnect', () => process.exit(0));
