/**
 * q5's per-window leaders (jobs/nexmark/queries/q5.ts), on both backends: the auctions with the
 * window's highest count, ties included (the generated events of the Nexmark query tests have no
 * tied windows), across a snapshot and restore, also from the layouts q5 kept before.
 */
import { describe, expect, it } from 'vitest';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { KeyedProcessOperator } from '../../../operators/keyed-process.ts';
import type { KeyedProcessFunction } from '../../../operators/functions.ts';
import { mapState, valueState } from '../../../state/descriptors.ts';
import type { MapState, ValueState } from '../../../state/handles.ts';
import { WindowLeaders } from '../../../jobs/nexmark/queries/q5.ts';
import type { PaneCounts } from '../../../jobs/nexmark/queries/local-pane-count.ts';
import { Q5_WINDOW_MS, type Q5Row } from '../../../jobs/nexmark/queries.ts';

/** What q5 kept before it kept leaders: the counts per window and auction, and the window's timer. */
const countsOnly: KeyedProcessFunction<number, PaneCounts, Q5Row> & { counts?: MapState<number, number> } = {
  open(ctx) {
    this.counts = ctx.getMapState(mapState<number, number>('counts'));
  },
  processElement(c, ctx) {
    if (this.counts!.isEmpty()) ctx.timerService.registerEventTimeTimer(c.window + Q5_WINDOW_MS - 1);
    c.keys.forEach((key, i) => this.counts!.put(key, (this.counts!.get(key) ?? 0) + c.counts[i]!));
  },
};

/** The layout before the pane lists: the counts per window and auction, and the leaders kept as counts grew. */
const countsAndLeaders: KeyedProcessFunction<number, PaneCounts, Q5Row> & { counts?: MapState<number, number>; leaders?: ValueState<number[]> } = {
  open(ctx) {
    this.counts = ctx.getMapState(mapState<number, number>('counts'));
    this.leaders = ctx.getState(valueState<number[]>('leaders'));
  },
  processElement(c, ctx) {
    if (this.counts!.isEmpty()) ctx.timerService.registerEventTimeTimer(c.window + Q5_WINDOW_MS - 1);
    let leaders = this.leaders!.value() ?? [0];
    c.keys.forEach((key, i) => {
      const n = (this.counts!.get(key) ?? 0) + c.counts[i]!;
      this.counts!.put(key, n);
      if (n > leaders[0]!) leaders = [n, key];
      else if (n === leaders[0]) leaders = [...leaders, key];
    });
    this.leaders!.update(leaders);
  },
};

function harness(backend: 'heap' | 'lmdb', f: KeyedProcessFunction<number, PaneCounts, Q5Row> = new WindowLeaders()): OperatorHarness<PaneCounts, Q5Row> {
  const fn = f as unknown as KeyedProcessFunction<number, unknown, Q5Row>;
  return new OperatorHarness<PaneCounts, Q5Row>(() => new KeyedProcessOperator<number, Q5Row>('leaders', fn, [(c) => (c as PaneCounts).window]), { backend });
}

/**
 * Pseudo-random pane counts: few auctions and small counts, so that windows often tie, also within
 * one record; 1-4 distinct auctions a record, as a pane's Map gives them.
 */
function counts(n: number, seed: number): PaneCounts[] {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const out: PaneCounts[] = [];
  for (let i = 0; i < n; i++) {
    const byKey = new Map<number, number>();
    const entries = 1 + Math.floor(next() * 4);
    for (let j = 0; j < entries; j++) byKey.set(Math.floor(next() * 5), 1 + Math.floor(next() * 3));
    out.push({ window: 2000 * Math.floor(next() * 6), keys: Float64Array.from(byKey.keys()), counts: Float64Array.from(byKey.values()) });
  }
  return out;
}

/** Brute force: per window, the auctions whose summed count is the maximum. */
function expected(input: readonly PaneCounts[]): string[] {
  const byWindow = new Map<number, Map<number, number>>();
  for (const c of input) {
    const m = byWindow.get(c.window) ?? new Map<number, number>();
    c.keys.forEach((key, i) => m.set(key, (m.get(key) ?? 0) + c.counts[i]!));
    byWindow.set(c.window, m);
  }
  const rows: string[] = [];
  for (const [w, m] of byWindow) {
    const max = Math.max(...m.values());
    for (const [a, n] of m) if (n === max) rows.push(`${w}/${a}=${n}/${w + Q5_WINDOW_MS}`);
  }
  return rows.sort();
}

const show = (rows: readonly Q5Row[]) => rows.map((r) => `${r.windowStart}/${r.auction}=${r.num}/${r.windowEnd}`).sort();

describe.each(['heap', 'lmdb'] as const)('q5 window leaders (%s)', (backend) => {
  it('emits every auction tied at the maximum, and only those', async () => {
    let ties = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const input = counts(30, seed);
      const h = harness(backend);
      await h.open();
      await h.processBatch(input, input.map((c) => c.window));
      await h.processWatermark(Infinity);
      const want = expected(input);
      ties += want.length - new Set(input.map((c) => c.window)).size;
      expect(show(h.values())).toEqual(want);
      await h.close();
    }
    expect(ties).toBeGreaterThan(5); // the inputs did tie: more rows than windows
  });

  it.each([
    ['its own snapshot', () => new WindowLeaders()],
    ['a snapshot of the counts alone (taken before leaders were kept)', () => countsOnly],
    ['a snapshot of the counts and leaders (taken before pane lists were kept)', () => countsAndLeaders],
  ] as const)('keeps the leaders across a restore from %s', async (_, before) => {
    const input = counts(300, 7);
    const first = harness(backend, before());
    await first.open();
    await first.processBatch(input.slice(0, 150), input.slice(0, 150).map((c) => c.window));
    const snapshot = await first.snapshot();
    // The failed run went on after the snapshot: what it did then must not reach the snapshot.
    await first.processBatch(input.slice(150), input.slice(150).map((c) => c.window));
    await first.close();
    const second = harness(backend);
    await second.initializeState(snapshot);
    await second.open();
    await second.processBatch(input.slice(150), input.slice(150).map((c) => c.window));
    await second.processWatermark(Infinity);
    expect(show(second.values())).toEqual(expected(input));
    await second.close();
  });
});
