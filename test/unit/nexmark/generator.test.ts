import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../runtime/errors.ts';
import type { Auction, Bid, Event, Person } from '../../../jobs/nexmark/model.ts';
import {
  DEFAULT_NEXMARK_CONFIG,
  NexmarkGenerator,
  eventAt,
  generate,
  lastBase0AuctionId,
  lastBase0PersonId,
  maxOutOfOrderMs,
  nexmarkConfig,
  timestampForEvent,
  type NexmarkConfigInput,
} from '../../../jobs/nexmark/generator/index.ts';

function take(config: NexmarkConfigInput, n: number): Event[] {
  return [...generate(config, 0, n)];
}

const N = 50_000;
const events = take({}, N);
const people = events.filter((e): e is Person => e.kind === 'person');
const auctions = events.filter((e): e is Auction => e.kind === 'auction');
const bids = events.filter((e): e is Bid => e.kind === 'bid');
const config = nexmarkConfig();

/** Size as the reference counts it: 8 bytes per number, one per character. */
function size(e: Event): number {
  let s = 0;
  for (const [k, v] of Object.entries(e)) {
    if (k === 'kind' || k === 'channel' || k === 'url') continue;
    s += typeof v === 'string' ? v.length : 8;
  }
  return s;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('Nexmark generator', () => {
  it('defaults match the reference NexmarkConfiguration', () => {
    expect(DEFAULT_NEXMARK_CONFIG).toMatchObject({
      firstEventRate: 10_000,
      personProportion: 1,
      auctionProportion: 3,
      bidProportion: 46,
      avgPersonByteSize: 200,
      avgAuctionByteSize: 500,
      avgBidByteSize: 100,
      hotAuctionRatio: 2,
      hotSellersRatio: 4,
      hotBiddersRatio: 4,
      numInFlightAuctions: 100,
      numActivePeople: 1000,
      occasionalDelaySec: 3,
      probDelayedEvent: 0.1,
      outOfOrderGroupSize: 1,
    });
  });

  it('is deterministic by seed', () => {
    expect(take({}, 2000)).toEqual(events.slice(0, 2000));
    const other = take({ seed: 1 }, 2000);
    expect(other.length).toBe(2000);
    expect(other).not.toEqual(events.slice(0, 2000));
  });

  it('gives event n the same value wherever it is generated', () => {
    const gen = new NexmarkGenerator();
    for (const n of [0, 1, 3, 4, 49, 12_345, 49_999]) {
      expect(gen.eventAt(n)).toEqual(events[n]);
      expect(eventAt({}, n)).toEqual(events[n]);
    }
    const late = new NexmarkGenerator({}, { from: 40_000, to: 40_010 });
    expect([...late]).toEqual(events.slice(40_000, 40_010));
  });

  it('splits across subtasks: subtask k of N yields events n with n % N == k, identical to one generator', () => {
    for (const parallelism of [2, 3, 7]) {
      const merged: Event[] = new Array(N);
      let count = 0;
      for (let subtask = 0; subtask < parallelism; subtask++) {
        const gen = new NexmarkGenerator({}, { to: N, subtask, parallelism });
        for (let n = gen.nextEventNumber, e = gen.next(); e !== undefined; n = gen.nextEventNumber, e = gen.next()) {
          expect(n % parallelism).toBe(subtask);
          merged[n] = e;
          count++;
        }
      }
      expect(count).toBe(N);
      expect(merged).toEqual(events);
    }
  });

  it('fills batches with the same events as next()', () => {
    const gen = new NexmarkGenerator({}, { to: 10_000, subtask: 1, parallelism: 2 });
    const out: Event[] = new Array(777);
    const got: Event[] = [];
    for (let k = gen.nextBatch(out); k > 0; k = gen.nextBatch(out)) got.push(...out.slice(0, k));
    expect(got).toEqual(events.slice(0, 10_000).filter((_, n) => n % 2 === 1));
    expect(gen.nextBatch(out)).toBe(0);
    expect(gen.next()).toBeUndefined();
  });

  it('with numberBids makes the same events, each bid with its event number as seq', () => {
    const gen = new NexmarkGenerator({}, { to: 5_000, subtask: 1, parallelism: 3 }, { numberBids: true });
    let bidsSeen = 0;
    for (let n = gen.nextEventNumber, e = gen.next(); e !== undefined; n = gen.nextEventNumber, e = gen.next()) {
      if (e.kind !== 'bid') {
        expect(e).toEqual(events[n]);
        continue;
      }
      bidsSeen++;
      expect(e).toEqual({ ...events[n], seq: n });
      // One shape for every numbered bid: the fields of the plain bid, then seq.
      expect(Object.keys(e)).toEqual([...Object.keys(events[n]!), 'seq']);
    }
    expect(bidsSeen).toBeGreaterThan(1_000);
    expect(new NexmarkGenerator().eventAt(12_345)).not.toHaveProperty('seq');
  });

  it('keeps the 1:3:46 person/auction/bid proportions exactly', () => {
    expect(people.length).toBe(N / 50);
    expect(auctions.length).toBe((N / 50) * 3);
    expect(bids.length).toBe((N / 50) * 46);
    events.forEach((e, n) => {
      const rem = n % 50;
      expect(e.kind).toBe(rem < 1 ? 'person' : rem < 4 ? 'auction' : 'bid');
    });
  });

  it('numbers people and auctions consecutively from 1000', () => {
    expect(people.map((p) => p.id)).toEqual(people.map((_, i) => 1000 + i));
    expect(auctions.map((a) => a.id)).toEqual(auctions.map((_, i) => 1000 + i));
  });

  it('picks sellers, bidders and auctions among active ids plus a lead of 10', () => {
    events.forEach((e, n) => {
      const lastPerson = lastBase0PersonId(config, n);
      const minPerson = Math.max(0, lastPerson + 1 - config.numActivePeople);
      if (e.kind === 'auction') {
        expect(e.seller - 1000).toBeGreaterThanOrEqual(minPerson);
        expect(e.seller - 1000).toBeLessThanOrEqual(lastPerson + 10);
        expect(e.category).toBeGreaterThanOrEqual(10);
        expect(e.category).toBeLessThanOrEqual(14);
        expect(e.reserve).toBeGreaterThan(e.initialBid);
        expect(e.expires).toBeGreaterThan(e.dateTime);
      } else if (e.kind === 'bid') {
        const lastAuction = lastBase0AuctionId(config, n);
        expect(e.auction - 1000).toBeGreaterThanOrEqual(Math.max(0, lastAuction - config.numInFlightAuctions));
        expect(e.auction - 1000).toBeLessThanOrEqual(lastAuction + 10);
        expect(e.bidder - 1000).toBeGreaterThanOrEqual(minPerson);
        expect(e.bidder - 1000).toBeLessThanOrEqual(lastPerson + 10);
        expect(e.price).toBeGreaterThanOrEqual(100);
        expect(e.price).toBeLessThanOrEqual(100_000_000);
      }
    });
  });

  it('sends hot shares of auctions, bids and bidders to the hot ids (within tolerance)', () => {
    let hotAuction = 0;
    let hotBidder = 0;
    let hotSeller = 0;
    events.forEach((e, n) => {
      const hotA = Math.floor(lastBase0AuctionId(config, n) / 100) * 100 + 1000;
      const hotP = Math.floor(lastBase0PersonId(config, n) / 100) * 100 + 1000;
      if (e.kind === 'bid') {
        if (e.auction === hotA) hotAuction++;
        if (e.bidder === hotP + 1) hotBidder++;
      } else if (e.kind === 'auction' && e.seller === hotP) {
        hotSeller++;
      }
    });
    // P(hot) = 1 - 1/ratio, plus the small chance that the random pick lands on the hot id.
    expect(hotAuction / bids.length).toBeGreaterThan(0.49);
    expect(hotAuction / bids.length).toBeLessThan(0.53);
    expect(hotBidder / bids.length).toBeGreaterThan(0.74);
    expect(hotBidder / bids.length).toBeLessThan(0.77);
    expect(hotSeller / auctions.length).toBeGreaterThan(0.73);
    expect(hotSeller / auctions.length).toBeLessThan(0.78);
  });

  it('pads records to the reference average sizes', () => {
    expect(mean(people.map(size))).toBeGreaterThan(190);
    expect(mean(people.map(size))).toBeLessThan(215);
    expect(mean(auctions.map(size))).toBeGreaterThan(480);
    expect(mean(auctions.map(size))).toBeLessThan(520);
    expect(mean(bids.map(size))).toBeGreaterThan(95);
    expect(mean(bids.map(size))).toBeLessThan(105);
  });

  it('draws prices log-uniformly between 1 and 10^6 dollars (in cents)', () => {
    const below = (x: number) => bids.filter((b) => b.price < x).length / bids.length;
    expect(below(10_000)).toBeGreaterThan(0.31);
    expect(below(10_000)).toBeLessThan(0.35);
    expect(below(1_000_000)).toBeGreaterThan(0.64);
    expect(below(1_000_000)).toBeLessThan(0.69);
  });

  it('times events by the inter-event delay, delays about 1 in 10 by up to 3 s, and stays within maxOutOfOrderMs', () => {
    let delayed = 0;
    let maxSeen = -Infinity;
    const bound = maxOutOfOrderMs(config);
    events.forEach((e, n) => {
      const due = timestampForEvent(config, n);
      expect(e.dateTime).toBeLessThanOrEqual(due);
      expect(e.dateTime).toBeGreaterThanOrEqual(Math.max(config.baseTime, due - 3000));
      if (e.dateTime !== due) delayed++;
      expect(e.dateTime).toBeGreaterThanOrEqual(maxSeen - bound);
      maxSeen = Math.max(maxSeen, e.dateTime);
    });
    expect(timestampForEvent(config, 10_000)).toBe(config.baseTime + 1000);
    expect(delayed / N).toBeGreaterThan(0.09);
    expect(delayed / N).toBeLessThan(0.11);
  });

  it('permutes events within out-of-order groups and still respects maxOutOfOrderMs', () => {
    const c = nexmarkConfig({ outOfOrderGroupSize: 100, probDelayedEvent: 0, firstEventRate: 1000 });
    const evs = take(c, 5000);
    const bound = maxOutOfOrderMs(c);
    let maxSeen = -Infinity;
    let inversions = 0;
    evs.forEach((e) => {
      if (e.dateTime < maxSeen) inversions++;
      expect(e.dateTime).toBeGreaterThanOrEqual(maxSeen - bound);
      maxSeen = Math.max(maxSeen, e.dateTime);
    });
    expect(inversions).toBeGreaterThan(0);
    // Each group holds the same events as in order, permuted.
    const inOrder = take({ ...c, outOfOrderGroupSize: 1 }, 5000);
    const key = (e: Event) => JSON.stringify(e);
    expect(evs.slice(0, 100).map(key).sort()).toEqual(inOrder.slice(0, 100).map(key).sort());
  });

  it('rejects bad settings with a ConfigError naming the setting', () => {
    expect(() => nexmarkConfig({ firstEventRate: 0 })).toThrow(ConfigError);
    expect(() => nexmarkConfig({ firstEventRate: 0 })).toThrow(/nexmark\.firstEventRate/);
    expect(() => nexmarkConfig({ probDelayedEvent: 2 })).toThrow(/nexmark\.probDelayedEvent/);
    expect(() => nexmarkConfig({ bidProportion: 0 })).toThrow(/nexmark\.bidProportion/);
    expect(() => nexmarkConfig({ nope: 1 } as NexmarkConfigInput)).toThrow(/nexmark\.nope/);
    expect(() => new NexmarkGenerator({}, { subtask: 2, parallelism: 2 })).toThrow(/nexmark\.range\.subtask/);
  });
});
