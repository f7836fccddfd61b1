/**
 * The Nexmark source for Weir. Every source subtask generates its own share of the events in its
 * own thread (event number n is a pure function of (config, n), so nothing is funnelled through
 * one generator).
 *
 * The event numbers [0, events) are cut into a fixed number of splits (split j holds j, j+S, j+2S,
 * ...), dealt round-robin to the subtasks; each split's next event number is kept in operator state
 * at every checkpoint, so a restored job continues exactly there, also at another parallelism (the
 * splits are dealt anew, as datagen's are). Each split has its own watermark. A reader takes its
 * splits in turn, one event each, so at parallelism 1 the events come out in stream order.
 *
 * `select` projects (and filters) each event in the source, before anything else sees it: a query
 * that needs two fields of bids sends only those over the exchange, and the columnar batch codec
 * only stays columnar when all records of a stream have one shape. It also gets the event number,
 * the stream position the reference uses to break ties (q18, q19): at parallelism > 1 records of
 * one key reach an operator from several subtasks, so arrival order is not stream order.
 *
 * Event time is the event's `dateTime`, given to the runtime as the source timestamp, so projected
 * records need not carry it; `nexmarkWatermarks(config)` is the matching strategy.
 */
import {
  ConfigError,
  type OperatorListState,
  type PollStatus,
  type Source,
  type SourceOutput,
  type SourceReader,
  type SourceReaderContext,
  WatermarkStrategy,
} from 'weir';
import { NexmarkGenerator, maxOutOfOrderMs, nexmarkConfig, type NexmarkConfigInput } from './generator/index.ts';
import type { Event } from './model.ts';

export interface NexmarkSourceOptions<T> {
  name?: string;
  config?: NexmarkConfigInput;
  /** Total events over all subtasks: event numbers [0, events). */
  events: number;
  /** How many splits the events are cut into (default 16): the highest parallelism the source can run at. */
  splits?: number;
  /** The record for event number n, or undefined to skip it (default: the event itself). */
  select?: (event: Event, n: number) => T | undefined;
}

interface SplitPosition {
  split: number;
  /** The next event number this split generates. */
  next: number;
}

const STATE_NAME = 'nexmark-splits';

class NexmarkReader<T> implements SourceReader<T> {
  readonly splits: number;
  private readonly owned: SplitPosition[];
  private readonly state: OperatorListState<SplitPosition>;
  private readonly gen: NexmarkGenerator;
  private readonly stride: number;
  private readonly end: number;
  private readonly select: ((event: Event, n: number) => T | undefined) | undefined;
  private cursor = 0;

  constructor(options: NexmarkSourceOptions<T>, ctx: SourceReaderContext) {
    this.stride = options.splits ?? 16;
    this.end = options.events;
    this.select = options.select;
    if (ctx.parallelism > this.stride) {
      throw new ConfigError(
        `nexmark source '${options.name ?? 'nexmark'}'.splits`,
        `is ${this.stride}, below the source's parallelism ${ctx.parallelism}; raise splits (it bounds the parallelism, and must stay the same across restarts)`,
      );
    }
    this.gen = new NexmarkGenerator(options.config ?? {});
    this.state = ctx.operatorState.getListState<SplitPosition>(STATE_NAME);
    this.owned = ctx.restored
      ? this.state.get().map((p) => ({ split: p.split, next: p.next }))
      : Array.from({ length: this.stride }, (_, j) => j)
          .filter((j) => j % ctx.parallelism === ctx.subtaskIndex)
          .map((j) => ({ split: j, next: j }));
    this.owned.sort((a, b) => a.split - b.split);
    this.splits = Math.max(1, this.owned.length);
  }

  poll(out: SourceOutput<T>, max: number): PollStatus {
    const owned = this.owned;
    const count = owned.length;
    if (count === 0) return 'end';
    const gen = this.gen;
    const select = this.select;
    const stride = this.stride;
    const end = this.end;
    let produced = 0;
    let exhausted = 0;
    let k = this.cursor;
    // Round robin over the owned splits keeps their event times together.
    while (produced < max && exhausted < count) {
      const p = owned[k]!;
      const split = k;
      k = k + 1 === count ? 0 : k + 1;
      const n = p.next;
      if (n >= end) {
        exhausted++;
        continue;
      }
      exhausted = 0;
      p.next = n + stride;
      produced++;
      const e = gen.eventAt(n);
      if (select === undefined) out.collect(e as T, e.dateTime, split);
      else {
        const v = select(e, n);
        if (v !== undefined) out.collect(v, e.dateTime, split);
      }
    }
    this.cursor = k;
    for (let i = 0; i < count; i++) if (owned[i]!.next < end) return 'more';
    return 'end';
  }

  snapshotState(): void {
    this.state.update(this.owned);
  }
}

/** A bounded Nexmark source of `events` events, split for parallel generation (see the module comment). */
export function nexmarkSource<T = Event>(options: NexmarkSourceOptions<T>): Source<T> {
  if (!(Number.isSafeInteger(options.events) && options.events >= 0)) {
    throw new ConfigError('nexmark.events', `must be a whole number >= 0, got ${options.events}`);
  }
  const splits = options.splits ?? 16;
  if (!(Number.isInteger(splits) && splits >= 1)) throw new ConfigError('nexmark.splits', `must be a whole number >= 1, got ${splits}`);
  nexmarkConfig(options.config ?? {}); // settings errors surface when the graph is built
  return {
    name: options.name ?? 'nexmark',
    bounded: true,
    createReader: (ctx) => new NexmarkReader<T>(options, ctx),
  };
}

/**
 * Event time from the source timestamp (the event's dateTime), watermarks trailing the largest time
 * seen by the generator's bound on disorder: with it no event is ever late.
 */
export function nexmarkWatermarks<T>(config: NexmarkConfigInput = {}): WatermarkStrategy<T> {
  return WatermarkStrategy.forBoundedOutOfOrderness<T>(maxOutOfOrderMs(nexmarkConfig(config)));
}
