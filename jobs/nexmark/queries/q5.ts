import {
  type Collector,
  type KeyedContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  mapState,
  type MapState,
  type OnTimerContext,
} from 'weir';
import { Q5_SLIDE_MS, Q5_WINDOW_MS, type Q5Row } from '../queries.ts';
import type { Bid } from '../model.ts';
import type { QueryBuilder } from './common.ts';
import { LocalPaneCount, type KeyCount } from './local-pane-count.ts';

/** Per window start: bid counts per auction (summed from pane counts), the leaders at the window's end. */
class WindowLeaders implements KeyedProcessFunction<number, KeyCount, Q5Row> {
  private counts!: MapState<number, number>;

  open(ctx: KeyedRuntimeContext): void {
    this.counts = ctx.getMapState(mapState<number, number>('counts'));
  }

  processElement(c: KeyCount, ctx: KeyedContext<number>): void {
    const counts = this.counts;
    if (counts.isEmpty()) ctx.timerService.registerEventTimeTimer(c.window + Q5_WINDOW_MS - 1);
    counts.put(c.key, (counts.get(c.key) ?? 0) + c.count);
  }

  onTimer(time: number, ctx: OnTimerContext<number>, out: Collector<Q5Row>): void {
    let max = 0;
    const entries = [...this.counts.entries()];
    for (const [, n] of entries) if (n > max) max = n;
    for (const [auction, num] of entries) if (num === max) out.collect({ auction, num, windowStart: ctx.key, windowEnd: time + 1 });
    this.counts.clear();
  }
}

/**
 * q5 hot items: bids per auction in hop windows (10 s every 2 s), then each window's top auctions.
 * Bids are counted per 2 s pane and auction in each source subtask (local pre-aggregation); each
 * pane count goes to the five windows that hold the pane, keyed by window start, where the counts
 * are summed and the leaders emitted when the watermark passes the window's end. Counting with the
 * sliding window operator (keyed by auction) and then keying its results by window was 2.3-2.9x
 * slower at parallelism 1: it fires a timer per auction and window (see bench/nexmark.md).
 */
export const q5: QueryBuilder<'q5'> = (input) =>
  input
    .source<Bid>('bids', (e) => (e.kind === 'bid' ? e : undefined))
    .transform('q5-local-count', () => new LocalPaneCount<Bid>('q5-local-count', (b) => b.auction, Q5_SLIDE_MS, Q5_WINDOW_MS), { uid: 'q5-local-count' })
    .keyBy((c) => c.window)
    .process<Q5Row>(new WindowLeaders(), { name: 'q5-window-leaders', uid: 'q5-window-leaders' });
