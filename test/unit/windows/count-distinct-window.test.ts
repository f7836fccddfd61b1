/**
 * countDistinct(field) as a window aggregate: exact, mergeable (sliding panes, sessions), and
 * right after a snapshot restored into either backend, against a brute-force count.
 */
import { describe, expect, it } from 'vitest';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { countDistinct } from '../../../operators/aggregate/count-distinct.ts';
import { AlignedWindowOperator } from '../../../operators/window/aligned-window-operator.ts';
import { SessionWindowOperator } from '../../../operators/window/session-window-operator.ts';
import type { AlignedWindowAssigner, SessionWindowAssigner } from '../../../operators/window/assigner.ts';
import { slidingEventTimeWindows } from '../../../operators/window/sliding.ts';
import { eventTimeSessionWindows } from '../../../operators/window/session.ts';
import type { WindowResultFunction } from '../../../operators/window/time-window.ts';
import { aggregateContents } from '../../../operators/window/window-contents.ts';
import type { AggregateFunction } from '../../../state/descriptors.ts';

interface Visit {
  page: string;
  user: string;
}

const toRow: WindowResultFunction<string, number, string> = (n, ctx, out) => out.collect(`${ctx.key}@${ctx.window.start}-${ctx.window.end}=${n}`);

function operator(assigner: AlignedWindowAssigner | SessionWindowAssigner, agg: AggregateFunction<Visit, unknown, number>) {
  return () => {
    const contents = aggregateContents(agg);
    const key = (v: Visit): string => v.page;
    return assigner.kind === 'aligned'
      ? new AlignedWindowOperator<string, Visit, unknown, number, string>('distinct-users', key, assigner, contents, toRow)
      : new SessionWindowOperator<string, Visit, unknown, number, string>('distinct-users', key, assigner, contents, toRow);
  };
}

/** The "obvious" user-written accumulator: a Set (it broke after a restore before state kept Sets). */
const userSet: AggregateFunction<Visit, Set<string>, number> = {
  createAccumulator: () => new Set(),
  add: (v, acc) => acc.add(v.user),
  merge: (a, b) => new Set([...a, ...b]),
  getResult: (acc) => acc.size,
};

/** Visits at times 0..199: page p{i%3}, user u{(i*7)%11}. */
const visits = Array.from({ length: 200 }, (_, i) => ({ v: { page: `p${i % 3}`, user: `u${(i * 7) % 11}` }, t: i }));

function bruteForceSliding(size: number, slide: number): string[] {
  const out: string[] = [];
  for (let end = slide; end - size < 200; end += slide) {
    for (const page of ['p0', 'p1', 'p2']) {
      const users = new Set(visits.filter((x) => x.v.page === page && x.t >= end - size && x.t < end).map((x) => x.v.user));
      if (users.size > 0) out.push(`${page}@${end - size}-${end}=${users.size}`);
    }
  }
  return out.sort();
}

describe.each([
  ['heap', 'lmdb'],
  ['lmdb', 'heap'],
  ['lmdb', 'lmdb'],
] as const)('countDistinct window aggregate (%s, restored into %s)', (from, to) => {
  for (const [name, agg] of [
    ['countDistinct', countDistinct<Visit>('user')],
    ['a user-written Set accumulator', userSet],
  ] as const) {
    it(`${name}: sliding windows (size 30, slide 10) equal a brute-force count across a snapshot and restore`, async () => {
      const make = operator(slidingEventTimeWindows(30, 10), agg as AggregateFunction<Visit, unknown, number>);
      const h = new OperatorHarness(make, { backend: from });
      for (const { v, t } of visits.slice(0, 100)) await h.processElement(v, t);
      await h.processWatermark(49);
      const snap = await h.snapshot();
      const before = h.values();
      await h.close();
      const r = new OperatorHarness(make, { backend: to });
      await r.initializeState(snap);
      for (const { v, t } of visits.slice(100)) await r.processElement(v, t);
      await r.endInput();
      expect([...before, ...r.values()].sort()).toEqual(bruteForceSliding(30, 10));
      await r.close();
    });
  }

  it('session windows merge their sets: one session per page with every user', async () => {
    const make = operator(eventTimeSessionWindows(5), countDistinct<Visit>((v) => v.user));
    const h = new OperatorHarness(make, { backend: from });
    // Two sessions per page that a later record bridges; the restore happens before the bridge.
    await h.processElement({ page: 'a', user: 'x' }, 0);
    await h.processElement({ page: 'a', user: 'y' }, 8);
    await h.processElement({ page: 'a', user: 'x' }, 9);
    const snap = await h.snapshot();
    await h.close();
    const r = new OperatorHarness(make, { backend: to });
    await r.initializeState(snap);
    await r.processElement({ page: 'a', user: 'z' }, 4); // bridges [0,5) and [8,14)
    await r.endInput();
    expect(r.values()).toEqual(['a@0-14=3']);
    await r.close();
  });
});

describe('countDistinct', () => {
  it('rejects a value it cannot count, naming the field and the type', () => {
    const agg = countDistinct<{ user: unknown }>('user');
    expect(() => agg.add({ user: { id: 1 } }, agg.createAccumulator())).toThrow("countDistinct: field 'user' gave a plain object");
    expect(agg.getResult(agg.add({ user: 1n }, agg.add({ user: 1n }, agg.createAccumulator())))).toBe(1);
  });
});
