/**
 * Work of window operators, counted (not timed). A batch's records of one key and pane cost one
 * state read. A sliding-window firing neither re-reads its panes from state nor re-combines them. With 100 windows per pane, each window costs a few merges (the
 * PaneCombiner) instead of one per pane it covers, and each pane is read a few times in all
 * instead of once per window it is in. The results still equal a brute-force computation.
 */
import { describe, expect, it } from 'vitest';
import { AlignedWindowOperator } from '../../../operators/window/aligned-window-operator.ts';
import { slidingEventTimeWindows } from '../../../operators/window/sliding.ts';
import { tumblingEventTimeWindows } from '../../../operators/window/tumbling.ts';
import { aggregateContents } from '../../../operators/window/window-contents.ts';
import type { WindowResultFunction } from '../../../operators/window/time-window.ts';
import type { AggregateFunction } from '../../../state/descriptors.ts';
import { countingState, StateReads } from '../../harness/counting-state.ts';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { SeededRandom } from '../../../connectors/datagen/seeded-random.ts';
import { finalResults, windowSum, type Ev, type WindowSum } from './helpers.ts';

const SIZE = 1000;
const SLIDE = 10;

for (const backend of ['heap', 'lmdb'] as const) {
  describe(`tumbling window input batches (${backend} state)`, () => {
    it("read and write a key's pane once per batch, however many of its records the batch has", async () => {
      const reads = new StateReads();
      const h = new OperatorHarness(windowSum(tumblingEventTimeWindows(1000), 'aggregate'), { backend, wrapKeyedState: countingState(reads) });
      const batch = (n: number, t0: number): [Ev[], number[]] => [Array.from({ length: n }, (_, i) => ({ k: `k${i % 5}`, v: 1 })), Array.from({ length: n }, (_, i) => t0 + i)];
      await h.processBatch(...batch(100, 0));
      expect(reads.of('panes')).toBe(0); // new panes
      await h.processBatch(...batch(100, 100));
      expect(reads.of('panes')).toBe(0); // held in memory until they fire (tumbling, no allowed lateness)
      await h.snapshot();
      await h.processBatch(...batch(100, 200));
      expect(reads.of('panes')).toBe(5); // written to state at the checkpoint: one read per key
      // Records of one key in two panes, and one behind the watermark (written at once).
      await h.processWatermark(999);
      await h.processBatch([{ k: 'k0', v: 1 }, { k: 'k0', v: 1 }, { k: 'k0', v: 1 }, { k: 'k0', v: 1 }], [1500, 2500, 2600, 500]);
      await h.processWatermark(Infinity);
      expect(h.values().map((w) => `${w.key}@${w.start}=${w.sum}`).sort()).toEqual(['k0@0=60', 'k0@1000=1', 'k0@2000=2', 'k1@0=60', 'k2@0=60', 'k3@0=60', 'k4@0=60']);
      await h.close();
    });
  });

  describe(`sliding window firings (${backend} state)`, () => {
    // A watermark every slide (each firing one window per key) or every 20 slides.
    // Without checkpoints the panes stay in memory (held) until their last window fired; with a
    // checkpoint every 50 records, they go to state and are read from there once each.
    it.each([
      [2, 0],
      [40, 0],
      [40, 50],
    ])('cost a bounded number of pane reads and merges per window, not size/slide (watermark every %i records, checkpoint every %i)', async (every, checkpointEvery) => {
      let merges = 0;
      const sum: AggregateFunction<Ev, { s: number }, number> = {
        createAccumulator: () => ({ s: 0 }),
        add: (e, acc) => ({ s: acc.s + e.v }),
        merge: (a, b) => {
          merges++;
          return { s: a.s + b.s };
        },
        getResult: (acc) => acc.s,
      };
      const toSum: WindowResultFunction<string, number, WindowSum> = (s, ctx, out) => out.collect({ key: ctx.key, start: ctx.window.start, end: ctx.window.end, sum: s, firing: ctx.firing });
      const reads = new StateReads();
      const op = () => new AlignedWindowOperator<string, Ev, { s: number }, number, WindowSum>('sliding', (e) => e.k, slidingEventTimeWindows(SIZE, SLIDE), aggregateContents(sum), toSum);
      const h = new OperatorHarness<Ev, WindowSum>(op, { backend, wrapKeyedState: countingState(reads) });
      const expected = new Map<string, number>();
      const N = 600;
      for (let i = 0; i < N; i++) {
        const ev = { k: `k${i % 3}`, v: i % 7 };
        const ts = i * 5;
        await h.processElement(ev, ts);
        for (let end = Math.floor(ts / SLIDE) * SLIDE + SLIDE; end - SIZE <= ts; end += SLIDE) {
          const id = `${ev.k}@${end - SIZE}-${end}`;
          expected.set(id, (expected.get(id) ?? 0) + ev.v);
        }
        if (i % every === every - 1) await h.processWatermark(ts - 1);
        if (checkpointEvery > 0 && i % checkpointEvery === checkpointEvery - 1) await h.snapshot();
      }
      await h.processWatermark(Infinity);
      const out = h.output();
      expect(finalResults(out)).toEqual([...expected].map(([k, s]) => `${k}=${s}`).sort());
      expect(out.length).toBe(expected.size); // one firing per window
      // Each key's windows come in end order.
      for (const k of ['k0', 'k1', 'k2']) {
        const ends = out.filter((o) => o.value.key === k).map((o) => o.value.end);
        expect(ends).toEqual([...ends].sort((a, b) => a - b));
      }
      const windows = out.length;
      // A window covers about 67 panes of its key (100 panes, a record of each key every 15 ms):
      // re-combining them would cost that many merges and reads per window.
      // Each (key, pane) is read from state at most once (none while held in memory); a window
      // costs at most 3 merges on average.
      const panes = new Set(Array.from({ length: N }, (_, i) => `${i % 3}@${Math.floor((i * 5) / SLIDE)}`)).size;
      if (checkpointEvery === 0) expect(reads.of('panes')).toBe(0);
      else {
        expect(reads.of('panes')).toBeGreaterThan(0);
        expect(reads.of('panes')).toBeLessThanOrEqual(panes);
      }
      expect(merges / windows).toBeLessThanOrEqual(3);
      await h.close();
    });

    // Records behind the watermark change panes a key's combiner holds between firings: the
    // results must still be what each window held when the watermark passed its end.
    it('records behind the watermark (no allowed lateness) count in the windows not fired yet', async () => {
      const r = new SeededRandom().reset(5, 0);
      const h = new OperatorHarness(windowSum(slidingEventTimeWindows(30, 10), 'aggregate'), { backend });
      const expected = new Map<string, number>();
      let wm = -Infinity;
      for (let i = 0; i < 400; i++) {
        const ev = { k: `k${r.int(3)}`, v: r.int(10) };
        const ts = i * 2 - r.int(40);
        await h.processElement(ev, ts);
        for (let end = Math.floor(ts / 10) * 10 + 10; end - 30 <= ts; end += 10) {
          if (end - 1 > wm) expected.set(`${ev.k}@${end - 30}-${end}`, (expected.get(`${ev.k}@${end - 30}-${end}`) ?? 0) + ev.v);
        }
        if (i % 5 === 4) await h.processWatermark((wm = i * 2 - 15));
      }
      await h.processWatermark(Infinity);
      expect(finalResults(h.output())).toEqual([...expected].map(([k, s]) => `${k}=${s}`).sort());
      expect(h.output().length).toBe(expected.size);
      await h.close();
    });
  });
}
