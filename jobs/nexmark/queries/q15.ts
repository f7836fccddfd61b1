import {
  aggregatingState,
  type AggregateFunction,
  type AggregatingState,
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
  type StateSerializer,
  valueState,
  type ValueState,
} from 'weir';
import { DAY_MS, Q15_RANK1_BELOW, Q15_RANK2_BELOW, utcDay, type Q15Row } from '../queries.ts';
import type { Bid } from '../model.ts';
import type { QueryBuilder } from './common.ts';

const RANK1_BELOW = Q15_RANK1_BELOW;
const RANK2_BELOW = Q15_RANK2_BELOW;


/**
 * Buckets the distinct bidders and auctions of a day are spread over, by id (Flink's split
 * distinct aggregation, `table.optimizer.distinct-agg.split.enabled`, which the reference's
 * Nexmark settings turn on): each (day, bucket) is a key of its own, so the day's distinct
 * counting and its state are shared by all keyed subtasks instead of falling on the one subtask
 * that owns the day. (With one key per day, the thread that owned it did 37-41% more work than the
 * other at parallelism 2, and set the pace.) 32: at parallelism 2 about half the buckets land on
 * each subtask (the key groups are hashed), and a flush sends at most 32 partials per day.
 */
export const Q15_BUCKETS = 32;
const BUCKET_MASK = Q15_BUCKETS - 1;

/** How much event time the local stage gathers before it sends its partials (see LocalTop). */
const LOCAL_FLUSH_MS = 1000;

/**
 * What one source subtask learned about one bucket of a day since its last partial: counts of the
 * bids whose bidder is in the bucket (total, rank 1, 2, 3), and the bucket's (bidder, bits) and
 * (auction, bits) pairs it saw for the first time, flattened; bit 0 is "any rank", bit r is rank r.
 */
export interface Partial {
  /** The keyed stage's key: day * Q15_BUCKETS + bucket (bucket = id % Q15_BUCKETS). */
  key: number;
  day: number;
  counts: number[];
  bidders: number[];
  auctions: number[];
  /** Largest bid time in the partial: its timestamp. */
  time: number;
}

interface LocalDay {
  /** This flush's partial per bucket, made at the bucket's first bid or new pair. */
  partials: (Partial | undefined)[];
  /** Bits already sent per bidder and per auction: a cache, the keyed stage decides what is new. */
  bidders: Map<number, number>;
  auctions: Map<number, number>;
}

const emptyPartial = (day: number, bucket: number): Partial => ({ key: day * Q15_BUCKETS + bucket, day, counts: [0, 0, 0, 0], bidders: [], auctions: [], time: -Infinity });

/**
 * Local pre-aggregation in each source subtask (Flink's local-global aggregation with split
 * distinct): per day and bucket, bid counts, and each bidder and auction only the first time this
 * subtask sees it with a rank. The partials go out when the watermark has moved LOCAL_FLUSH_MS past
 * the last flush (and at the end), so only a small share of the bids crosses the exchange. Unsent
 * partials are kept in operator state at checkpoints; the sent-bits caches are not (losing them
 * only re-sends pairs the keyed stage already has).
 */
export class LocalDayStats implements Operator<Bid, Partial> {
  readonly name = 'q15-local';
  private out!: Output<Partial>;
  private state!: OperatorListState<Partial>;
  private readonly days = new Map<number, LocalDay>();
  private lastFlush = -Infinity;

  open(ctx: OperatorContext<Partial>): void {
    this.out = ctx.output;
    this.state = ctx.operatorState.getListState<Partial>('q15-partials');
    for (const p of this.state.get()) {
      const q = this.partial(this.day(p.day), p.day, p.key - p.day * Q15_BUCKETS);
      for (let i = 0; i < 4; i++) q.counts[i]! += p.counts[i]!;
      q.bidders.push(...p.bidders);
      q.auctions.push(...p.auctions);
      if (p.time > q.time) q.time = p.time;
    }
  }

