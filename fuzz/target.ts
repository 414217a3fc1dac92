/**
 * What a fuzz target is, and the one error type targets throw for a violated property.
 *
 * A target runs one case and either returns (the unit under test answered with a value or with its
 * own typed error, and every property held), throws {@link PropertyViolation} (the unit answered,
 * but wrongly), or lets any other exception escape (a crash: the unit threw something it promises
 * never to throw). The harness measures every case against a time budget (a hang).
 *
 * @module
 */
import type fc from 'fast-check';
import type { Corpus } from './corpus.js';

/** A property of the unit under test did not hold. */
export class PropertyViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropertyViolation';
  }
}

/** Throws {@link PropertyViolation} with `message` unless `condition` holds. */
export function expectThat(
  condition: boolean,
  message: string | (() => string),
): asserts condition {
  if (!condition) throw new PropertyViolation(typeof message === 'string' ? message : message());
}

interface Common<T> {
  /** `group/what`, e.g. `client-hello/mutate`. */
  name: string;
  /** Share of the total case count. */
  weight: number;
  /** Per-case time budget in ms; a case that stays above it when re-run is a hang. */
  budgetMs?: number;
  /** A minimal reproducer for a failing case: hex bytes, or JSON for operation sequences. */
  reproducer(value: T, corpus: Corpus): string;
}

/** A fast-check property over generated values (synchronous). */
export interface PropertyTarget<T> extends Common<T> {
  kind: 'property';
  arbitrary(corpus: Corpus): fc.Arbitrary<T>;
  run(value: T, corpus: Corpus): void;
}

/** A fast-check property over generated values whose cases are asynchronous. */
export interface AsyncPropertyTarget<T> extends Common<T> {
  kind: 'async-property';
  arbitrary(corpus: Corpus): fc.Arbitrary<T>;
  run(value: T, corpus: Corpus): Promise<void>;
}

/** An exhaustive list of cases (e.g. every cut of every hello), sampled evenly if over budget. */
export interface EnumerationTarget<T> extends Common<T> {
  kind: 'enumerate';
  cases(corpus: Corpus): T[];
  run(value: T, corpus: Corpus): void;
}

/** A slot for a target whose unit does not exist (yet): listed, skipped with a message. */
export interface SkippedTarget {
  kind: 'skipped';
  name: string;
  reason: string;
}

/** Any target, with its case type erased for the harness's lists. */
export type AnyTarget =
  | PropertyTarget<unknown>
  | AsyncPropertyTarget<unknown>
  | EnumerationTarget<unknown>
  | SkippedTarget;

/** Erases a property target's case type (the harness only passes values back to it). */
export function property<T>(target: Omit<PropertyTarget<T>, 'kind'>): AnyTarget {
  return { kind: 'property', ...target } as PropertyTarget<unknown>;
}

/** Erases an async property target's case type. */
export function asyncProperty<T>(target: Omit<AsyncPropertyTarget<T>, 'kind'>): AnyTarget {
  return { kind: 'async-property', ...target } as AsyncPropertyTarget<unknown>;
}

/** Erases an enumeration target's case type. */
export function enumeration<T>(target: Omit<EnumerationTarget<T>, 'kind'>): AnyTarget {
  return { kind: 'enumerate', ...target } as EnumerationTarget<unknown>;
}
