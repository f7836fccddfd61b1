import {
  type Collector,
  type KeyedContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  listState,
  type ListState,
  type OnTimerContext,
  type Operator,
  type OperatorContext,
  type Output,
  sharedPlainData,
  valueState,
  type ValueState,
} from 'weir';
import type { Auction, Bid } from '../model.ts';
import type { Q4Row } from '../queries.ts';
import type { QueryBuilder } from './common.ts';

/**
 * An auction (price -1) or a bid on one (category and expires -1): one shape of numbers for both,
 * so that one stream carries them keyed by auction and the exchange's batches stay columnar.
 * (Two streams, split from the source by two flatMaps and connected, cost about 13% more of each
 * task manager: every record went through both flatMaps and the two-input operator.)
 */
export interface AuctionOrBid {
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
 * the watermark passes `expires` (no such bid can come after that). A join plus a group-by in the
 * SQL; written with state and timers because the result per auction is final only at its expiry.
 *
 * Bids that arrive before their auction wait in list state (time, price pairs) until it arrives,
 * and then count if their time is in its span. One that waited while the watermark passed its time
 * cannot count (an auction arriving later starts after the watermark), and the span check drops it.
 * Early bids are common at parallelism > 1: an auction and its bids come from different source
 * subtasks, whose batches each span thousands of events, so 22-29% of the bids arrive first (about
 * 40% before the input gate took the batch earliest in event time), with hundreds waiting per
 * auction; even in stream order 4.5% come first (a bid may name one of the next 10 auctions).
 * So their path is short: one read of the auction's state, then one list add per number.
 *
 * The waiting bids have no timer. With one (at the earliest waiting time, deleted when the auction
 * came, to drop bids the watermark had passed) the early path cost 8-17% of q4 at parallelism 2:
 * a timer registered and deleted for 38k of the 60k auctions of 1M events; a coarse cleanup timer
 * per second, never deleted, still 8-10%; a TTL on the list 7% (heap) and 17% (LMDB, a TTL per
 * element). Without, a bid whose auction never comes to this state waits forever: one naming an
 * auction that expired before it (its state is gone), or one past the end of a bounded input.
 * Nexmark makes 5-22 such bids per million events (the generator names existing auctions); a job
 * on input that can name auctions that never come would give `early-bids` a TTL (as Flink's idle
 * state retention bounds a join's state).
 */
class WinningBid implements KeyedProcessFunction<number, AuctionOrBid, Winner> {
  private auction!: ValueState<OpenAuction>;
  /** Early bids as flattened pairs: time, price, time, price, ... */
  private pending!: ListState<number>;

  open(ctx: KeyedRuntimeContext): void {
    // Auction tuples are never changed after writing or reading (a new one is written): shared, not copied.
    this.auction = ctx.getState(valueState<OpenAuction>('auction', { serializer: sharedPlainData() }));
    this.pending = ctx.getListState(listState<number>('early-bids'));
  }

  processElement(r: AuctionOrBid, ctx: KeyedContext<number>): void {
    if (r.price < 0) this.auctionArrived(r, ctx);
    else this.bidArrived(r, ctx);
  }

  private auctionArrived(a: AuctionOrBid, ctx: KeyedContext<number>): void {
    const start = ctx.timestamp;
    let max = -1;
    const early = this.pending.get();
    if (early.length > 0) {
      for (let i = 0; i < early.length; i += 2) {
        const t = early[i]!;
        if (t >= start && t <= a.expires && early[i + 1]! > max) max = early[i + 1]!;
      }
      this.pending.clear();
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
  }

  /** The auction's expiry: its winning price, if any bid qualified, goes to its category. */
  onTimer(time: number, _ctx: OnTimerContext<number>, out: Collector<Winner>): void {
    const a = this.auction.value();
    if (a === undefined || time !== a[2]) return;
    if (a[3] >= 0) out.collect({ category: a[0], price: a[3] });
    this.auction.clear();
  }
}

/**
 * Slots of LocalBidFilter's cache of auctions: a power of two, so a slot is `id & (SLOTS - 1)`.
 * Nexmark's auction ids count up and bids name recent auctions, so the auctions a bid names are in
 * their own slots (one overwritten is 8,192 auctions older).
 */
const SLOTS = 8192;

/**
 * Drops, in each source subtask, the bids that cannot change their auction's winning price, before
 * they cross the exchange (a semi-join reduction, local to the subtask), and projects the rest to
 * AuctionOrBid. For an auction whose record this subtask has seen, it knows the span
 * [start, expires]: a bid outside it cannot count, and a bid inside it no higher than one it already
 * sent on (which counts, wherever it lands in the keyed stage: before or after the auction) cannot
 * raise the maximum. Every other bid goes on, so the keyed stage's result is unchanged. About half
 * of the auctions are seen in each subtask (events are dealt over the splits); of their bids, 82% are
 * dropped (1M events at p2: 361k of the 920k bids).
 *
 * It takes the generator's events as they are and projects only what it passes on: a projection in
 * the source (its `select`) made an object for every bid, 39% of which this filter then dropped.
 *
 * The seen auctions are a cache, not state: a direct-mapped table in typed arrays (a lookup is a few
 * loads, where a Map of the open auctions cost as much as the loop's own work per bid), in which a
 * newer auction takes an older one's slot. After a restore it starts empty; either way a bid whose
 * auction is not in it goes on, which changes nothing downstream.
 */
export class LocalBidFilter implements Operator<Auction | Bid, AuctionOrBid> {
  readonly name = 'q4-bid-filter';
  private out!: Output<AuctionOrBid>;
  private readonly ids = new Float64Array(SLOTS).fill(-1);
  private readonly starts = new Float64Array(SLOTS);
  private readonly expires = new Float64Array(SLOTS);
  /** The highest price sent on per auction (-1: none yet). */
  private readonly sent = new Float64Array(SLOTS);
  /** Bids dropped (tests). */
  readonly counts = { dropped: 0 };

  open(ctx: OperatorContext<AuctionOrBid>): void {
    this.out = ctx.output;
  }

  processBatch(values: readonly (Auction | Bid)[], times: ArrayLike<number>): void {
    const { out, ids, starts, expires, sent } = this;
    let dropped = 0;
    for (let i = 0; i < values.length; i++) {
      const e = values[i]!;
      const t = times[i]!;
      if (e.kind === 'auction') {
        const slot = e.id & (SLOTS - 1);
        ids[slot] = e.id;
        starts[slot] = t;
        expires[slot] = e.expires;
        sent[slot] = -1;
        out.emit({ auction: e.id, category: e.category, expires: e.expires, price: -1 }, t);
        continue;
      }
      const slot = e.auction & (SLOTS - 1);
      if (ids[slot] === e.auction) {
        if (t < starts[slot]! || t > expires[slot]! || e.price <= sent[slot]!) {
          dropped++;
          continue;
        }
        sent[slot] = e.price;
      }
      out.emit({ auction: e.auction, category: -1, expires: -1, price: e.price }, t);
    }
    this.counts.dropped += dropped;
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
    .source<Auction | Bid>('auctions-bids', (e) => (e.kind === 'person' ? undefined : e))
    .transform<AuctionOrBid>('q4-bid-filter', () => new LocalBidFilter(), { uid: 'q4-bid-filter' })
    .keyBy((r) => r.auction)
    .process<Winner>(new WinningBid(), { name: 'q4-winning-bid', uid: 'q4-winning-bid' })
    .keyBy<number>((w) => w.category)
    .process<Q4Row>(new CategoryAverage(), { name: 'q4-average', uid: 'q4-average' });
