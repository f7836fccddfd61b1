/**
 * Out-of-order events with event-time timers: each event registers a timer at the end of its
 * 100 ms bucket; the timer emits the bucket's count for its key. Records that arrive behind the
 * watermark are counted as late.
 */
import {
  type Collector,
  collectSink,
  datagen,
  defineJob,
  type KeyedContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  type OnTimerContext,
  OutputTag,
  valueState,
  type ValueState,
  WatermarkStrategy,
} from 'weir';

export interface Event {
  key: string;
  ts: number;
}

export interface Firing {
  key: string;
  time: number;
  count: number;
  watermark: number;
}

/** Event i: time goes up by 1 ms per event, jittered back by up to `disorder` ms (more than a split's stride of 32 ms, so records are out of order within a split too). */
export function event(i: number, random: { int(n: number): number }, disorder: number): Event {
  return { key: `k${random.int(7)}`, ts: 1_000_000 + i - random.int(disorder + 1) };
}

export const BUCKET_MS = 100;
export const firings = collectSink<Firing>('firings');
export const late = collectSink<Event>('late');
const lateTag = new OutputTag<Event>('late-events');

class BucketCounter implements KeyedProcessFunction<string, Event, Firing> {
  private counts!: ValueState<Record<string, number>>;
  open(ctx: KeyedRuntimeContext): void {
    this.counts = ctx.getState(valueState<Record<string, number>>('bucket-counts'));
  }
  processElement(e: Event, ctx: KeyedContext<string>): void {
    if (e.ts <= ctx.currentWatermark()) {
      ctx.output(lateTag, e);
      return;
    }
    const end = Math.floor(e.ts / BUCKET_MS) * BUCKET_MS + BUCKET_MS - 1;
    const counts = { ...(this.counts.value() ?? {}) };
    counts[end] = (counts[end] ?? 0) + 1;
    this.counts.update(counts);
    ctx.timerService.registerEventTimeTimer(end);
  }
  onTimer(time: number, ctx: OnTimerContext<string>, out: Collector<Firing>): void {
    const counts = { ...(this.counts.value() ?? {}) };
    out.collect({ key: ctx.key, time, count: counts[time] ?? 0, watermark: ctx.currentWatermark() });
    delete counts[time];
    this.counts.update(counts);
  }
}

export default defineJob(import.meta.url, (env, params: { count: number; seed: number; disorder: number; bound: number }) => {
  const out = env
    .fromSource(datagen({ count: params.count, seed: params.seed, generate: (i, r) => event(i, r, params.disorder) }), {
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Event>(params.bound, (e) => e.ts),
    })
    .keyBy((e) => e.key)
    .process(new BucketCounter(), { uid: 'bucket-counter' });
  out.sinkTo(firings);
  out.getSideOutput(lateTag).sinkTo(late);
});
