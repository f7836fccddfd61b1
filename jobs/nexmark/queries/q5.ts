import { valueState, type Collector, type KeyedContext, type KeyedProcessFunction, type KeyedRuntimeContext, type OnTimerContext, type ValueState } from '../../../runtime/api/index.ts';
import { slidingEventTimeWindows } from '../../../operators/window/sliding.ts';
import { Q5_SLIDE_MS, Q5_WINDOW_MS, type Q5Row } from '../queries.ts';
import type { Bid } from '../model.ts';
import type { QueryBuilder } from './common.ts';
import { windowCount } from './window-count.ts';
import { LocalPaneCount } from './local-pane-count.ts';

/** The highest count of a window so far, and the auctions that have it. */
type Leaders = [number, number[]];

/**
 * Per window, the auctions whose count is the window's maximum. Counts of a window arrive with the
 * timestamp windowEnd - 1, before the watermark that passes it, so a timer there sees them all;
 * a count below the highest so far can never be in the answer, so only the leaders are kept.
 */
class HottestInWindow implements KeyedProcessFunction<number, Q5Row, Q5Row> {
  private leaders!: ValueState<Leaders>;

  open(ctx: KeyedRuntimeContext): void {
    this.leaders = ctx.getState(valueState<Leaders>('leaders'));
  }

  processElement(row: Q5Row, ctx: KeyedContext<number>): void {
    const l = this.leaders.value();
    if (l === undefined) {
      this.leaders.update([row.num, [row.auction]]);
      ctx.timerService.registerEventTimeTimer(row.windowEnd - 1);
    } else if (row.num > l[0]) this.leaders.update([row.num, [row.auction]]);
    else if (row.num === l[0]) this.leaders.update([l[0], [...l[1], row.auction]]);
  }

  onTimer(time: number, ctx: OnTimerContext<number>, out: Collector<Q5Row>): void {
    const l = this.leaders.value();
    if (l === undefined) return;
    for (const auction of l[1]) out.collect({ auction, num: l[0], windowStart: ctx.key, windowEnd: time + 1 });
    this.leaders.clear();
  }
}

/**
 * q5 hot items: bids per auction in hop windows (10 s every 2 s), then each window's top auctions.
 * Bids are first counted per 2 s pane and auction in each source subtask (local pre-aggregation),
 * so the exchange and the window operator see one record per auction and pane, not one per bid.
 */
export const q5: QueryBuilder<'q5'> = (input) =>
  windowCount(
    input
      // The local count reads the generator's bids in place: nothing is projected before it.
      .source<Bid>('bids', (e) => (e.kind === 'bid' ? e : undefined))
      .transform('q5-local-count', () => new LocalPaneCount<Bid>('q5-local-count', (b) => b.auction, Q5_SLIDE_MS), { uid: 'q5-local-count' })
      .keyBy((c) => c.key),
    slidingEventTimeWindows(Q5_WINDOW_MS, Q5_SLIDE_MS),
    (auction, num, w): Q5Row => ({ auction, num, windowStart: w.start, windowEnd: w.end }),
    { name: 'q5-count', uid: 'q5-count', partial: true },
  )
    .keyBy((r) => r.windowStart)
    .process<Q5Row>(new HottestInWindow(), { name: 'q5-max', uid: 'q5-max' });