  private day(day: number): LocalDay {
    let d = this.days.get(day);
    if (d === undefined) this.days.set(day, (d = { partials: new Array<Partial | undefined>(Q15_BUCKETS).fill(undefined), bidders: new Map(), auctions: new Map() }));
    return d;
  }

  private partial(d: LocalDay, day: number, bucket: number): Partial {
    return (d.partials[bucket] ??= emptyPartial(day, bucket));
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
      const rank = b.price < RANK1_BELOW ? 1 : b.price < RANK2_BELOW ? 2 : 3;
      const bits = 1 | (1 << rank);
      const bidder = b.bidder;
      const p = d.partials[bidder & BUCKET_MASK] ?? this.partial(d, n, bidder & BUCKET_MASK);
      p.counts[0]!++;
      p.counts[rank]!++;
      if (t > p.time) p.time = t;
      const ob = d.bidders.get(bidder) ?? 0;
      if ((ob & bits) !== bits) {
        d.bidders.set(bidder, ob | bits);
        p.bidders.push(bidder, bits & ~ob);
      }
      const auction = b.auction;
      const oa = d.auctions.get(auction) ?? 0;
      if ((oa & bits) !== bits) {
        d.auctions.set(auction, oa | bits);
        const q = d.partials[auction & BUCKET_MASK] ?? this.partial(d, n, auction & BUCKET_MASK);
        q.auctions.push(auction, bits & ~oa);
        if (t > q.time) q.time = t;
      }
    }
  }

  processWatermark(watermark: number): void {
    if (this.lastFlush === -Infinity) this.lastFlush = watermark;
    if (watermark - this.lastFlush < LOCAL_FLUSH_MS && watermark !== Infinity) return;
    this.lastFlush = watermark;
    for (const d of this.days.values()) {
      const partials = d.partials;
      for (let b = 0; b < Q15_BUCKETS; b++) {
        const p = partials[b];
        if (p === undefined) continue;
        this.out.emit(p, p.time);
        partials[b] = undefined;
      }
    }
  }

  endInput(): void {
    this.processWatermark(Infinity);
  }

  snapshotState(): void {
    const pending: Partial[] = [];
    for (const d of this.days.values()) for (const p of d.partials) if (p !== undefined) pending.push(p);
    this.state.update(pending);
  }
}

/** What a bucket of a day added: 4 bid counts, 4 distinct-bidder and 4 distinct-auction counts. */
export interface DayDelta {
  day: number;
  added: number[];
}

/**
 * The ids one bucket of a day has seen, each with the bits of the ranks it was seen with, and the
 * counts the last partial added. An AggregatingState's accumulator: the state owns it and hands it
 * only to `bucketMerge` (no copy in or out, so the maps are changed in place), and snapshots encode
 * it at their barrier, as every accumulator is.
 */
export interface BucketSeen {
  bidders: Map<number, number>;
  auctions: Map<number, number>;
  /** What the last partial added: 4 bid counts, then 4 distinct-bidder and 4 distinct-auction counts. */
  added: number[];
}

/** Checks the accumulator's shape only: its maps are filled by `bucketMerge` with the numbers of partials. */
const bucketSeenSerializer: StateSerializer<BucketSeen> = {
  copy: (s) => s,
  check: (s) => {
    if (!(s.bidders instanceof Map && s.auctions instanceof Map && Array.isArray(s.added))) {
      throw new TypeError("q15: a bucket's accumulator must be { bidders: Map, auctions: Map, added: number[] }");
    }
  },
};

/** Adds `pairs` ((id, bits) flattened) to `seen`, counting the ranks new to the bucket in `added` from `at`. */
function mergePairs(seen: Map<number, number>, pairs: readonly number[], added: number[], at: number): void {
  for (let i = 0; i < pairs.length; i += 2) {
    const id = pairs[i]!;
    const old = seen.get(id) ?? 0;
    const bits = pairs[i + 1]! & ~old;
    if (bits === 0) continue;
    seen.set(id, old | bits);
    for (let r = 0; r < 4; r++) if (bits & (1 << r)) added[at + r]!++;
  }
}

