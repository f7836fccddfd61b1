/**
 * What a window keeps for its records: an accumulator (reduce, aggregate: one value per pane or
 * session, updated per record) or every element (process: the function sees them all at once).
 */
import { ConfigError } from '../../runtime/errors.ts';
import type { AggregateFunction } from '../../state/descriptors.ts';
import type { StateSerializer } from '../../state/value-serializer.ts';

export interface IncrementalContents<T, ACC, OUT> {
  readonly kind: 'incremental';
  /** Folds a record into an accumulator (`undefined` for the first record of a pane or session). */
  add(accumulator: ACC | undefined, value: T): ACC;
  /**
   * Combines two accumulators. Called with a fresh accumulator (or a combined copy) on the left,
   * so state is never mutated by a merge. Absent when the function has none.
   */
  merge: ((a: ACC, b: ACC) => ACC) | undefined;
  /** A fresh left side for merges. */
  empty(): ACC | undefined;
  result(accumulator: ACC): OUT;
  /** How state checks and copies the accumulator (the aggregate's `accumulatorSerializer`); default plain data. */
  serializer?: StateSerializer<ACC>;
}

export interface ElementContents {
  readonly kind: 'elements';
}

export type WindowContents<T, ACC, OUT> = IncrementalContents<T, ACC, OUT> | ElementContents;

/** reduce(a, b) must not modify a or b (they may be stored state): return a new value. */
export function reduceContents<T>(reduce: (a: T, b: T) => T): IncrementalContents<T, T, T> {
  return {
    kind: 'incremental',
    add: (acc, v) => (acc === undefined ? v : reduce(acc, v)),
    merge: reduce,
    empty: () => undefined,
    result: (acc) => acc,
  };
}

/** `add` may update the accumulator in place (the operator writes it back); `merge(a, b)` may update a. */
export function aggregateContents<T, ACC, OUT>(agg: AggregateFunction<T, ACC, OUT>): IncrementalContents<T, ACC, OUT> {
  const merge = agg.merge?.bind(agg);
  return {
    kind: 'incremental',
    add: (acc, v) => agg.add(v, acc === undefined ? agg.createAccumulator() : acc),
    merge,
    empty: () => agg.createAccumulator(),
    result: (acc) => agg.getResult(acc),
    ...(agg.accumulatorSerializer ? { serializer: agg.accumulatorSerializer } : {}),
  };
}

/** Combines accumulators without touching any of them: starts from a fresh one when the function has one. */
export function combine<T, ACC, OUT>(c: IncrementalContents<T, ACC, OUT>, accs: readonly ACC[], operator: string): ACC | undefined {
  if (accs.length === 0) return undefined;
  if (accs.length === 1) return accs[0];
  const merge = c.merge;
  if (!merge) throw new ConfigError(`window aggregate of '${operator}'`, 'has no merge(a, b), which sliding (with slide < size) and session windows need to combine panes and sessions: add merge to the AggregateFunction');
  let acc = c.empty();
  for (const a of accs) acc = acc === undefined ? a : merge(acc, a);
  return acc;
}
