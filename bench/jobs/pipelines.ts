/**
 * Jobs the runtime benchmarks run: an exchange between two task managers, a chained pipeline, and
 * a keyed running count. Each ends in a timing sink that reports when its first and last records
 * arrived, so the measurement excludes starting the worker threads.
 */
import {
  type Change,
  type ClientChannel,
  type Collector,
  datagen,
  defineJob,
  type KeyedRuntimeContext,
  type Operator,
  type OperatorContext,
  type Sink,
  type SinkWriter,
  type SinkWriterContext,
  valueState,
  type ValueState,
} from 'weir';

export interface Small {
  key: string;
  ts: number;
  value: number;
}

/** The records every runtime benchmark and its baseline generate. */
export function small(i: number, keys = 10_000): Small {
  return { key: `key-${i % keys}`, ts: 1_700_000_000_000 + i, value: i * 0.5 };
}

/** 80% of the records on one hot key, the rest spread over `keys`: a skewed input. */
export function skewedSmall(i: number, keys = 10_000): Small {
  return { key: i % 5 === 0 ? `key-${(i / 5) % keys}` : 'key-hot', ts: 1_700_000_000_000 + i, value: i * 0.5 };
}

export interface SinkTiming {
  subtask: number;
  count: number;
  first: number;
  last: number;
  checksum: number;
}

class TimingWriter<T> implements SinkWriter<T, never> {
  private client!: ClientChannel;
  private subtask = 0;
  private count = 0;
  private first = 0;
  private last = 0;
  private checksum = 0;

  constructor(ctx: SinkWriterContext, private readonly valueOf: (v: T) => number) {
    this.client = ctx.client;
    this.subtask = ctx.subtaskIndex;
  }

  write(values: readonly T[]): void {
    const now = performance.timeOrigin + performance.now();
    if (this.count === 0) this.first = now;
    this.last = now;
    this.count += values.length;
    let c = this.checksum;
    for (let i = 0; i < values.length; i++) c += this.valueOf(values[i]!);
    this.checksum = c;
  }

  prepareCommit(_checkpointId: number, endOfInput: boolean): never[] {
    if (endOfInput) this.client.send('timing', [{ subtask: this.subtask, count: this.count, first: this.first, last: this.last, checksum: this.checksum } satisfies SinkTiming]);
    return [];
  }
}

export function timingSink<T>(valueOf: (v: T) => number): Sink<T> {
  return { name: 'timing-sink', createWriter: (ctx) => new TimingWriter<T>(ctx, valueOf) };
}

export type PipelineParams = {
  kind: 'exchange' | 'chain' | 'keyed-count' | 'group-sum';
  count: number;
  keys?: number;
  ratePerSecond?: number;
  /** Extra CPU work per record in the keyed stage (iterations of a small loop): a consumer slower than its source. */
  spin?: number;
  /** 80% of the records on one key (skewedSmall). */
  skewed?: boolean;
  /** group-sum: with localAggregation (two phases). */
  local?: boolean;
  /**
   * A second, unbounded source (one record a second, filtered out) keeps the job running after the
   * bounded one ended: a checkpoint of the finished part's state can then be taken at rest, which the
   * final checkpoint of a bounded job does not write (runtime/checkpoint/snapshot-kind.ts).
   */
  keepRunning?: boolean;
};

class RunningCount implements Partial<import('weir').KeyedProcessFunction<string, Small, number>> {
  private n!: ValueState<number>;
  /** Where the spin loop's result goes, so the loop is not optimized away. */
  private work = 0;
  constructor(private readonly spin = 0) {}
  open(ctx: KeyedRuntimeContext): void {
    this.n = ctx.getState(valueState<number>('n'));
  }
  processElement(_r: Small, _ctx: unknown, out: Collector<number>): void {
    const next = (this.n.value() ?? 0) + 1;
    let w = this.work;
    for (let i = 0; i < this.spin; i++) w = (w * 31 + i) % 1_000_003;
    this.work = w;
    this.n.update(next);
    out.collect(next);
  }
}

export default defineJob(import.meta.url, (env, params: PipelineParams) => {
  const keys = params.keys ?? 10_000;
  if (params.keepRunning) {
    env
      .fromSource(datagen({ ratePerSecond: 1, generate: (i) => i }), { name: 'keep-running', uid: 'keep-running' })
      .filter(() => false)
      .sinkTo(timingSink<number>((n) => n), { name: 'keep-running-sink' });
  }
  const source = env.fromSource(datagen({ count: params.count, ratePerSecond: params.ratePerSecond, generate: (i) => (params.skewed ? skewedSmall(i, keys) : small(i, keys)) }), { name: 'small-records', uid: 'small-records' });
  switch (params.kind) {
    case 'exchange':
      // One source subtask on task manager 0, one sink subtask on task manager 1.
      source.rebalance().sinkTo(timingSink<Small>((r) => r.value + r.key.length), { parallelism: 1, slotSharingGroup: 'sink' });
      return;
    case 'chain':
      source
        .map((r) => ({ key: r.key, ts: r.ts, value: r.value * 2 }))
        .filter((r) => r.value % 3 !== 1)
        .sinkTo(timingSink<Small>((r) => r.value + r.key.length));
      return;
    case 'keyed-count':
      source
        .keyBy((r) => r.key)
        .process(new RunningCount(params.spin) as import('weir').KeyedProcessFunction<string, Small, number>)
        .sinkTo(timingSink<number>((n) => n));
      return;
    case 'group-sum':
      // A group-by sum over an insert-only changelog; the checksum is the last sum seen per subtask.
      source
        .map((r): Change<Small> => ({ kind: '+I', row: r }))
        .keyBy((c) => c.row.key)
        .aggregateChangelog(
          { createAccumulator: () => 0, add: (r, a) => a + r.value, retract: (r, a) => a - r.value, merge: (a, b) => a + b, getResult: (a) => a },
          { uid: 'group-sum', localAggregation: params.local === true },
        )
        .sinkTo(timingSink<Change<number>>((c) => (c.kind === '+I' || c.kind === '+U' ? 1 : 0)));
      return;
  }
});
