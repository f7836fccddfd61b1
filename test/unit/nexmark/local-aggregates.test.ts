/**
 * The local pre-aggregations that run in the Nexmark source subtasks (q5, q7, q11, q15, q18, q19) under a
 * failover: snapshot in the middle, more input lost, restore from the snapshot and replay. What was
 * emitted before the snapshot plus what the restored operator emits must add up to what one run
 * without failure emits (as the keyed stage downstream would combine it).
 */
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../../operators/operator.ts';
import { OperatorHarness, type Emitted } from '../../harness/operator-harness.ts';
import { generate } from '../../../jobs/nexmark/generator/index.ts';
import type { Bid } from '../../../jobs/nexmark/model.ts';
import { LocalPaneCount, type PaneCounts } from '../../../jobs/nexmark/queries/local-pane-count.ts';
import { LocalCandidates, type Candidate } from '../../../jobs/nexmark/queries/q7.ts';
import { LocalPieces, type Piece } from '../../../jobs/nexmark/queries/q11.ts';
import { LocalDayStats, Q15_BUCKETS, type Partial } from '../../../jobs/nexmark/queries/q15.ts';
import { LocalTop } from '../../../jobs/nexmark/queries/local-top.ts';
import type { NumberedBid } from '../../../jobs/nexmark/model.ts';
import { maxOutOfOrderMs, nexmarkConfig } from '../../../jobs/nexmark/generator/index.ts';
import { Q11_GAP_MS } from '../../../jobs/nexmark/queries.ts';

const EVENTS = 40_000;
const bids = [...generate({}, 0, EVENTS)].filter((e): e is Bid => e.kind === 'bid');
const lag = maxOutOfOrderMs(nexmarkConfig({})) + 1;
const BATCH = 500;

/** Feeds bids [from, to) in batches, a watermark after each as the source would give it. */
async function feed<IN extends Bid, OUT>(h: OperatorHarness<IN, OUT>, input: readonly IN[], from: number, to: number, maxSeen: { t: number }): Promise<void> {
  for (let i = from; i < to; i += BATCH) {
    const batch = input.slice(i, Math.min(to, i + BATCH));
    await h.processBatch(batch, batch.map((b) => b.dateTime));
    for (const b of batch) if (b.dateTime > maxSeen.t) maxSeen.t = b.dateTime;
    await h.processWatermark(maxSeen.t - lag);
  }
}

async function withoutFailure<OUT, IN extends Bid = Bid>(create: () => Operator<IN, OUT>, input: readonly IN[] = bids as IN[]): Promise<Emitted<OUT>[]> {
  const h = new OperatorHarness<IN, OUT>(create, { backend: 'none' });
  await h.open();
  await feed(h, input, 0, input.length, { t: -Infinity });
  await h.processWatermark(Infinity);
  await h.endInput();
  const out = h.output();
  await h.close();
  return out;
}

async function withFailure<OUT, IN extends Bid = Bid>(create: () => Operator<IN, OUT>, input: readonly IN[] = bids as IN[]): Promise<Emitted<OUT>[]> {
  const cut = Math.floor(input.length * 0.4);
  const seen = { t: -Infinity };
  const first = new OperatorHarness<IN, OUT>(create, { backend: 'none' });
  await first.open();
  await feed(first, input, 0, cut, seen);
  const snapshot = await first.snapshot();
  const before = [...first.output()];
  const seenAtSnapshot = seen.t;
  // Input after the snapshot is lost with the failed subtask, and replayed from the source position.
  await feed(first, input, cut, cut + 3 * BATCH, seen);
  await first.close();
  const second = new OperatorHarness<IN, OUT>(create, { backend: 'none' });
  await second.initializeState(snapshot);
  await second.open();
  await feed(second, input, cut, input.length, { t: seenAtSnapshot });
  await second.processWatermark(Infinity);
  await second.endInput();
  const after = second.output();
  await second.close();
  return [...before, ...after];
}

const sortedJson = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();

