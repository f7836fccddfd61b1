import {
  type Collector,
  type KeyedContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  listState,
  type ListState,
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
 * Per window start: the pane counts that reached the window, kept as they came (one list element
 * each), summed in a Map when the watermark passes the window's end, and the auctions with the
 * highest count emitted. A record costs one list add, whatever it holds: summing its ~1,500 counts
 * into MapState as it came (a get and a put per auction) was a quarter of q5's CPU at parallelism 2,
 * and the sum at the end is what the single-threaded loop does per window.
 *
 * Restores from snapshots of the two layouts before (the counts per auction in a MapState, with or
 * without the leaders kept as counts grew) add the restored counts to the sum and drop the leaders.
 */
export class WindowLeaders implements KeyedProcessFunction<number, PaneCounts, Q5Row> {
  /** The window's pane counts (records are never changed once emitted: shared, not copied). */
  private panes!: ListState<PaneCounts>;
  /** Counts per auction of the layouts before, restored from their snapshots; empty otherwise. */
  private counts!: MapState<number, number>;
  /** The leaders the layout before kept; never written now, cleared with its window. */
  private leaders!: ValueState<number[]>;

  open(ctx: KeyedRuntimeContext): void {
    this.panes = ctx.getListState(listState<PaneCounts>('pane-counts', { serializer: sharedPlainData() }));
    this.counts = ctx.getMapState(mapState<number, number>('counts'));
    this.leaders = ctx.getState(valueState<number[]>('leaders', { serializer: sharedPlainData() }));
  }

  processElement(c: PaneCounts, ctx: KeyedContext<number>): void {
    // One timer per window and time: registering it again for the window's next record changes nothing.
    ctx.timerService.registerEventTimeTimer(c.window + Q5_WINDOW_MS - 1);
    this.panes.add(c);
  }

  onTimer(time: number, ctx: OnTimerContext<number>, out: Collector<Q5Row>): void {
    const sums = new Map<number, number>();
    if (!this.counts.isEmpty()) {
      for (const [auction, n] of this.counts.entries()) sums.set(auction, n);
      this.counts.clear();
    }
    for (const c of this.panes.get()) {
      const keys = c.keys;
      const counts = c.counts;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        sums.set(key, (sums.get(key) ?? 0) + counts[i]!);
      }
    }
    let max = 0;
    for (const n of sums.values()) if (n > max) max = n;
    for (const [auction, n] of sums) if (n === max) out.collect({ auction, num: n, windowStart: ctx.key, windowEnd: time + 1 });
    this.panes.clear();
    this.leaders.clear();
  }
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