/**
 * Merges partials into a bucket: its bid counts, and the bidders and auctions new to the bucket per
 * rank. One Map get (and a set for what is new) per pair, where a MapState per id cost a state
 * access per get and put, and an entry object per id (11% of q15 at parallelism 2).
 */
export const bucketMerge: AggregateFunction<Partial, BucketSeen, number[]> = {
  accumulatorSerializer: bucketSeenSerializer,
  createAccumulator: () => ({ bidders: new Map(), auctions: new Map(), added: [] }),
  add: (p, acc) => {
    const c = p.counts;
    const added = [c[0]!, c[1]!, c[2]!, c[3]!, 0, 0, 0, 0, 0, 0, 0, 0];
    mergePairs(acc.bidders, p.bidders, added, 4);
    mergePairs(acc.auctions, p.auctions, added, 8);
    acc.added = added;
    return acc;
  },
  getResult: (acc) => acc.added,
};

/**
 * One bucket of a day: each partial becomes the counts it adds. Restores from snapshots of the layout
 * before (the bits per id in two MapStates): a bucket's first partial after such a restore starts
 * from them.
 */
export class BucketStats implements KeyedProcessFunction<number, Partial, DayDelta> {
  private seen!: AggregatingState<Partial, number[]>;
  /** The layout before's bits per bidder and per auction, read once per bucket after a restore, then cleared. */
  private oldBidders!: MapState<number, number>;
  private oldAuctions!: MapState<number, number>;

  open(ctx: KeyedRuntimeContext): void {
    this.seen = ctx.getAggregatingState(aggregatingState('seen', bucketMerge));
    this.oldBidders = ctx.getMapState(mapState<number, number>('bidders'));
    this.oldAuctions = ctx.getMapState(mapState<number, number>('auctions'));
  }

  processElement(p: Partial, ctx: KeyedContext<number>, out: Collector<DayDelta>): void {
    if (this.seen.get() === undefined) this.restoreOldLayout(p.day, ctx.key);
    this.seen.add(p);
    out.collect({ day: p.day, added: this.seen.get()! });
  }

  /** Seeds the bucket's accumulator with the layout before's ids, if a restore brought any. */
  private restoreOldLayout(day: number, key: number): void {
    if (this.oldBidders.isEmpty() && this.oldAuctions.isEmpty()) return;
    const pairs = (m: MapState<number, number>): number[] => {
      const out: number[] = [];
      for (const [id, bits] of m.entries()) out.push(id, bits);
      return out;
    };
    this.seen.add({ key, day, counts: [0, 0, 0, 0], bidders: pairs(this.oldBidders), auctions: pairs(this.oldAuctions), time: -Infinity });
    this.oldBidders.clear();
    this.oldAuctions.clear();
  }
}

/**
 * The day's totals: 4 bid counts, 4 distinct-bidder counts, 4 distinct-auction counts (total,
 * rank 1, 2, 3), the sums of its buckets' deltas. Emits the day's row (an upsert) when the
 * watermark passes a delta's time, so rows follow the watermark, not every bid.
 */
class DayStats implements KeyedProcessFunction<number, DayDelta, Q15Row> {
  private totals!: ValueState<number[]>;

  open(ctx: KeyedRuntimeContext): void {
    this.totals = ctx.getState(valueState<number[]>('totals'));
  }

  processElement(d: DayDelta, ctx: KeyedContext<number>): void {
    const totals = this.totals.value() ?? new Array<number>(12).fill(0);
    for (let i = 0; i < 12; i++) totals[i]! += d.added[i]!;
    this.totals.update(totals);
    ctx.timerService.registerEventTimeTimer(ctx.timestamp);
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
    .keyBy((p) => p.key)
    .process<DayDelta>(new BucketStats(), { name: 'q15-day-bucket', uid: 'q15-day-bucket' })
    .keyBy((d) => d.day)
    .process<Q15Row>(new DayStats(), { name: 'q15-day', uid: 'q15-day' });
