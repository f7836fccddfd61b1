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
import { LocalPaneCount, type PaneCounts } from './local-pane-count.ts';

/**
 * Per window start: bid counts per auction (summed from pane counts) and the leaders so far, emitted
 * at the window's end. Counts only grow, so the leaders are kept as they change (an auction that
 * passes the maximum replaces them, one that reaches it joins them) and the timer emits them without
 * reading the counts: before, it read and sorted every auction's count of the window (the map
 * state's ordered entries()), 6-7% of each task manager.
 */
export class WindowLeaders implements KeyedProcessFunction<number, PaneCounts, Q5Row> {
  private counts!: MapState<number, number>;
  /** [maximum count, auctions with that count...]. */
  private leaders!: ValueState<number[]>;

  open(ctx: KeyedRuntimeContext): void {
    this.counts = ctx.getMapState(mapState<number, number>('counts'));
    // Never changed after writing or reading (a change writes a new array): shared, not copied.
    this.leaders = ctx.getState(valueState<number[]>('leaders', { serializer: sharedPlainData() }));
  }

  processElement(c: PaneCounts, ctx: KeyedContext<number>): void {
    const counts = this.counts;
    const before = this.leaders.value();
    let leaders = before;
    if (leaders === undefined) {
      if (counts.isEmpty()) ctx.timerService.registerEventTimeTimer(c.window + Q5_WINDOW_MS - 1);
      // Counts restored from a savepoint taken before leaders were kept.
      else leaders = leadersOf(counts);
    }
    // The state's array is shared (never changed): the first change copies it, later ones add to the copy.
    let own = false;
    let max = leaders === undefined ? 0 : leaders[0]!;
    const keys = c.keys;
    const added = c.counts;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const n = (counts.get(key) ?? 0) + added[i]!;
      counts.put(key, n);
      if (n > max) {
        max = n;
        leaders = [n, key];
        own = true;
      } else if (n === max) {
        if (!own) leaders = [...leaders!];
        leaders!.push(key);
        own = true;
      }
    }
    if (leaders !== before) this.leaders.update(leaders!);
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
 * pane's counts go as one record to the five windows that hold the pane, keyed by window start,
 * where the counts are summed and the leaders emitted when the watermark passes the window's end. Counting with the
 * sliding window operator (keyed by auction) and then keying its results by window was 2.3-2.9x
 * slower at parallelism 1: it fires a timer per auction and window (see bench/nexmark.md).
 */
export const q5: QueryBuilder<'q5'> = (input) =>
  input
    .source<Bid>('bids', (e) => (e.kind === 'bid' ? e : undefined))
    .transform('q5-local-count', () => new LocalPaneCount<Bid>('q5-local-count', (b) => b.auction, Q5_SLIDE_MS, Q5_WINDOW_MS), { uid: 'q5-local-count' })
    .keyBy((c) => c.window)
    .process<Q5Row>(new WindowLeaders(), { name: 'q5-window-leaders', uid: 'q5-window-leaders' });
