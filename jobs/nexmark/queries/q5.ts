import { listState, type Collector, type KeyedContext, type KeyedProcessFunction, type KeyedRuntimeContext, type ListState, type OnTimerContext } from '../../../runtime/api/index.ts';
import { slidingEventTimeWindows } from '../../../operators/window/sliding.ts';
import { Q5_SLIDE_MS, Q5_WINDOW_MS, type Q5Row } from '../queries.ts';
import type { QueryBuilder } from './common.ts';
import { windowCount } from './window-count.ts';

/**
 * Per window, the auctions whose count is the window's maximum. Counts of a window arrive with the
 * timestamp windowEnd - 1, before the watermark that passes it, so a timer there sees them all.
 */
class HottestInWindow implements KeyedProcessFunction<number, Q5Row, Q5Row> {
  private counts!: ListState<Q5Row>;

  open(ctx: KeyedRuntimeContext): void {
    this.counts = ctx.getListState(listState<Q5Row>('counts'));
  }

  processElement(row: Q5Row, ctx: KeyedContext<number>): void {
    this.counts.add(row);
    ctx.timerService.registerEventTimeTimer(row.windowEnd - 1);
  }

  onTimer(_time: number, _ctx: OnTimerContext<number>, out: Collector<Q5Row>): void {
    const rows = this.counts.get();
    let max = 0;
    for (const r of rows) if (r.num > max) max = r.num;
    for (const r of rows) if (r.num >= max) out.collect(r);
    this.counts.clear();
  }
}

/** q5 hot items: bids per auction in hop windows (10 s every 2 s), then each window's top auctions. */
export const q5: QueryBuilder<'q5'> = (input) =>
  windowCount(
    input.source<{ auction: number }>('bids', (e) => (e.kind === 'bid' ? { auction: e.auction } : undefined)).keyBy((b) => b.auction),
    slidingEventTimeWindows(Q5_WINDOW_MS, Q5_SLIDE_MS),
    (auction, num, w): Q5Row => ({ auction, num, windowStart: w.start, windowEnd: w.end }),
    { name: 'q5-count', uid: 'q5-count' },
  )
    .keyBy((r) => r.windowStart)
    .process<Q5Row>(new HottestInWindow(), { name: 'q5-max', uid: 'q5-max' });
