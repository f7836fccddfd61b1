import {
  type Collector,
  type KeyedContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  listState,
  type ListState,
  type OnTimerContext,
  sharedPlainData,
  valueState,
  type ValueState,
} from 'weir';
import type { Q4Row } from '../queries.ts';
import type { QueryBuilder } from './common.ts';

/**
 * An auction (price -1) or a bid on one (category and expires -1): one shape of numbers for both,
 * so that one stream carries them keyed by auction and the exchange's batches stay columnar.
 * (Two streams, split from the source by two flatMaps and connected, cost about 13% more of each
 * task manager: every record went through both flatMaps and the two-input operator.)
 */
interface AuctionOrBid {
  auction: number;
  category: number;
  expires: number;
  price: number;
}
interface Winner {
  category: number;
  price: number;
}
/** An open auction: category, start, expires, highest qualifying price so far (-1: none). */
type OpenAuction = [number, number, number, number];

/**
 * Per auction: the highest bid with dateTime in [auction.dateTime, auction.expires], emitted when
 * the watermark passes `expires` (no such bid can come after that). Bids that arrive before their
 * auction wait in list state (time, price pairs) until the watermark passes their time: an auction
 * that arrives later starts after them, so they cannot count. A join plus a group-by in the SQL;
 * written with state and timers because the result per auction is final only at its expiry.
 *
 * Early bids are common at parallelism > 1: an auction and its bids come from different source
 * subtasks, whose batches each span thousands of events, so 22-29% of the bids arrive first (about
 * 40% before the input gate took the batch earliest in event time), with hundreds waiting per
 * auction; even in stream order 4.5% come first (a bid may name one of the next 10 auctions).
 * They are appended (one list add, nothing reread); before, a value state holding all of them was
 * copied and rewritten per bid, quadratic in the number waiting.
 */
class WinningBid implements KeyedProcessFunction<number, AuctionOrBid, Winner> {
  private auction!: ValueState<OpenAuction>;
  /** Early bids as flattened pairs: time, price, time, price, ... */
  private pending!: ListState<number>;
  /** The earliest time in `pending`: the one timer the waiting bids have is set for it. */
  private pendingFrom!: ValueState<number>;

  open(ctx: KeyedRuntimeContext): void {
    // Auction tuples are never changed after writing or reading (a new one is written): shared, not copied.
    this.auction = ctx.getState(valueState<OpenAuction>('auction', { serializer: sharedPlainData() }));
    this.pending = ctx.getListState(listState<number>('early-bids'));
    this.pendingFrom = ctx.getState(valueState<number>('early-from'));
  }

  processElement(r: AuctionOrBid, ctx: KeyedContext<number>): void {
    if (r.price < 0) this.auctionArrived(r, ctx);
    else this.bidArrived(r, ctx);
  }

  private auctionArrived(a: AuctionOrBid, ctx: KeyedContext<number>): void {
    const start = ctx.timestamp;
    let max = -1;
    const from = this.pendingFrom.value();
    if (from !== undefined) {
      // The waiting bids are settled here: their timer would only find the auction and return.
      ctx.timerService.deleteEventTimeTimer(from);
      const early = this.pending.get();
      for (let i = 0; i < early.length; i += 2) {
        const t = early[i]!;
        if (t >= start && t <= a.expires && early[i + 1]! > max) max = early[i + 1]!;
      }
      this.pending.clear();
      this.pendingFrom.clear();
    }
    this.auction.update([a.category, start, a.expires, max]);
    ctx.timerService.registerEventTimeTimer(a.expires);
  }

  private bidArrived(b: AuctionOrBid, ctx: KeyedContext<number>): void {
    const t = ctx.timestamp;
    const a = this.auction.value();
    if (a !== undefined) {
      if (t >= a[1] && t <= a[2] && b.price > a[3]) this.auction.update([a[0], a[1], a[2], b.price]);
      return;
    }
    this.pending.add(t);
    this.pending.add(b.price);
    const from = this.pendingFrom.value();
    if (from === undefined || t < from) {
      // One timer for the waiting bids, at the earliest: when it fires, the expired ones go and
      // a new timer is set for the earliest that is left.
      this.pendingFrom.update(t);
      ctx.timerService.registerEventTimeTimer(t);
    }
  }

  onTimer(time: number, ctx: OnTimerContext<number>, out: Collector<Winner>): void {
    const a = this.auction.value();
    if (a !== undefined) {
      if (time !== a[2]) return;
      if (a[3] >= 0) out.collect({ category: a[0], price: a[3] });
      this.auction.clear();
    }
    const from = this.pendingFrom.value();
    if (from === undefined || from !== time) return;
    const early = this.pending.get();
    const keep: number[] = [];
    let min = Infinity;
    for (let i = 0; i < early.length; i += 2) {
      if (early[i]! <= time) continue;
      if (early[i]! < min) min = early[i]!;
      keep.push(early[i]!, early[i + 1]!);
    }
    if (keep.length === 0) {
      this.pending.clear();
      this.pendingFrom.clear();
      return;
    }
    this.pending.update(keep);
    this.pendingFrom.update(min);
    ctx.timerService.registerEventTimeTimer(min);
  }
}

/** Per category: the running average of winning prices, truncated (Flink's AVG over BIGINT), as upserts. */
class CategoryAverage implements KeyedProcessFunction<number, Winner, Q4Row> {
  private sums!: ValueState<[number, number]>;

  open(ctx: KeyedRuntimeContext): void {
    this.sums = ctx.getState(valueState<[number, number]>('sum-count'));
  }

  processElement(w: Winner, ctx: KeyedContext<number>, out: Collector<Q4Row>): void {
    const s = this.sums.value();
    const sum = (s?.[0] ?? 0) + w.price;
    const count = (s?.[1] ?? 0) + 1;
    this.sums.update([sum, count]);
    out.collect({ category: ctx.key, avgFinal: Math.trunc(sum / count) });
  }
}

/** q4 average winning price per category (an updating result: the latest row per category holds). */
export const q4: QueryBuilder<'q4'> = (input) =>
  input
    .source<AuctionOrBid>('auctions-bids', (e) => {
      if (e.kind === 'bid') return { auction: e.auction, category: -1, expires: -1, price: e.price };
      if (e.kind === 'auction') return { auction: e.id, category: e.category, expires: e.expires, price: -1 };
      return undefined;
    })
    .keyBy((r) => r.auction)
    .process<Winner>(new WinningBid(), { name: 'q4-winning-bid', uid: 'q4-winning-bid' })
    .keyBy<number>((w) => w.category)
    .process<Q4Row>(new CategoryAverage(), { name: 'q4-average', uid: 'q4-average' });
