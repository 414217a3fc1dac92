/**
 * `tls-session-cache/testing`: the store conformance suite, for the stores of this package and for
 * any store written elsewhere against the same contract.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest'; // or: import { describe, it } from 'node:test';
 * import { runStoreConformance } from 'tls-session-cache/testing';
 *
 * runStoreConformance('MyStore', ({ clock }) => new MyStore({ clock }), { describe, it });
 * ```
 *
 * @packageDocumentation
 */
export {
  runStoreConformance,
  ManualClock,
  type ConformanceOptions,
  type ConformanceTestApi,
  type StoreFactory,
  type StoreFactoryContext,
} from './conformance.js';
