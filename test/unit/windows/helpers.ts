import { OutputTag } from '../../../operators/operator.ts';
import { AlignedWindowOperator, type WindowOperatorOptions } from '../../../operators/window/aligned-window-operator.ts';
import { SessionWindowOperator } from '../../../operators/window/session-window-operator.ts';
import type { WindowAssigner } from '../../../operators/window/assigner.ts';
import type { FiringKind, ProcessWindowFunction, WindowResultFunction } from '../../../operators/window/time-window.ts';
import { aggregateContents, reduceContents, type WindowContents } from '../../../operators/window/window-contents.ts';
import type { AggregateFunction } from '../../../state/descriptors.ts';

export interface Ev {
  k: string;
  v: number;
}

export interface WindowSum {
  key: string;
  start: number;
  end: number;
  sum: number;
  firing: FiringKind;
}

export const lateTag = new OutputTag<Ev>('late');

export const sumAgg: AggregateFunction<Ev, { s: number }, number> = {
  createAccumulator: () => ({ s: 0 }),
  add: (e, acc) => ({ s: acc.s + e.v }),
  merge: (a, b) => ({ s: a.s + b.s }),
  getResult: (acc) => acc.s,
};

const toSum: WindowResultFunction<string, number, WindowSum> = (sum, ctx, out) => out.collect({ key: ctx.key, start: ctx.window.start, end: ctx.window.end, sum, firing: ctx.firing });
const toSumOfAll: ProcessWindowFunction<string, Ev, WindowSum> = (els, ctx, out) =>
  out.collect({ key: ctx.key, start: ctx.window.start, end: ctx.window.end, sum: els.reduce((a, e) => a + e.v, 0), firing: ctx.firing });

export type Mode = 'reduce' | 'aggregate' | 'process';
export const MODES: Mode[] = ['reduce', 'aggregate', 'process'];

/** A window operator summing `v` per key, in one of the three modes, emitting WindowSum records. */
export function windowSum(assigner: WindowAssigner, mode: Mode, options: WindowOperatorOptions<Ev> = {}): () => AlignedWindowOperator<string, Ev, unknown, unknown, WindowSum> | SessionWindowOperator<string, Ev, unknown, unknown, WindowSum> {
  return () => {
    const contents = (mode === 'reduce'
      ? reduceContents<Ev>((a, b) => ({ k: a.k, v: a.v + b.v }))
      : mode === 'aggregate'
        ? aggregateContents(sumAgg)
        : { kind: 'elements' }) as WindowContents<Ev, unknown, unknown>;
    const fn = (mode === 'process' ? toSumOfAll : mode === 'reduce' ? ((e: Ev, ctx, out) => toSum(e.v, ctx, out)) as WindowResultFunction<string, Ev, WindowSum> : toSum) as WindowResultFunction<string, unknown, WindowSum>;
    const name = `sum-${mode}`;
    const key = (e: Ev): string => e.k;
    return assigner.kind === 'aligned'
      ? new AlignedWindowOperator<string, Ev, unknown, unknown, WindowSum>(name, key, assigner, contents, fn, options)
      : new SessionWindowOperator<string, Ev, unknown, unknown, WindowSum>(name, key, assigner, contents, fn, options);
  };
}

/** The last result per (key, start, end), as "key@start-end=sum". */
export function finalResults(out: readonly { value: WindowSum }[]): string[] {
  const m = new Map<string, number>();
  for (const { value: w } of out) m.set(`${w.key}@${w.start}-${w.end}`, w.sum);
  return [...m].map(([k, s]) => `${k}=${s}`).sort();
}
