/**
 * A count per key and window, on the window operators of operators/window. Built on the operators
 * rather than `KeyedStream.window(...).aggregate(...)`, whose result-function signature is being
 * reworked while this is written; the operators' constructors are the stable part.
 */
import type { KeyedStream, SingleOutputStream } from '../../../runtime/api/index.ts';
import type { StateKey } from '../../../state/key-groups.ts';
import type { AggregateFunction } from '../../../state/descriptors.ts';
import type { WindowAssigner } from '../../../operators/window/assigner.ts';
import { AlignedWindowOperator } from '../../../operators/window/aligned-window-operator.ts';
import { SessionWindowOperator } from '../../../operators/window/session-window-operator.ts';
import type { TimeWindow } from '../../../operators/window/time-window.ts';
import { aggregateContents } from '../../../operators/window/window-contents.ts';

const count: AggregateFunction<unknown, number, number> = {
  createAccumulator: () => 0,
  add: (_v, n) => n + 1,
  getResult: (n) => n,
  merge: (a, b) => a + b,
};

const sumOfCounts: AggregateFunction<{ count: number }, number, number> = {
  createAccumulator: () => 0,
  add: (v, n) => n + v.count,
  getResult: (n) => n,
  merge: (a, b) => a + b,
};

/**
 * Records per key and window; `row` makes the output record when the window fires. With
 * `partial`, each record is itself a count (from a local pre-aggregation) and counts are summed.
 */
export function windowCount<K extends StateKey, T, R>(
  keyed: KeyedStream<K, T>,
  assigner: WindowAssigner,
  row: (key: K, count: number, window: TimeWindow) => R,
  options: { name: string; uid: string; partial?: boolean },
): SingleOutputStream<R> {
  const key = keyed.key;
  const contents = aggregateContents<T, number, number>(options.partial ? (sumOfCounts as unknown as AggregateFunction<T, number, number>) : count);
  const emit = (n: number, ctx: { key: K; window: TimeWindow }, out: { collect(v: R): void }) => out.collect(row(ctx.key, n, ctx.window));
  return keyed.transformKeyed<R>(
    options.name,
    () =>
      assigner.kind === 'aligned'
        ? new AlignedWindowOperator<K, T, number, number, R>(options.name, key, assigner, contents, emit)
        : new SessionWindowOperator<K, T, number, number, R>(options.name, key, assigner, contents, emit),
    { name: options.name, uid: options.uid },
  );
}
