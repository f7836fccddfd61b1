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
 * With `numberBids` the generator makes its bids with their event number (NumberedBid), for the
 * queries that break ties by it, instead of each query copying every bid to add it.
 *
 * Event time is the event's `dateTime`, given to the runtime as the source timestamp, so projected
 * records need not carry it; `nexmarkWatermarks(config)` is the matching strategy.
 */
import { ConfigError, type Source, type SourceReaderContext, type SplitOutput, WatermarkStrategy } from 'weir';
import { restoreSequenceEnumerator, sequenceEnumerator, SequenceReader, type SequenceEnumeratorState, type SequenceSplit } from '../../connectors/datagen/sequence.ts';
import { NexmarkGenerator, maxOutOfOrderMs, nexmarkConfig, type NexmarkConfigInput } from './generator/index.ts';
import type { Event, NumberedEvent } from './model.ts';

interface CommonSourceOptions {
  name?: string;
  config?: NexmarkConfigInput;
  /** Total events over all subtasks: event numbers [0, events). */
  events: number;
  /** How many splits the events are cut into (default 16): the highest parallelism the source can run at. */
  splits?: number;
}

export type NexmarkSourceOptions<T> = CommonSourceOptions &
  (
    | {
        numberBids?: false;
        /** The record for event number n, or undefined to skip it (default: the event itself). */
        select?: (event: Event, n: number) => T | undefined;
      }
    | {
        /** Bids are NumberedBids (see the module comment). */
        numberBids: true;
        select?: (event: NumberedEvent, n: number) => T | undefined;
      }
  );

class NexmarkReader<T> extends SequenceReader<T> {
  private readonly gen: NexmarkGenerator;
  private readonly select: ((event: Event, n: number) => T | undefined) | undefined;

  constructor(options: NexmarkSourceOptions<T>, ctx: SourceReaderContext) {
    super(ctx, options.splits ?? 16, options.events);
    const numberBids = options.numberBids === true;
    this.gen = new NexmarkGenerator(options.config ?? {}, {}, { numberBids });
    // With numberBids the generator's events are NumberedEvents: the select written for them gets them.
    this.select = options.select as ((event: Event, n: number) => T | undefined) | undefined;
  }

  protected emit(n: number, out: SplitOutput<T>): void {
    const e = this.gen.eventAt(n);
    const select = this.select;
    if (select === undefined) out.collect(e as T, e.dateTime);
    else {
      const v = select(e, n);
      if (v !== undefined) out.collect(v, e.dateTime);
    }
  }
}

/** A bounded Nexmark source of `events` events, split for parallel generation (see the module comment). */
export function nexmarkSource<T = Event>(options: NexmarkSourceOptions<T>): Source<T, SequenceSplit, SequenceEnumeratorState> {
  if (!(Number.isSafeInteger(options.events) && options.events >= 0)) {
    throw new ConfigError('nexmark.events', `must be a whole number >= 0, got ${options.events}`);
  }
  const splits = options.splits ?? 16;
  if (!(Number.isInteger(splits) && splits >= 1)) throw new ConfigError('nexmark.splits', `must be a whole number >= 1, got ${splits}`);
  nexmarkConfig(options.config ?? {}); // settings errors surface when the graph is built
  const name = options.name ?? 'nexmark';
  return {
    name,
    bounded: true,
    createEnumerator: (ctx) => sequenceEnumerator(ctx, splits, `nexmark source '${name}'.splits`),
    restoreEnumerator: (ctx, state) => restoreSequenceEnumerator(ctx, state),
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
