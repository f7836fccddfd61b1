import type { Bid, Event } from '../model.ts';
import { Q15_RANK1_BELOW, Q15_RANK2_BELOW, Q19_TOP, canonical, utcDay, type Q15Row, type Q18Row, type Q19Row } from '../queries.ts';
import { bidsOf, distinct } from './common.ts';

/** q15: per UTC day, bid counts and distinct bidders and auctions, in total and per price rank. */
export function q15(events: readonly Event[]): Q15Row[] {
  const bids = bidsOf(events);
  const rows: Q15Row[] = [];
  for (const day of distinct(bids.map((b) => utcDay(b.dateTime)))) {
    const all = bids.filter((b) => utcDay(b.dateTime) === day);
    const r1 = all.filter((b) => b.price < Q15_RANK1_BELOW);
    const r2 = all.filter((b) => b.price >= Q15_RANK1_BELOW && b.price < Q15_RANK2_BELOW);
    const r3 = all.filter((b) => b.price >= Q15_RANK2_BELOW);
    const bidders = (l: Bid[]) => distinct(l.map((b) => b.bidder)).length;
    const auctions = (l: Bid[]) => distinct(l.map((b) => b.auction)).length;
    rows.push({
      day,
      totalBids: all.length,
      rank1Bids: r1.length,
      rank2Bids: r2.length,
      rank3Bids: r3.length,
      totalBidders: bidders(all),
      rank1Bidders: bidders(r1),
      rank2Bidders: bidders(r2),
      rank3Bidders: bidders(r3),
      totalAuctions: auctions(all),
      rank1Auctions: auctions(r1),
      rank2Auctions: auctions(r2),
      rank3Auctions: auctions(r3),
    });
  }
  return canonical('q15', rows);
}

/** q18: per (bidder, auction), the bid with the latest dateTime; ties go to the later bid in the stream. */
export function q18(events: readonly Event[]): Q18Row[] {
  const groups = new Map<string, Bid[]>();
  for (const b of bidsOf(events)) {
    const key = `${b.bidder}/${b.auction}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [b]);
    else group.push(b);
  }
  const rows: Q18Row[] = [];
  for (const group of groups.values()) {
    let last = group[0]!;
    for (const b of group) if (b.dateTime >= last.dateTime) last = b;
    rows.push(last);
  }
  return canonical('q18', rows);
}

/** q19: per auction, the 10 highest-priced bids with their rank (1 = highest); ties go to the earlier bid. */
export function q19(events: readonly Event[]): Q19Row[] {
  const bids = bidsOf(events);
  const rows: Q19Row[] = [];
  const byAuction = new Map<number, Bid[]>();
  for (const b of bids) {
    const group = byAuction.get(b.auction);
    if (group === undefined) byAuction.set(b.auction, [b]);
    else group.push(b);
  }
  for (const group of byAuction.values()) {
    // Array.prototype.sort is stable: equal prices keep stream order.
    const ranked = [...group].sort((x, y) => y.price - x.price);
    ranked.slice(0, Q19_TOP).forEach((b, i) => rows.push({ ...b, rankNumber: i + 1 }));
  }
  return canonical('q19', rows);
}
