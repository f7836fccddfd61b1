/**
 * q15's keyed bucket stage (jobs/nexmark/queries/q15.ts BucketStats), on both backends: the deltas
 * it emits per bucket add up to the bucket's bid counts and its distinct bidders and auctions per
 * rank, also across a snapshot and restore (its accumulator's maps are changed in place, so what
 * the run does after the barrier must not reach the snapshot), and from the layout before (the bits
 * per id in two MapStates).
 */
import { describe, expect, it } from 'vitest';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { KeyedProcessOperator } from '../../../operators/keyed-process.ts';
import type { KeyedProcessFunction } from '../../../operators/functions.ts';
import { mapState } from '../../../state/descriptors.ts';
import type { MapState } from '../../../state/handles.ts';
import { BucketStats, type DayDelta, type Partial } from '../../../jobs/nexmark/queries/q15.ts';

/** What q15 kept before: the bits per bidder and per auction of a bucket, each in a MapState. */
const mapStates: KeyedProcessFunction<number, Partial, DayDelta> & { bidders?: MapState<number, number>; auctions?: MapState<number, number> } = {
  open(ctx) {
    this.bidders = ctx.getMapState(mapState<number, number>('bidders'));
    this.auctions = ctx.getMapState(mapState<number, number>('auctions'));
  },
  processElement(p, _ctx, out) {
    const added = [...p.counts, 0, 0, 0, 0, 0, 0, 0, 0];
    const merge = (seen: MapState<number, number>, pairs: readonly number[], at: number) => {
      for (let i = 0; i < pairs.length; i += 2) {
        const old = seen.get(pairs[i]!) ?? 0;
        const bits = pairs[i + 1]! & ~old;
        if (bits === 0) continue;
        seen.put(pairs[i]!, old | bits);
        for (let r = 0; r < 4; r++) if (bits & (1 << r)) added[at + r]!++;
      }
    };
    merge(this.bidders!, p.bidders, 4);
    merge(this.auctions!, p.auctions, 8);
    out.collect({ day: p.day, added });
  },
};

function harness(backend: 'heap' | 'lmdb', f: KeyedProcessFunction<number, Partial, DayDelta> = new BucketStats()): OperatorHarness<Partial, DayDelta> {
  const fn = f as unknown as KeyedProcessFunction<number, unknown, DayDelta>;
  return new OperatorHarness<Partial, DayDelta>(() => new KeyedProcessOperator<number, DayDelta>('bucket', fn, [(p) => (p as Partial).key]), { backend });
}

/** Pseudo-random partials of 3 buckets: few ids, so ids and ranks repeat within and across partials. */
function partials(n: number, seed: number): Partial[] {
  let s = seed;
  const next = (k: number) => Math.floor(((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * k);
  const rankBits = () => 1 | (1 << (1 + next(3)));
  const out: Partial[] = [];
  for (let i = 0; i < n; i++) {
    const key = next(3);
    const pairs = () => Array.from({ length: next(4) }, () => [next(12), rankBits()]).flat();
    out.push({ key, day: 0, counts: [next(5), next(3), next(3), next(3)], bidders: pairs(), auctions: pairs(), time: i });
  }
  return out;
}

/** Brute force: per bucket, the summed bid counts and the ids seen with each bit. */
function expected(input: readonly Partial[]): Map<number, number[]> {
  const byKey = new Map<number, number[]>();
  const seen = new Set<string>();
  for (const p of input) {
    const t = byKey.get(p.key) ?? new Array<number>(12).fill(0);
    byKey.set(p.key, t);
    for (let r = 0; r < 4; r++) t[r]! += p.counts[r]!;
    for (const [at, pairs] of [[4, p.bidders], [8, p.auctions]] as const) {
      for (let i = 0; i < pairs.length; i += 2) {
        for (let r = 0; r < 4; r++) {
          const id = `${p.key}/${at}/${pairs[i]}/${r}`;
          if (pairs[i + 1]! & (1 << r) && !seen.has(id)) {
            seen.add(id);
            t[at + r]!++;
          }
        }
      }
    }
  }
  return byKey;
}

function sums(deltas: readonly DayDelta[], input: readonly Partial[]): Map<number, number[]> {
  // The harness's outputs come in input order, one per partial: pair them to find each delta's key.
  expect(deltas.length).toBe(input.length);
  const byKey = new Map<number, number[]>();
  deltas.forEach((d, i) => {
    const t = byKey.get(input[i]!.key) ?? new Array<number>(12).fill(0);
    byKey.set(input[i]!.key, t);
    for (let j = 0; j < 12; j++) t[j]! += d.added[j]!;
  });
  return byKey;
}

describe.each(['heap', 'lmdb'] as const)('q15 bucket stats (%s)', (backend) => {
  it('adds up to each bucket\'s bid counts and distinct ids per rank', async () => {
    const input = partials(200, 3);
    const h = harness(backend);
    await h.open();
    await h.processBatch(input, input.map((p) => p.time));
    expect(sums(h.values(), input)).toEqual(expected(input));
    await h.close();
  });

  it.each([
    ['its own snapshot', () => new BucketStats()],
    ['a snapshot of the layout before (MapStates per id)', () => mapStates],
  ] as const)('keeps the seen ids across a restore from %s', async (_, before) => {
    const input = partials(300, 11);
    const first = harness(backend, before());
    await first.open();
    await first.processBatch(input.slice(0, 150), input.slice(0, 150).map((p) => p.time));
    const kept = first.values().length;
    const snapshot = await first.snapshot();
    // The failed run went on after the snapshot: what it saw then must not reach the snapshot.
    await first.processBatch(input.slice(150), input.slice(150).map((p) => p.time));
    const firstDeltas = first.values().slice(0, kept);
    await first.close();
    const second = harness(backend);
    await second.initializeState(snapshot);
    await second.open();
    await second.processBatch(input.slice(150), input.slice(150).map((p) => p.time));
    expect(sums([...firstDeltas, ...second.values()], input)).toEqual(expected(input));
    await second.close();
  });
});
