import {
  type Collector,
  type KeyedContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  mapState,
  type MapState,
  type OnTimerContext,
  sharedPlainData,
  valueState,
  type ValueState,
} from 'weir';
import { Q5_SLIDE_MS, Q5_WINDOW_MS, type Q5Row } from '../queries.ts';
import type { Bid } from '../model.ts';
import type { QueryBuilder } from './common.ts';
import { LocalPaneCount, type KeyCount } from './local-pane-count.ts';

/**
 * Per window start: bid counts per auction (summed from pane counts) and the leaders so far, emitted
 * at the window's end. Counts only grow, so the leaders are kept as they change (an auction that
 * passes the maximum replaces them, one that reaches it joins them) and the timer emits them without
 * reading the counts: before, it read and sorted every auction's count of the window (the map
 * state's ordered entries()), 6-7% of each task manager.
 */
export class WindowLeaders implements KeyedProcessFunction<number, KeyCount, Q5Row> {
  private counts!: MapState<number, number>;
  /** [maximum count, auctions with that count...]. */
  private leaders!: ValueState<number[]>;

  open(ctx: KeyedRuntimeContext): void {
    this.counts = ctx.getMapState(mapState<number, number>('counts'));
    // Never changed after writing or reading (a change writes a new array): shared, not copied.
    this.leaders = ctx.getState(valueState<number[]>('leaders', { serializer: sharedPlainData() }));
  }

  processElement(c: KeyCount, ctx: KeyedContext<number>): void {
    const counts = this.counts;
    let leaders = this.leaders.value();
    if (leaders === undefined) {
      if (counts.isEmpty()) ctx.timerService.registerEventTimeTimer(c.window + Q5_WINDOW_MS - 1);
      else {
        // Counts restored from a savepoint taken before leaders were kept.
        leaders = leadersOf(counts);
        this.leaders.update(leaders);
      }
    }
    const n = (counts.get(c.key) ?? 0) + c.count;
    counts.put(c.key, n);
    const max = leaders === undefined ? 0 : leaders[0]!;
    if (n > max) this.leaders.update([n, c.key]);
    else if (n === max) this.leaders.update([...leaders!, c.key]);
  }

  onTimer(time: number, ctx: OnTimerContext<number>, out: Collector<Q5Row>): void {
    // Undefined for counts restored from a savepoint taken before leaders were kept.
    const leaders = this.leaders.value() ?? leadersOf(this.counts);
    for (let i = 1; i < leaders.length; i++) out.collect({ auction: leaders[i]!, num: leaders[0]!, windowStart: ctx.key, windowEnd: time + 1 });
    this.counts.clear();
    this.leaders.clear();
  }
}

function leadersOf(counts: MapState<number, number>): number[] {
  const leaders = [0];
  for (const [auction, n] of counts.entries()) {
    if (n > leaders[0]!) leaders.splice(0, leaders.length, n, auction);
    else if (n === leaders[0]) leaders.push(auction);
  }
  return leaders;
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
