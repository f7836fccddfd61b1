import {
  type Collector,
  type KeyedContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  mapState,
  type MapState,
  type OnTimerContext,
  type Operator,
  type OperatorContext,
  type OperatorListState,
  type Output,
  valueState,
  type ValueState,
} from 'weir';
import { DAY_MS, Q15_RANK1_BELOW, Q15_RANK2_BELOW, utcDay, type Q15Row } from '../queries.ts';
import type { Bid } from '../model.ts';
import type { QueryBuilder } from './common.ts';

const RANK1_BELOW = Q15_RANK1_BELOW;
const RANK2_BELOW = Q15_RANK2_BELOW;


/**
 * What one source subtask learned about a day since its last partial: bid counts (total, rank 1,
 * 2, 3) and the (bidder, bits) and (auction, bits) pairs it saw for the first time, flattened; bit 0
 * is "any rank", bit r is rank r.
 */
export interface Partial {
  day: number;
  counts: number[];
  bidders: number[];
  auctions: number[];
  /** Largest bid time in the partial: its timestamp. */
  time: number;
}

interface LocalDay {
  partial: Partial;
  /** Bits already sent per bidder and per auction: a cache, the keyed stage decides what is new. */
  bidders: Map<number, number>;
  auctions: Map<number, number>;
}

const emptyPartial = (day: number): Partial => ({ day, counts: [0, 0, 0, 0], bidders: [], auctions: [], time: -Infinity });

/**
 * Local pre-aggregation in each source subtask (Flink's local-global aggregation with split
 * distinct): counts per day, and each bidder and auction only the first time this subtask sees it
 * with a rank. A partial per day goes out whenever the watermark advances, so only a small share
 * of the bids crosses the exchange to the one subtask that owns the day. Unsent partials are kept
 * in operator state at checkpoints; the sent-bits caches are not (losing them only re-sends pairs
 * the keyed stage already has).
 */
export class LocalDayStats implements Operator<Bid, Partial> {
  readonly name = 'q15-local';
  private out!: Output<Partial>;
  private state!: OperatorListState<Partial>;
  private readonly days = new Map<number, LocalDay>();
  private dirty = false;

  open(ctx: OperatorContext<Partial>): void {
    this.out = ctx.output;
    this.state = ctx.operatorState.getListState<Partial>('q15-partials');
    for (const p of this.state.get()) {
      const d = this.day(p.day);
      const q = d.partial;
      for (let i = 0; i < 4; i++) q.counts[i]! += p.counts[i]!;
      q.bidders.push(...p.bidders);
      q.auctions.push(...p.auctions);
      if (p.time > q.time) q.time = p.time;
      this.dirty = true;
    }
  }

  private day(day: number): LocalDay {
    let d = this.days.get(day);
    if (d === undefined) this.days.set(day, (d = { partial: emptyPartial(day), bidders: new Map(), auctions: new Map() }));
    return d;
  }

  processBatch(values: readonly Bid[], times: ArrayLike<number>): void {
    let dayNumber = NaN;
    let d: LocalDay | undefined;
    for (let i = 0; i < values.length; i++) {
      const b = values[i]!;
      const t = times[i]!;
      const n = Math.floor(t / DAY_MS);
      if (n !== dayNumber || d === undefined) {
        dayNumber = n;
        d = this.day(n);
      }
      const p = d.partial;
      const rank = b.price < RANK1_BELOW ? 1 : b.price < RANK2_BELOW ? 2 : 3;
      const bits = 1 | (1 << rank);
      p.counts[0]!++;
      p.counts[rank]!++;
      if (t > p.time) p.time = t;
      const ob = d.bidders.get(b.bidder) ?? 0;
      if ((ob & bits) !== bits) {
        d.bidders.set(b.bidder, ob | bits);
        p.bidders.push(b.bidder, bits & ~ob);
      }
      const oa = d.auctions.get(b.auction) ?? 0;
      if ((oa & bits) !== bits) {
        d.auctions.set(b.auction, oa | bits);
        p.auctions.push(b.auction, bits & ~oa);
      }
    }
    if (values.length > 0) this.dirty = true;
  }

  processWatermark(): void {
    if (!this.dirty) return;
    for (const d of this.days.values()) {
      const p = d.partial;
      if (p.counts[0] === 0 && p.bidders.length === 0 && p.auctions.length === 0) continue;
      this.out.emit(p, p.time);
      d.partial = emptyPartial(p.day);
    }
    this.dirty = false;
  }

  snapshotState(): void {
    const pending: Partial[] = [];
    for (const d of this.days.values()) if (d.partial.counts[0]! > 0 || d.partial.bidders.length > 0) pending.push(d.partial);
    this.state.update(pending);
  }
}

/**
 * The day's totals: 4 bid counts, 4 distinct-bidder counts, 4 distinct-auction counts (total,
 * rank 1, 2, 3), and the bits seen per bidder and per auction. Emits the day's row (an upsert)
 * when the watermark passes a partial's time, so rows follow the watermark, not every bid.
 */
class DayStats implements KeyedProcessFunction<number, Partial, Q15Row> {
  private totals!: ValueState<number[]>;
  private bidders!: MapState<number, number>;
  private auctions!: MapState<number, number>;

  open(ctx: KeyedRuntimeContext): void {
    this.totals = ctx.getState(valueState<number[]>('totals'));
    this.bidders = ctx.getMapState(mapState<number, number>('bidders'));
    this.auctions = ctx.getMapState(mapState<number, number>('auctions'));
  }

  private static merge(seen: MapState<number, number>, pairs: readonly number[], totals: number[], at: number): void {
    for (let i = 0; i < pairs.length; i += 2) {
      const id = pairs[i]!;
      const old = seen.get(id) ?? 0;
      const added = pairs[i + 1]! & ~old;
      if (added === 0) continue;
      seen.put(id, old | added);
      for (let r = 0; r < 4; r++) if (added & (1 << r)) totals[at + r]!++;
    }
  }

  processElement(p: Partial, ctx: KeyedContext<number>): void {
    const totals = this.totals.value()?.slice() ?? new Array<number>(12).fill(0);
    for (let r = 0; r < 4; r++) totals[r]! += p.counts[r]!;
    DayStats.merge(this.bidders, p.bidders, totals, 4);
    DayStats.merge(this.auctions, p.auctions, totals, 8);
    this.totals.update(totals);
    ctx.timerService.registerEventTimeTimer(p.time);
  }

  onTimer(_time: number, ctx: OnTimerContext<number>, out: Collector<Q15Row>): void {
    const t = this.totals.value();
    if (t === undefined) return;
    out.collect({
      day: utcDay(ctx.key * DAY_MS),
      totalBids: t[0]!,
      rank1Bids: t[1]!,
      rank2Bids: t[2]!,
      rank3Bids: t[3]!,
      totalBidders: t[4]!,
      rank1Bidders: t[5]!,
      rank2Bidders: t[6]!,
      rank3Bidders: t[7]!,
      totalAuctions: t[8]!,
      rank1Auctions: t[9]!,
      rank2Auctions: t[10]!,
      rank3Auctions: t[11]!,
    });
  }
}

/** q15 bidding statistics per UTC day: bid counts, distinct bidders and auctions, in total and per price rank. */
export const q15: QueryBuilder<'q15'> = (input) =>
  input
    .source<Bid>('bids', (e) => (e.kind === 'bid' ? e : undefined))
    .transform<Partial>('q15-local', () => new LocalDayStats(), { uid: 'q15-local' })
    .keyBy((p) => p.day)
    .process<Q15Row>(new DayStats(), { name: 'q15-day', uid: 'q15-day' });