describe('Nexmark local pre-aggregations restore from a snapshot without losing or doubling anything', () => {
  it('q5 pane counts', async () => {
    const sum = (out: Emitted<PaneCounts>[]) => {
      const m = new Map<string, number>();
      for (const { value, time } of out) {
        expect(value.window).toBe(time - 1999); // without windowMs: the pane's start
        expect(new Set(value.keys).size).toBe(value.keys.length); // one entry per key of the pane
        value.keys.forEach((key, i) => m.set(`${time}/${key}`, (m.get(`${time}/${key}`) ?? 0) + value.counts[i]!));
      }
      return [...m].sort();
    };
    const create = () => new LocalPaneCount<Bid>('q5-local-count', (b) => b.auction, 2000);
    const expected = sum(await withoutFailure(create));
    expect(expected.reduce((a, [, n]) => a + n, 0)).toBe(bids.length);
    expect(sum(await withFailure(create))).toEqual(expected);
  });

  it('q7 candidates', async () => {
    const create = () => new LocalCandidates();
    const expected = sortedJson((await withoutFailure<Candidate>(create)).map((e) => e.value));
    expect(expected.length).toBeGreaterThan(0);
    expect(sortedJson((await withFailure<Candidate>(create)).map((e) => e.value))).toEqual(expected);
  });

  it('q11 session pieces', async () => {
    // How bids are cut into pieces depends on when watermarks come; the sessions they make do not.
    const sessions = (out: Emitted<Piece>[]) => {
      const byBidder = new Map<number, Piece[]>();
      for (const { value } of out) byBidder.set(value.bidder, [...(byBidder.get(value.bidder) ?? []), value]);
      const rows: string[] = [];
      for (const [bidder, pieces] of byBidder) {
        pieces.sort((a, b) => a.first - b.first);
        let cur = { ...pieces[0]! };
        for (const p of pieces.slice(1)) {
          if (p.first <= cur.last + Q11_GAP_MS) {
            cur.last = Math.max(cur.last, p.last);
            cur.count += p.count;
          } else {
            rows.push(`${bidder}:${cur.first}-${cur.last}x${cur.count}`);
            cur = { ...p };
          }
        }
        rows.push(`${bidder}:${cur.first}-${cur.last}x${cur.count}`);
      }
      return rows.sort();
    };
    const create = () => new LocalPieces();
    const expected = sessions(await withoutFailure<Piece>(create));
    expect(expected.length).toBeGreaterThan(100);
    expect(sessions(await withFailure<Piece>(create))).toEqual(expected);
  });

  it('q18 and q19 best bids per key', async () => {
    // Numbered as the source numbers them; the keyed stages keep the best per key of all they get.
    const numbered = bids.map((b, i) => ({ ...b, seq: i }) as NumberedBid);
    const byKey = (out: Emitted<NumberedBid>[], keyOf: (b: NumberedBid) => number, n: number, before: (a: NumberedBid, b: NumberedBid) => boolean) => {
      const best = new Map<number, NumberedBid[]>();
      for (const { value } of out) {
        const list = [...(best.get(keyOf(value)) ?? []), value].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
        best.set(keyOf(value), list.slice(0, n));
      }
      return [...best].sort((a, b) => a[0] - b[0]).map(([k, l]) => `${k}:${l.map((b) => b.seq).join(',')}`);
    };
    const later = (a: NumberedBid, b: NumberedBid) => a.dateTime > b.dateTime || (a.dateTime === b.dateTime && a.seq > b.seq);
    const higher = (a: NumberedBid, b: NumberedBid) => a.price > b.price || (a.price === b.price && a.seq < b.seq);
    for (const [keyOf, n, before] of [
      [(b: NumberedBid) => b.bidder * 4_194_304 + b.auction, 1, later],
      [(b: NumberedBid) => b.auction, 10, higher],
    ] as const) {
      const create = () => new LocalTop<NumberedBid>('local-top', keyOf, n, before, 1000);
      const all = byKey(numbered.map((value) => ({ value, time: value.dateTime })), keyOf, n, before);
      const expected = byKey(await withoutFailure<NumberedBid, NumberedBid>(create, numbered), keyOf, n, before);
      expect(expected).toEqual(all);
      expect(byKey(await withFailure<NumberedBid, NumberedBid>(create, numbered), keyOf, n, before)).toEqual(all);
    }
  });

  it('q15 day partials', async () => {
    const combine = (out: Emitted<Partial>[]) => {
      const counts = [0, 0, 0, 0];
      const bidders = new Map<number, number>();
      const auctions = new Map<number, number>();
      for (const { value: p } of out) {
        // Each partial is one bucket of a day: its bidders and auctions (and the bidders of its bids) are that bucket's.
        const bucket = p.key - p.day * Q15_BUCKETS;
        for (let i = 0; i < p.bidders.length; i += 2) expect(p.bidders[i]! % Q15_BUCKETS).toBe(bucket);
        for (let i = 0; i < p.auctions.length; i += 2) expect(p.auctions[i]! % Q15_BUCKETS).toBe(bucket);
        p.counts.forEach((c, i) => (counts[i]! += c));
        for (let i = 0; i < p.bidders.length; i += 2) bidders.set(p.bidders[i]!, (bidders.get(p.bidders[i]!) ?? 0) | p.bidders[i + 1]!);
        for (let i = 0; i < p.auctions.length; i += 2) auctions.set(p.auctions[i]!, (auctions.get(p.auctions[i]!) ?? 0) | p.auctions[i + 1]!);
      }
      return { counts, bidders: [...bidders].sort(), auctions: [...auctions].sort() };
    };
    const create = () => new LocalDayStats();
    const expected = combine(await withoutFailure<Partial>(create));
    expect(expected.counts[0]).toBe(bids.length);
    expect(combine(await withFailure<Partial>(create))).toEqual(expected);
  });
});
