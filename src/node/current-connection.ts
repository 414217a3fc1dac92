import { executionAsyncResource } from 'node:async_hooks';
import type { Socket } from 'node:net';

/**
 * Finds the raw TCP socket of the TLS connection on whose behalf Node is running the current
 * callback. Node emits `resumeSession` and `newSession` with no reference to the connection, but it
 * emits them from inside the connection's native `TLSWrap` callbacks, so the current async resource
 * is that `TLSWrap`, whose owner is the `TLSSocket`, whose `_parent` is the socket our `connection`
 * listener saw. Reading the current resource needs no async hook, so it costs nothing elsewhere
 * (`AsyncLocalStorage` would, on Node 20, install promise hooks process-wide).
 *
 * Returns `undefined` if Node's internals ever stop looking like this; callers then fall back to what
 * the event itself carries (enough for TLS 1.2).
 */
export function currentRawSocket(): Socket | undefined {
  const resource: unknown = executionAsyncResource();
  if (typeof resource !== 'object' || resource === null) return undefined;
  ownerSymbol ??= findOwnerSymbol(resource);
  if (ownerSymbol === undefined) return undefined;
  const owner = (resource as Record<symbol, unknown>)[ownerSymbol];
  if (typeof owner !== 'object' || owner === null) return undefined;
  const parent = (owner as { _parent?: unknown })._parent;
  return typeof parent === 'object' && parent !== null ? (parent as Socket) : undefined;
}

let ownerSymbol: symbol | undefined;

function findOwnerSymbol(resource: object): symbol | undefined {
  return Object.getOwnPropertySymbols(resource).find((s) => s.description === 'owner_symbol');
}
