// prom-client is an optional peer dependency: only users who export metrics install it. It is
// loaded on first use, synchronously (it is CommonJS, so createRequire can), which keeps
// createMetrics() synchronous like the rest of a server's setup.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

/** The prom-client module, as loaded by {@link loadPromClient}. */
export type PromClientModule = typeof PromClient;

let loaded: PromClientModule | undefined;

/**
 * Loads the optional `prom-client` dependency.
 * @throws Error `… needs the optional dependency prom-client: npm install prom-client` when it is
 * not installed; the loader's own error otherwise.
 */
export function loadPromClient(who = 'createMetrics'): PromClientModule {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)('prom-client') as PromClientModule;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error(`${who} needs the optional dependency prom-client: npm install prom-client`);
    }
    throw error;
  }
  return loaded;
}
