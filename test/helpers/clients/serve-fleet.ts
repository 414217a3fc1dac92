// The `serve` processes of the client matrix: one process with the default in-memory store, two
// processes on one SQLite file, and (when redis-server is there) two processes on one Redis; all
// with one certificate and one session id context, as the processes of one service are deployed.
import { join } from 'node:path';
import { SHARED_STORE_LOOKUP_DEADLINE, type Serving, type cliProcesses } from '../cli-processes.js';

/** Where a matrix cell's two connections go. */
export type Topology = 'one-process' | 'sqlite' | 'redis';

/** Every topology, in the matrix's column order. */
export const TOPOLOGIES: readonly Topology[] = ['one-process', 'sqlite', 'redis'];

/** The two backend ports of each topology (the same port twice for one process). */
export type ServeFleet = Partial<Record<Topology, readonly [number, number]>>;

/** What {@link startServeFleet} needs. */
export interface ServeFleetOptions {
  cli: ReturnType<typeof cliProcesses>;
  /** A directory for the SQLite file. */
  dir: string;
  certFile: string;
  keyFile: string;
  /** `redis://…` of a running redis-server; absent: no Redis topology. */
  redisUrl?: string | undefined;
  /** Session id context (also keeps two fleets' sessions apart in one Redis). */
  sessionIdContext: string;
  /** Extra `serve` arguments (a mode, once there is more than one). */
  args?: readonly string[];
  /** Environment of the processes (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** Starts the processes (in parallel) and resolves once all listen. */
export async function startServeFleet(options: ServeFleetOptions): Promise<ServeFleet> {
  const common = [
    ...SHARED_STORE_LOOKUP_DEADLINE,
    '--cert',
    options.certFile,
    '--key',
    options.keyFile,
    '--session-id-context',
    options.sessionIdContext,
    ...(options.args ?? []),
  ];
  const serve = (store: string[]): Promise<Serving> =>
    options.cli.startServe([...common, ...store], options.env);
  const sqlite = ['--store', `sqlite:${join(options.dir, `${options.sessionIdContext}.db`)}`];
  const redis = options.redisUrl === undefined ? undefined : ['--store', options.redisUrl];
  const [one, sqliteA, sqliteB, redisA, redisB] = await Promise.all([
    serve([]),
    serve(sqlite),
    serve(sqlite),
    redis === undefined ? undefined : serve(redis),
    redis === undefined ? undefined : serve(redis),
  ]);
  return {
    'one-process': [one.port, one.port],
    sqlite: [sqliteA.port, sqliteB.port],
    ...(redisA === undefined || redisB === undefined
      ? {}
      : { redis: [redisA.port, redisB.port] as const }),
  };
}
