/**
 * Known issues: bugs the fuzzer found in code this harness does not own, written down with their
 * reproducer and fix. A target that meets one records it here instead of failing the case, so that
 * fuzzing goes on past it (fast-check stops a target at its first failure) and finds the next one.
 *
 * `npm run fuzz` still fails on them (they are findings) unless `--allow-known` is given; the CI
 * smoke test allows them and prints them. When an issue is fixed, its check stops matching and the
 * report says it no longer reproduced: then delete its entry.
 *
 * @module
 */
import { hexOf } from './bytes.js';

/** A known bug. */
export interface KnownIssue {
  id: string;
  title: string;
  /** Where, why, and the fix. */
  detail: string;
}

/** The known issues. */
export const KNOWN_ISSUES: readonly KnownIssue[] = [];

interface Hit {
  count: number;
  example: string;
}

const hits = new Map<string, Hit>();

/** Records that a case met known issue `id` with `input` (bytes, shown as hex, or text). */
export function knownIssueHit(id: string, input: Uint8Array | string): void {
  const example = typeof input === 'string' ? input : hexOf(input);
  const hit = hits.get(id);
  if (hit === undefined) hits.set(id, { count: 1, example });
  else {
    hit.count++;
    // Keep the shortest example: the closest to a minimal reproducer.
    if (example.length < hit.example.length) hit.example = example;
  }
}

/** Takes (and clears) the hits recorded since the last call. */
export function takeKnownHits(): Map<string, Hit> {
  const copy = new Map(hits);
  hits.clear();
  return copy;
}
