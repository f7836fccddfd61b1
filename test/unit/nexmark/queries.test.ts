import { describe, expect, it } from 'vitest';
import type { Bid, Event } from '../../../jobs/nexmark/model.ts';
import { generate, type NexmarkConfigInput } from '../../../jobs/nexmark/generator/index.ts';
import { QUERY_NAMES, canonical, type QueryName } from '../../../jobs/nexmark/queries.ts';
import { REFERENCE, q11, q7 } from '../../../jobs/nexmark/reference/index.ts';
import { BASELINE } from '../../../jobs/nexmark/baseline/index.ts';

const EVENTS = 30_000;

/** Configurations that stress different paths: defaults, many windows, heavy disorder, a day boundary. */
const CONFIGS: Record<string, NexmarkConfigInput> = {
  defaults: {},
  'slow rate, many windows': { firstEventRate: 500, seed: 7 },
  'heavy disorder': { firstEventRate: 200, probDelayedEvent: 0.5, occasionalDelaySec: 20, outOfOrderGroupSize: 50, seed: 11 },
  'across midnight, few people': { firstEventRate: 50, baseTime: Date.UTC(2026, 0, 2) - 200_000, numActivePeople: 50, probDelayedEvent: 0.3, occasionalDelaySec: 15, seed: 5 },
};

function check<Q extends QueryName>(query: Q, config: NexmarkConfigInput, events: readonly Event[]): void {
  const expected = REFERENCE[query](events);
  const result = BASELINE[query](config, EVENTS);
  expect(result.events).toBe(EVENTS);
  expect(result.rows).toBe(expected.length);
  expect(canonical(query, result.output)).toEqual(expected);
  const counted = BASELINE[query](config, EVENTS, { collect: false });
  expect(counted.output).toEqual([]);
  expect(counted.rows).toBe(expected.length);
}

describe.each(Object.entries(CONFIGS))('Nexmark baseline equals the brute-force reference (%s)', (_name, config) => {
  const events = [...generate(config, 0, EVENTS)];
  it.each(QUERY_NAMES.map((q) => [q]))('%s', (query) => {
    check(query, config, events);
  });
});

describe('Nexmark reference semantics on hand-made bids', () => {
  const t0 = Date.UTC(2026, 0, 1);
  const bid = (auction: number, bidder: number, price: number, at: number): Bid => ({
    kind: 'bid',
    auction,
    bidder,
    price,
    channel: 'Google',
    url: '',
    dateTime: t0 + at,
    extra: '',
  });

  it('q7 joins a bid at exactly a window end to that window too (BETWEEN is inclusive)', () => {
    const rows = q7([bid(1, 1, 50, 1_000), bid(2, 2, 50, 10_000), bid(3, 3, 40, 12_000)]);
    // Window [0, 10 s) has max 50: bids 1 and 2 (at its end); window [10 s, 20 s) has max 50: bid 2.
    expect(rows.map((r) => r.auction)).toEqual([1, 2, 2]);
  });

  it('q11 merges bids at most the gap apart, and bids bridging two sessions', () => {
    const rows = q11([bid(1, 7, 1, 0), bid(1, 7, 1, 10_000), bid(1, 7, 1, 30_000), bid(1, 7, 1, 20_001)]);
    expect(rows).toEqual([
      { bidder: 7, bidCount: 2, starttime: t0, endtime: t0 + 20_000 },
      { bidder: 7, bidCount: 2, starttime: t0 + 20_001, endtime: t0 + 40_000 },
    ]);
    const bridged = q11([bid(1, 7, 1, 0), bid(1, 7, 1, 20_000), bid(1, 7, 1, 10_000)]);
    expect(bridged).toEqual([{ bidder: 7, bidCount: 3, starttime: t0, endtime: t0 + 30_000 }]);
  });

  it('q18 keeps the latest bid per (bidder, auction), the later arrival on equal times', () => {
    const rows = REFERENCE.q18([bid(1, 7, 10, 5), bid(1, 7, 20, 9), bid(1, 7, 30, 9), bid(1, 7, 40, 2), bid(2, 7, 1, 0)]);
    expect(rows.map((r) => [r.auction, r.price])).toEqual([[1, 30], [2, 1]]);
  });

  it('q19 ranks by price, earlier arrival first on equal prices, and keeps 10', () => {
    const bids = Array.from({ length: 12 }, (_, i) => bid(1, i, i < 3 ? 99 : i, i));
    const rows = REFERENCE.q19(bids);
    expect(rows.map((r) => [r.bidder, r.rankNumber])).toEqual([[0, 1], [1, 2], [2, 3], [11, 4], [10, 5], [9, 6], [8, 7], [7, 8], [6, 9], [5, 10]]);
  });
});
