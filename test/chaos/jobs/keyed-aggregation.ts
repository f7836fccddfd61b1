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

/** A stateful pass-through: counts orders per shop in keyed state (added in version 2 of the job). */
class CountPerShop implements KeyedProcessFunction<string, Order, Order> {
  private count!: ValueState<number>;

  open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.getState(valueState<number>('count'));
  }

  processElement(o: Order, _ctx: KeyedContext<string>, out: Collector<Order>): void {
    this.count.update((this.count.value() ?? 0) + 1);
    out.collect(o);
  }
}

export const EXTRA_ORDERS = 100;

export type KeyedAggregationParams = {
  count: number;
  ratePerSecond: number;
  seed: number;
  outDir: string;
  aggregationUid?: string;
  /**
   * Version 2 of the job (an upgrade to resume from version 1's savepoint): one more stateful
   * operator in the main pipeline (uid 'count-per-shop', its output unchanged) and one more source
   * ('extra-orders', EXTRA_ORDERS records) written by its own sink to `<outDir>/extra`.
   */
  upgraded?: boolean;
};

export default defineJob(import.meta.url, (env, params: KeyedAggregationParams) => {
  let orders = env
    .fromSource(datagen({ name: 'orders', count: params.count, ratePerSecond: params.ratePerSecond, seed: params.seed, generate: order }), {
      uid: 'orders',
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Order>(250, (o) => o.ts),
    });
  if (params.upgraded) orders = orders.keyBy((o) => o.shop).process(new CountPerShop(), { uid: 'count-per-shop', name: 'count-per-shop' });
  orders
    .keyBy((o) => o.shop)
    .process(new SumPerSecond(), { uid: params.aggregationUid ?? 'sum-per-second', name: 'sum-per-second' })
    .sinkTo(transactionalFileSink<ShopSecond>(params.outDir), { uid: 'sink' });
  if (params.upgraded) {
    env
      .fromSource(datagen({ name: 'extra-orders', count: EXTRA_ORDERS, seed: params.seed + 1, generate: order }), { uid: 'extra-orders' })
      .sinkTo(transactionalFileSink<Order>(`${params.outDir}/extra`, 'extra-sink'), { uid: 'extra-sink' });
  }
});
