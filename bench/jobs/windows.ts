/**
 * Jobs the window benchmarks run: in-order events (1 ms apart, 1000 keys) counted per key in a
 * tumbling 10 s window, or in sliding 10 s windows every 1 s or 100 ms. A tap after the source
 * reports when the first record left it and the timing sink when the last result arrived, so the
 * measured span covers the whole pipeline (windows emit only at their ends) but not thread start.
 */
import {
  type AggregateFunction,
  type ClientChannel,
  datagen,
  defineJob,
  type Operator,
  type OperatorContext,
  type Output,
  slidingEventTimeWindows,
  tumblingEventTimeWindows,
  WatermarkStrategy,
} from 'weir';
import { timingSink } from './pipelines.ts';

export interface Tick {
  key: string;
  ts: number;
}

export const BASE_TS = 1_700_000_000_000;

export function tick(i: number, keys: number): Tick {
  return { key: `key-${i % keys}`, ts: BASE_TS + i };
}

/** 80% of the records on one hot key, the rest spread over `keys`: a skewed input. */
export function skewedTick(i: number, keys: number): Tick {
  return { key: i % 5 === 0 ? `key-${(i / 5) % keys}` : 'key-hot', ts: BASE_TS + i };
}

/** `skewed`: skewedTick's keys; `local`: with localAggregation (two phases). */
export type WindowBenchParams = { kind: 'tumbling' | 'sliding'; slideMs: number; count: number; keys: number; stateBackend?: string; skewed?: boolean; local?: boolean };

export const SIZE_MS = 10_000;

const count: AggregateFunction<Tick, number, number> = {
  createAccumulator: () => 0,
  add: (_t, acc) => acc + 1,
  merge: (a, b) => a + b,
  getResult: (acc) => acc,
};

/** Passes records through; reports (topic 'first') when the first one went by. */
class FirstRecordTap<T> implements Operator<T, T> {
  readonly name = 'first-record-tap';
  private client!: ClientChannel;
  private out!: Output<T>;
  private seen = false;
  open(ctx: OperatorContext<T>): void {
    this.client = ctx.client;
    this.out = ctx.output;
  }
  processBatch(values: readonly T[], times: ArrayLike<number>): void {
    if (!this.seen && values.length > 0) {
      this.seen = true;
      this.client.send('first', [performance.timeOrigin + performance.now()]);
    }
    for (let i = 0; i < values.length; i++) this.out.emit(values[i]!, times[i]!);
  }
}

export default defineJob(import.meta.url, (env, p: WindowBenchParams) => {
  const keyed = env
    .fromSource(datagen({ count: p.count, generate: (i) => (p.skewed ? skewedTick(i, p.keys) : tick(i, p.keys)) }), { name: 'ticks', uid: 'ticks', watermarks: WatermarkStrategy.forMonotonousTimestamps<Tick>((t) => t.ts) })
    .transform('first-record-tap', () => new FirstRecordTap<Tick>())
    .keyBy((t) => t.key);
  const assigner = p.kind === 'tumbling' ? tumblingEventTimeWindows(SIZE_MS) : slidingEventTimeWindows(SIZE_MS, p.slideMs);
  const windowed = p.local ? keyed.window(assigner).localAggregation() : keyed.window(assigner);
  windowed.aggregate(count, undefined, { uid: 'window' }).sinkTo(timingSink<number>((n) => n));
});
