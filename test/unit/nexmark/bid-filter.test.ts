/**
 * q4's local bid filter (jobs/nexmark/queries/q4.ts LocalBidFilter): run in each of two source
 * subtasks, each on its share of the events, it drops a good part of the bids, and the winning price
 * of every auction (the highest bid within its span) over what the two pass on is the one over all
 * bids.
 */
import { describe, expect, it } from 'vitest';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { generate } from '../../../jobs/nexmark/generator/index.ts';
import { LocalBidFilter, type AuctionOrBid } from '../../../jobs/nexmark/queries/q4.ts';
import type { Auction, Bid } from '../../../jobs/nexmark/model.ts';

const EVENTS = 60_000;

/** The auctions and bids as q4's source passes them on, with their times and their projections. */
const events: { e: Auction | Bid; t: number }[] = [];
const records: { r: AuctionOrBid; t: number }[] = [];
for (const e of generate({}, 0, EVENTS)) {
  if (e.kind === 'person') continue;
  events.push({ e, t: e.dateTime });
  if (e.kind === 'bid') records.push({ r: { auction: e.auction, category: -1, expires: -1, price: e.price }, t: e.dateTime });
  else records.push({ r: { auction: e.id, category: e.category, expires: e.expires, price: -1 }, t: e.dateTime });
}

/** Per auction: the highest price of the bids in [its time, its expiry] (as q4's keyed stage finds it), -1 for none. */
function winners(input: readonly { r: AuctionOrBid; t: number }[]): Map<number, number> {
  const spans = new Map<number, [number, number]>();
  for (const { r, t } of input) if (r.price < 0) spans.set(r.auction, [t, r.expires]);
  const max = new Map<number, number>([...spans.keys()].map((id) => [id, -1]));
  for (const { r, t } of input) {
    const s = spans.get(r.auction);
    if (r.price >= 0 && s !== undefined && t >= s[0] && t <= s[1] && r.price > max.get(r.auction)!) max.set(r.auction, r.price);
  }
  return max;
}

async function filter(input: readonly { e: Auction | Bid; t: number }[]): Promise<{ out: { r: AuctionOrBid; t: number }[]; dropped: number }> {
  let op: LocalBidFilter | undefined;
  const h = new OperatorHarness<Auction | Bid, AuctionOrBid>(() => (op = new LocalBidFilter()), { backend: 'none' });
  await h.open();
  for (let i = 0; i < input.length; i += 500) {
    const batch = input.slice(i, i + 500);
    await h.processBatch(
      batch.map((x) => x.e),
      batch.map((x) => x.t),
    );
  }
  const out = h.output().map((e) => ({ r: e.value, t: e.time }));
  await h.close();
  return { out, dropped: op!.counts.dropped };
}

describe('q4 local bid filter', () => {
  it('keeps every auction\'s winning price over two subtasks while dropping bids', async () => {
    // Events are dealt to the subtasks by split (event n to split n % 16, split j to subtask j % 2).
    const [a, b] = await Promise.all([filter(events.filter((_, n) => n % 2 === 0)), filter(events.filter((_, n) => n % 2 === 1))]);
    const all = winners(records);
    expect([...all.values()].filter((p) => p >= 0).length).toBeGreaterThan(1000);
    expect(winners([...a.out, ...b.out])).toEqual(all);
    const bids = records.filter((x) => x.r.price >= 0).length;
    // Of each auction's bids, those in the subtask that saw the auction: most of them cannot raise its maximum.
    expect(a.dropped + b.dropped).toBeGreaterThan(bids * 0.3);
    // Auctions always go on, projected as the keyed stage reads them (category and expiry).
    const auctions = (xs: readonly { r: AuctionOrBid; t: number }[]) => xs.filter((x) => x.r.price < 0).sort((x, y) => x.r.auction - y.r.auction);
    expect(auctions([...a.out, ...b.out])).toEqual(auctions(records));
  });
});
