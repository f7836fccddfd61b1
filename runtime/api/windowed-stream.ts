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
import { DEFAULT_LOCAL_MAX_ENTRIES, LocalWindowAggregateOperator, type WindowPartial } from '../../operators/window/local-window-aggregate.ts';
import { AlignedWindowOperator, type WindowOperatorOptions } from '../../operators/window/aligned-window-operator.ts';
import { SessionWindowOperator } from '../../operators/window/session-window-operator.ts';
import type { EarlyFiring, ProcessWindowFunction, WindowContext, WindowResultFunction } from '../../operators/window/time-window.ts';
import { aggregateContents, reduceContents, type WindowContents } from '../../operators/window/window-contents.ts';
import { topNAggregate, type WindowRanked } from '../../operators/rank/window-top-n.ts';
import type { KeyedStream, OperatorOptions, SingleOutputStream } from './data-stream.ts';

/** Options of `localAggregation()`. */
export interface LocalAggregationOptions {
  /** (key, pane) accumulators each input subtask holds at most; past it the oldest pane goes on early. Default 10000. */
  maxEntries?: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function emitOne<K, IN, R>(map: ((result: IN, ctx: WindowContext<K>) => R) | undefined): WindowResultFunction<K, IN, R> {
  if (!map) return (result, _ctx, out) => out.collect(result as unknown as R);
  return (result, ctx, out) => out.collect(map(result, ctx));
}

export class WindowedStream<K extends StateKey, T> {
  private lateness = 0;
  private lateTag: OutputTag<T> | undefined;
  private early: EarlyFiring | undefined;
  private local: Required<LocalAggregationOptions> | undefined;

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
   * Pre-aggregate before the exchange (Flink's two-phase / local-global aggregation, for skewed
   * keys): each input subtask folds its records per key and pane with the aggregate function and
   * sends one partial accumulator per key and pane; the keyed window operator merges them with
   * `merge`. Results are the same as without it. For `aggregate` and `aggregateWith` on event-time
   * tumbling or sliding windows, with a function that has `merge`; not with sideOutputLateData or
   * earlyFiring (partials are held until their pane ends). See operators/window/local-window-aggregate.ts.
   */
  localAggregation(options: LocalAggregationOptions = {}): this {
    const maxEntries = options.maxEntries ?? DEFAULT_LOCAL_MAX_ENTRIES;
    if (!(Number.isInteger(maxEntries) && maxEntries > 0)) throw new ConfigError('localAggregation.maxEntries', `must be a positive whole number, got ${maxEntries}`);
    const a = this.assigner;
    if (a.kind !== 'aligned' || a.time !== 'event') {
      throw new ConfigError('localAggregation', `applies to event-time tumbling and sliding windows, not ${a.time}-time ${a.name} windows: leave it out`);
    }
    this.local = { maxEntries };
    return this;
  }

  /**
   * Combines the records of a window with `fn`, which must return a new value rather than modify
   * its arguments. `map` turns the result and the window into the output record (default: the result).
   */
  reduce<R = T>(fn: (a: T, b: T) => T, map?: (result: T, ctx: WindowContext<K>) => R, options: OperatorOptions = {}): SingleOutputStream<R> {
    this.requireNoLocal('reduce');
    return this.build<T, T, R>('window-reduce', reduceContents(fn), emitOne(map), options);
  }

  /** Incremental aggregation: one accumulator per window (per pane for sliding windows); `map` as in reduce. */
  aggregate<ACC, OUT, R = OUT>(agg: AggregateFunction<T, ACC, OUT>, map?: (result: OUT, ctx: WindowContext<K>) => R, options: OperatorOptions = {}): SingleOutputStream<R> {
    if (this.local) return this.buildLocal<ACC, OUT, R>(agg, emitOne(map), options);
    return this.build<ACC, OUT, R>('window-aggregate', aggregateContents(agg), emitOne(map), options);
  }

  /** Incremental aggregation with a function that may emit any number of records per firing (Flink's aggregate(agg, windowFunction)). */
  aggregateWith<ACC, OUT, R>(agg: AggregateFunction<T, ACC, OUT>, windowFn: WindowResultFunction<K, OUT, R>, options: OperatorOptions = {}): SingleOutputStream<R> {
    if (this.local) return this.buildLocal<ACC, OUT, R>(agg, windowFn, options);
    return this.build<ACC, OUT, R>('window-aggregate', aggregateContents(agg), windowFn, options);
  }

  /** A function over all records of the window at once (they are kept in state until it fires). */
  process<R>(fn: ProcessWindowFunction<K, T, R>, options: OperatorOptions = {}): SingleOutputStream<R> {
    this.requireNoLocal('process');
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

  private requireNoLocal(what: string): void {
    if (this.local) throw new ConfigError('localAggregation', `applies to aggregate and aggregateWith, not ${what}: use an AggregateFunction with merge, or leave localAggregation out`);
  }

  /** Two phases: the local pre-aggregation with the input, then the keyed window merging partials. */
  private buildLocal<ACC, OUT, R>(agg: AggregateFunction<T, ACC, OUT>, fn: WindowResultFunction<K, OUT, R>, options: OperatorOptions): SingleOutputStream<R> {
    const a = this.assigner;
    const merge = agg.merge?.bind(agg);
    if (!merge) throw new ConfigError('localAggregation', 'needs an AggregateFunction with merge(a, b): the keyed window merges the partial accumulators; add merge or leave localAggregation out');
    if (this.lateTag) throw new ConfigError('localAggregation', 'cannot be combined with sideOutputLateData: late records are folded into partials before the window sees them; leave one of them out');
    if (this.early) throw new ConfigError('localAggregation', 'cannot be combined with earlyFiring: partials are held until their pane ends; leave one of them out');
    if (a.kind !== 'aligned') throw new ConfigError('localAggregation', 'applies to tumbling and sliding windows');
    const paneMs = a.name === 'tumbling' ? a.sizeMs : gcd(a.sizeMs, a.slideMs);
    const name = options.name ?? `window-aggregate(${a.name})`;
    const key = this.keyed.key;
    const maxEntries = this.local!.maxEntries;
    const second: AggregateFunction<WindowPartial<K, ACC>, ACC, OUT> = {
      createAccumulator: () => agg.createAccumulator(),
      add: (p, acc) => merge(acc, p.acc),
      getResult: (acc) => agg.getResult(acc),
      merge,
      ...(agg.accumulatorSerializer ? { accumulatorSerializer: agg.accumulatorSerializer } : {}),
    };
    const localName = `${name}-local`;
    const partials = this.keyed
      .inputStream()
      .transform<WindowPartial<K, ACC>>(localName, () => new LocalWindowAggregateOperator<K, T, ACC, OUT>(localName, key, agg, paneMs, a.offsetMs, maxEntries), {
        name: localName,
        ...(options.uid !== undefined ? { uid: `${options.uid}-local` } : {}),
      });
    const windowed = partials.keyBy((p) => p.key).window(a);
    if (this.lateness > 0) windowed.allowedLateness(this.lateness);
    return windowed.aggregateWith<ACC, OUT, R>(second, fn, { ...options, name });
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
