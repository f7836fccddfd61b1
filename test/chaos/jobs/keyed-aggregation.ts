/**
 * The failure-injection job: orders from a rate-limited generator, summed per shop and 1-second
 * event-time bucket with keyed state and timers, written by an exactly-once (two-phase-commit)
 * sink. Its output does not depend on timing or interleaving, so a run with failures must commit
 * exactly what a run without them commits.
 */
import {
  type Collector,
  datagen,
  defineJob,
  type KeyedContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  type OnTimerContext,
  valueState,
  type ValueState,
  WatermarkStrategy,
} from 'weir';
import { transactionalFileSink } from '../../harness/transactional-sink.ts';

export interface Order {
  shop: string;
  cents: number;
  ts: number;
}

export interface ShopSecond {
  shop: string;
  second: number;
  orders: number;
  cents: number;
}

export function order(i: number, random: { int(n: number): number }): Order {
  return { shop: `shop-${random.int(40)}`, cents: 100 + random.int(10_000), ts: 1_000_000 + i * 2 - random.int(200) };
}

class SumPerSecond implements KeyedProcessFunction<string, Order, ShopSecond> {
  private sums!: ValueState<Record<string, [number, number]>>;

  open(ctx: KeyedRuntimeContext): void {
    this.sums = ctx.getState(valueState<Record<string, [number, number]>>('sums'));
  }

  processElement(o: Order, ctx: KeyedContext<string>): void {
    const end = Math.floor(o.ts / 1000) * 1000 + 999;
    const sums = this.sums.value() ?? {};
    const [n, c] = sums[end] ?? [0, 0];
    sums[end] = [n + 1, c + o.cents];
    this.sums.update(sums);
    ctx.timerService.registerEventTimeTimer(end);
  }

  onTimer(time: number, ctx: OnTimerContext<string>, out: Collector<ShopSecond>): void {
    const sums = this.sums.value() ?? {};
    const [orders, cents] = sums[time] ?? [0, 0];
    delete sums[time];
    this.sums.update(sums);
    out.collect({ shop: ctx.key, second: (time - 999) / 1000, orders, cents });
  }
}

export default defineJob(import.meta.url, (env, params: { count: number; ratePerSecond: number; seed: number; outDir: string; aggregationUid?: string }) => {
  env
    .fromSource(datagen({ name: 'orders', count: params.count, ratePerSecond: params.ratePerSecond, seed: params.seed, generate: order }), {
      uid: 'orders',
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Order>(250, (o) => o.ts),
    })
    .keyBy((o) => o.shop)
    .process(new SumPerSecond(), { uid: params.aggregationUid ?? 'sum-per-second', name: 'sum-per-second' })
    .sinkTo(transactionalFileSink<ShopSecond>(params.outDir), { uid: 'sink' });
});
