/**
 * What every Nexmark query job shares: its parameters, the source (with the watermarks and, for
 * benchmarks, a marker that reports when the source started), and the sinks (collect for tests, a
 * timing blackhole for benchmarks).
 */
import type { ClientChannel, DataStream, Operator, OperatorContext, Output, Sink, SinkWriter, SinkWriterContext, StreamEnv } from 'weir';
import type { NexmarkConfigInput } from '../generator/index.ts';
import type { Event, NumberedBid } from '../model.ts';
import type { QueryName, QueryRows } from '../queries.ts';
import { nexmarkSource, nexmarkWatermarks } from '../source.ts';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export type NexmarkJobParams = {
  query: QueryName;
  events: number;
  /** Generator settings (JSON); defaults are the reference's. */
  config?: { [K in keyof NexmarkConfigInput]: number };
  /** 'collect' (default): rows to the client; 'timing': a blackhole that reports counts and times. */
  sink?: 'collect' | 'timing';
  /** Splits of the source (default 16). */
  splits?: number;
};

/** What a query builder gets: a source of projected events, already with event time and watermarks. */
export interface QueryInput {
  readonly config: NexmarkConfigInput;
  /**
   * The Nexmark events [0, events) as `select` projects them (undefined: skipped), generated in
   * every source subtask; records carry the event's dateTime as their timestamp.
   */
  source<T>(name: string, select: (event: Event, n: number) => T | undefined): DataStream<T>;
  /** The bids of the Nexmark events, each with its event number (the generator makes them so). */
  numberedBids(name: string): DataStream<NumberedBid>;
}

export type QueryBuilder<Q extends QueryName> = (input: QueryInput) => DataStream<QueryRows[Q]>;

/** When a source subtask saw its first batch (epoch ms with sub-ms precision). */
export interface SourceStart {
  subtask: number;
  first: number;
}

/** When a timing sink subtask saw its first and last rows, and how many. */
export interface SinkTiming {
  subtask: number;
  rows: number;
  first: number;
  last: number;
  /**
   * Event-loop utilization of the sink's thread from its first to its last row (0..1): the share
   * of the time the thread was running tasks rather than waiting for input or credits.
   */
  busy: number;
}

export const SOURCE_START_TOPIC = 'nexmark-source-start';
export const SINK_TIMING_TOPIC = 'nexmark-sink-timing';
export const ROWS_TOPIC = 'nexmark-rows';

const now = (): number => performance.timeOrigin + performance.now();

/** Chained right after the source: notes when the first records came out of it. */
class StartMarker<T> implements Operator<T, T> {
  readonly name = 'start-marker';
  private out!: Output<T>;
  private client!: ClientChannel;
  private subtask = 0;
  private seen = false;

  open(ctx: OperatorContext<T>): void {
    this.out = ctx.output;
    this.client = ctx.client;
    this.subtask = ctx.subtaskIndex;
  }

  processBatch(values: readonly T[], times: ArrayLike<number>): void {
    if (!this.seen) {
      this.seen = true;
      this.client.send(SOURCE_START_TOPIC, [{ subtask: this.subtask, first: now() } satisfies SourceStart]);
    }
    const out = this.out;
    for (let i = 0; i < values.length; i++) out.emit(values[i]!, times[i]!);
  }
}

class TimingWriter<T> implements SinkWriter<T, never> {
  private client!: ClientChannel;
  private subtask = 0;
  private rows = 0;
  private first = 0;
  private last = 0;
  private startLoop: EventLoopUtilization | undefined;
  private lastLoop: EventLoopUtilization | undefined;

  constructor(ctx: SinkWriterContext) {
    this.client = ctx.client;
    this.subtask = ctx.subtaskIndex;
  }

  write(values: readonly T[]): void {
    const t = now();
    if (this.rows === 0) {
      this.first = t;
      this.startLoop = performance.eventLoopUtilization();
    }
    this.last = t;
    this.rows += values.length;
    this.lastLoop = performance.eventLoopUtilization();
  }

  prepareCommit(_checkpointId: number, endOfInput: boolean): never[] {
    if (!endOfInput) return [];
    const busy = this.startLoop && this.lastLoop ? performance.eventLoopUtilization(this.lastLoop, this.startLoop).utilization : 0;
    this.client.send(SINK_TIMING_TOPIC, [{ subtask: this.subtask, rows: this.rows, first: this.first, last: this.last, busy } satisfies SinkTiming]);
    return [];
  }
}

export function timingSink<T>(): Sink<T> {
  return { name: 'timing-sink', createWriter: (ctx) => new TimingWriter<T>(ctx) };
}

export function queryInput(env: StreamEnv, params: NexmarkJobParams): QueryInput {
  const config: NexmarkConfigInput = params.config ?? {};
  const timing = params.sink === 'timing';
  const withStart = <T>(stream: DataStream<T>): DataStream<T> => (timing ? stream.transform<T>('start-marker', () => new StartMarker<T>()) : stream);
  const common = { config, events: params.events, splits: params.splits };
  return {
    config,
    source<T>(name: string, select: (event: Event, n: number) => T | undefined): DataStream<T> {
      return withStart(env.fromSource(nexmarkSource<T>({ ...common, name, select }), { name, uid: name, watermarks: nexmarkWatermarks<T>(config) }));
    },
    numberedBids(name: string): DataStream<NumberedBid> {
      const source = nexmarkSource<NumberedBid>({ ...common, name, numberBids: true, select: (e) => (e.kind === 'bid' ? e : undefined) });
      return withStart(env.fromSource(source, { name, uid: name, watermarks: nexmarkWatermarks<NumberedBid>(config) }));
    },
  };
}
