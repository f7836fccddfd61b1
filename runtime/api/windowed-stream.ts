/**
 * Windows on a keyed stream: `keyBy(...).window(assigner)`, then how late data is handled and when
 * to fire early, then what to compute (reduce, aggregate, process, topN).
 *
 *     stream
 *       .keyBy((e) => e.room)
 *       .window(tumblingEventTimeWindows(60_000))
 *       .allowedLateness(10_000)              // late records update results for 10 s more
 *       .sideOutputLateData(lateTag)          // later ones go here (read with getSideOutput(lateTag))
 *       .earlyFiring(continuousProcessingTimeTrigger(1_000)) // and results every second meanwhile
 *       .aggregate(sumOf((e) => e.amount), (sum, ctx) => ({ room: ctx.key, end: ctx.window.end, sum }));
 *
 * Results carry the timestamp `window.end - 1`. Sliding windows keep one accumulator per pane
 * (gcd(size, slide)), so aggregate functions used with them (and with sessions) need `merge`.
 */
import type { StateKey } from '../../state/key-groups.ts';
import type { AggregateFunction } from '../../state/descriptors.ts';
import { ConfigError } from '../errors.ts';
import type { OutputTag } from '../../operators/operator.ts';
import type { WindowAssigner } from '../../operators/window/assigner.ts';
import { AlignedWindowOperator, type WindowOperatorOptions } from '../../operators/window/aligned-window-operator.ts';
import { SessionWindowOperator } from '../../operators/window/session-window-operator.ts';
import type { EarlyFiring, ProcessWindowFunction, WindowContext, WindowResultFunction } from '../../operators/window/time-window.ts';
import { aggregateContents, reduceContents, type WindowContents } from '../../operators/window/window-contents.ts';
import { topNAggregate, type WindowRanked } from '../../operators/rank/window-top-n.ts';
import type { KeyedStream, OperatorOptions, SingleOutputStream } from './data-stream.ts';

function emitOne<K, IN, R>(map: ((result: IN, ctx: WindowContext<K>) => R) | undefined): WindowResultFunction<K, IN, R> {
  if (!map) return (result, _ctx, out) => out.collect(result as unknown as R);
  return (result, ctx, out) => out.collect(map(result, ctx));
}

export class WindowedStream<K extends StateKey, T> {
  private lateness = 0;
  private lateTag: OutputTag<T> | undefined;
  private early: EarlyFiring | undefined;

  constructor(
    private readonly keyed: KeyedStream<K, T>,
    readonly assigner: WindowAssigner,
  ) {}

  /** Keep windows this long (ms of event time) after they end; late records update and re-fire them. */
  allowedLateness(ms: number): this {
    if (!(Number.isInteger(ms) && ms >= 0)) throw new ConfigError('allowedLateness', `must be a whole number of milliseconds >= 0, got ${ms}`);
    if (this.assigner.time !== 'event' && ms > 0) throw new ConfigError('allowedLateness', 'applies to event-time windows only: processing-time windows have no late records');
    this.lateness = ms;
    return this;
  }

  /** Records too late for every window they belong to go to this side output instead of being dropped. */
  sideOutputLateData(tag: OutputTag<T>): this {
    this.lateTag = tag;
    return this;
  }

  /** Also fire every `everyMs` of event or processing time before the window ends (e.g. a day's DAU every minute). */
  earlyFiring(trigger: EarlyFiring): this {
    if (!(Number.isInteger(trigger.everyMs) && trigger.everyMs > 0)) throw new ConfigError('earlyFiring.everyMs', `must be a positive whole number of milliseconds, got ${trigger.everyMs}`);
    this.early = trigger;
    return this;
  }

  /**
   * Combines the records of a window with `fn`, which must return a new value rather than modify
   * its arguments. `map` turns the result and the window into the output record (default: the result).
   */
  reduce<R = T>(fn: (a: T, b: T) => T, map?: (result: T, ctx: WindowContext<K>) => R, options: OperatorOptions = {}): SingleOutputStream<R> {
    return this.build<T, T, R>('window-reduce', reduceContents(fn), emitOne(map), options);
  }

  /** Incremental aggregation: one accumulator per window (per pane for sliding windows); `map` as in reduce. */
  aggregate<ACC, OUT, R = OUT>(agg: AggregateFunction<T, ACC, OUT>, map?: (result: OUT, ctx: WindowContext<K>) => R, options: OperatorOptions = {}): SingleOutputStream<R> {
    return this.build<ACC, OUT, R>('window-aggregate', aggregateContents(agg), emitOne(map), options);
  }

  /** Incremental aggregation with a function that may emit any number of records per firing (Flink's aggregate(agg, windowFunction)). */
  aggregateWith<ACC, OUT, R>(agg: AggregateFunction<T, ACC, OUT>, windowFn: WindowResultFunction<K, OUT, R>, options: OperatorOptions = {}): SingleOutputStream<R> {
    return this.build<ACC, OUT, R>('window-aggregate', aggregateContents(agg), windowFn, options);
  }

  /** A function over all records of the window at once (they are kept in state until it fires). */
  process<R>(fn: ProcessWindowFunction<K, T, R>, options: OperatorOptions = {}): SingleOutputStream<R> {
    return this.build<never, never, R>('window-process', { kind: 'elements' }, fn, options);
  }

  /** The best `n` records of each key and window by `compare` (negative: a first), one output record per rank. */
  topN(n: number, compare: (a: T, b: T) => number, options: OperatorOptions = {}): SingleOutputStream<WindowRanked<K, T>> {
    return this.aggregateWith<T[], T[], WindowRanked<K, T>>(
      topNAggregate(n, compare),
      (rows, ctx, out) => {
        for (let i = 0; i < rows.length; i++) out.collect({ key: ctx.key, windowStart: ctx.window.start, windowEnd: ctx.window.end, rank: i + 1, row: rows[i]! });
      },
      { name: 'window-top-n', ...options },
    );
  }

  private build<ACC, OUT, R>(
    defaultName: string,
    contents: WindowContents<T, ACC, OUT>,
    fn: WindowResultFunction<K, OUT, R> | ProcessWindowFunction<K, T, R>,
    options: OperatorOptions,
  ): SingleOutputStream<R> {
    const name = options.name ?? `${defaultName}(${this.assigner.name})`;
    const opts: WindowOperatorOptions<T> = { allowedLatenessMs: this.lateness, lateTag: this.lateTag, earlyFiring: this.early };
    const assigner = this.assigner;
    const key = this.keyed.key;
    const create = (): AlignedWindowOperator<K, T, ACC, OUT, R> | SessionWindowOperator<K, T, ACC, OUT, R> =>
      assigner.kind === 'aligned' ? new AlignedWindowOperator<K, T, ACC, OUT, R>(name, key, assigner, contents, fn, opts) : new SessionWindowOperator<K, T, ACC, OUT, R>(name, key, assigner, contents, fn, opts);
    create(); // configuration errors (an aggregate without merge) surface when the graph is built
    return this.keyed.transformKeyed<R>(name, create, options);
  }
}
