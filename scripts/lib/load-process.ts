/**
 * A {@link LoadClient} in its own process, driven over IPC, so that the server under test keeps its
 * event loop (and its timing measurements) to itself: forked by `scripts/lib/outage.ts`.
 *
 * Messages in: `{ type: 'run', phase, port, count, ...LoadOptions }` runs `count` handshakes;
 * `{ type: 'start', phase, port, ...LoadOptions }` runs until `{ type: 'stop' }`. Each run ends with
 * `{ type: 'done', phase, stats }` (a {@link LoadStats}, latencies in ms).
 *
 * @module
 */
import { LoadClient, type LoadOptions, type LoadStats } from './handshakes.js';

/** A message to the load process. */
export type LoadCommand =
  | ({ type: 'run'; phase: string; port: number; count: number } & LoadOptions)
  | ({ type: 'start'; phase: string; port: number } & LoadOptions)
  | { type: 'stop' };

/** A message from the load process. */
export interface LoadDone {
  type: 'done';
  phase: string;
  stats: LoadStats;
}

let current: LoadClient | undefined;

async function run(client: LoadClient, phase: string, count?: number): Promise<void> {
  current = client;
  await client.run(count);
  current = undefined;
  const done: LoadDone = { type: 'done', phase, stats: client.stats };
  process.send?.(done);
}

process.on('message', (message: LoadCommand) => {
  if (message.type === 'stop') {
    current?.stop();
    return;
  }
  const { type, phase, port, ...options } = message;
  const client = new LoadClient(port, { ...options, recordLatency: true });
  void run(client, phase, type === 'run' ? message.count : undefined);
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
