/**
 * A run of real handshakes that checks for leaks: active handles and requests
 * (`process.getActiveResourcesInfo()`), the server's open connections, and the V8 heap after GC
 * with the cache emptied, before and after. Shared by `npm run soak:handshakes` (50 000) and
 * `test/hardening/handshake-leaks.test.ts` (2 000).
 *
 * @module
 */
import type { SessionCacheStats } from '../../src/cache/stats.js';
import type { AttachmentStats } from '../../src/node/attachment-stats.js';
import {
  LoadClient,
  makeCertificate,
  settle,
  startLoadServer,
  waitFor,
  type LoadStats,
} from './handshakes.js';
import { activeResources, memory, resourceDifference, type MemorySample } from './memory.js';

/** What one leak run saw. */
export interface LeakRun {
  handshakes: number;
  elapsedMs: number;
  load: LoadStats;
  attachment: AttachmentStats;
  cache: SessionCacheStats;
  serverClientErrors: number;
  before: { resources: Record<string, number>; memory: MemorySample; connections: number };
  after: { resources: Record<string, number>; memory: MemorySample; connections: number };
  /** Memory after the run with the cache still full. */
  withCache: MemorySample;
  /** Resource types whose count changed: [before, after]. */
  resourceDiff: Record<string, [number, number]>;
  /** Resources left once the server is closed too. */
  afterClose: Record<string, number>;
  /** heapUsed after − before, both after GC with the cache emptied. */
  heapGrowth: number;
}

/** Options of {@link leakRun}. */
export interface LeakRunOptions {
  concurrency?: number;
  cacheSize?: number;
  warmup?: number;
  /** Progress callback, every `every` handshakes. */
  progress?: (done: number, stats: LoadStats) => void;
}

/** Runs `total` handshakes after a warm-up and compares resources and heap before and after. */
export async function leakRun(total: number, options: LeakRunOptions = {}): Promise<LeakRun> {
  const server = await startLoadServer(makeCertificate(), {
    cacheSize: options.cacheSize ?? 20_480,
  });
  try {
    const warm = new LoadClient(server.port, { concurrency: options.concurrency ?? 8 });
    await warm.run(options.warmup ?? 200);
    await waitFor(async () => (await server.connections()) === 0, 5_000);
    await settle();
    server.cache.clear();
    const before = {
      resources: activeResources(),
      memory: memory(),
      connections: await server.connections(),
    };

    const client = new LoadClient(server.port, { concurrency: options.concurrency ?? 8 });
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    if (options.progress !== undefined) {
      const progress = options.progress;
      timer = setInterval(() => progress(client.stats.handshakes, client.stats), 5_000);
    }
    try {
      await client.run(total);
    } finally {
      clearInterval(timer);
    }
    const elapsedMs = performance.now() - started;

    await waitFor(async () => (await server.connections()) === 0, 5_000);
    await settle();
    const withCache = memory();
    const cache = server.cache.stats();
    const attachment = server.attachment.stats();
    server.cache.clear();
    const after = {
      resources: activeResources(),
      memory: memory(),
      connections: await server.connections(),
    };
    const serverClientErrors = server.clientErrors;
    await server.close();
    await settle();
    return {
      handshakes: client.stats.handshakes,
      elapsedMs,
      load: client.stats,
      attachment,
      cache,
      serverClientErrors,
      before,
      after,
      withCache,
      resourceDiff: resourceDifference(before.resources, after.resources),
      afterClose: activeResources(),
      heapGrowth: after.memory.heapUsed - before.memory.heapUsed,
    };
  } catch (error) {
    await server.close().catch(() => {});
    throw error;
  }
}
