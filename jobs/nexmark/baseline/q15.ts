import { DAY_MS as DAY_MS_, Q15_RANK1_BELOW as Q15_RANK1_BELOW_, Q15_RANK2_BELOW as Q15_RANK2_BELOW_, utcDay, type Q15Row } from '../queries.ts';
import type { NexmarkConfigInput } from '../generator/index.ts';
import { source, Sink, type BaselineOptions, type BaselineResult } from './common.ts';

// Module-local copies: loaded as CommonJS under tsx, each use of an import is a getter call (see generator.ts).
const DAY_MS = DAY_MS_;
const Q15_RANK1_BELOW = Q15_RANK1_BELOW_;
const Q15_RANK2_BELOW = Q15_RANK2_BELOW_;

interface Day {
  bids: number;
  rankBids: [number, number, number];
  /** bidder -> bit mask of the price ranks it bid in (bit r for rank r + 1). */
  bidders: Map<number, number>;
  rankBidders: [number, number, number];
  auctions: Map<number, number>;
  rankAuctions: [number, number, number];
}

/**
 * q15: per UTC day, bid counts and distinct bidders and auctions, in total and per price rank.
 * One map per day for bidders and one for auctions, each value a mask of the ranks seen, so a bid
 * costs two lookups instead of one per distinct count. A day is emitted when the watermark passes it.
 */
export function run(config: NexmarkConfigInput, events: number, options: BaselineOptions = {}): BaselineResult<Q15Row> {
  const t0 = performance.now();
  const { gen, lag } = source(config, events);
  const output = new Sink<Q15Row>(options.collect ?? true);
  const days = new Map<number, Day>();
  let maxTs = -Infinity;
  let curIndex = NaN;
  let cur: Day | undefined;
  let firstOpen = Infinity;

  const emit = (index: number, d: Day) => {
    output.push({
      day: utcDay(index * DAY_MS),
      totalBids: d.bids,
      rank1Bids: d.rankBids[0],
      rank2Bids: d.rankBids[1],
      rank3Bids: d.rankBids[2],
      totalBidders: d.bidders.size,
      rank1Bidders: d.rankBidders[0],
      rank2Bidders: d.rankBidders[1],
      rank3Bidders: d.rankBidders[2],
      totalAuctions: d.auctions.size,
      rank1Auctions: d.rankAuctions[0],
      rank2Auctions: d.rankAuctions[1],
      rank3Auctions: d.rankAuctions[2],
    });
  };
  const fire = (wm: number) => {
    for (const [index, d] of days) {
      if ((index + 1) * DAY_MS - 1 <= wm) {
        emit(index, d);
        days.delete(index);
        if (index === curIndex) cur = undefined;
      }
    }
    firstOpen = Infinity;
    for (const index of days.keys()) if (index < firstOpen) firstOpen = index;
  };

  for (let e = gen.next(); e !== undefined; e = gen.next()) {
    const t = e.dateTime;
    if (e.kind === 'bid') {
      const index = Math.floor(t / DAY_MS);
      if (index !== curIndex || cur === undefined) {
        curIndex = index;
        cur = days.get(index);
        if (cur === undefined) {
          cur = { bids: 0, rankBids: [0, 0, 0], bidders: new Map(), rankBidders: [0, 0, 0], auctions: new Map(), rankAuctions: [0, 0, 0] };
          days.set(index, cur);
          if (index < firstOpen) firstOpen = index;
        }
      }
      const price = e.price;
      const rank = price < Q15_RANK1_BELOW ? 0 : price < Q15_RANK2_BELOW ? 1 : 2;
      const bit = 1 << rank;
      cur.bids++;
      cur.rankBids[rank]++;
      const bm = cur.bidders.get(e.bidder);
      if (bm === undefined) {
        cur.bidders.set(e.bidder, bit);
        cur.rankBidders[rank]++;
      } else if ((bm & bit) === 0) {
        cur.bidders.set(e.bidder, bm | bit);
        cur.rankBidders[rank]++;
      }
      const am = cur.auctions.get(e.auction);
      if (am === undefined) {
        cur.auctions.set(e.auction, bit);
        cur.rankAuctions[rank]++;
      } else if ((am & bit) === 0) {
        cur.auctions.set(e.auction, am | bit);
        cur.rankAuctions[rank]++;
      }
    }
    if (t > maxTs) {
      maxTs = t;
      if (t - lag >= (firstOpen + 1) * DAY_MS - 1) fire(t - lag);
    }
  }
  fire(Infinity);
  return { events, ms: performance.now() - t0, output: output.rows, rows: output.count };
}
