/**
 * Window panes held in memory (aligned-window-operator.ts, pending-panes.ts): counted, not
 * timed. Between checkpoints a pane that is created and fires costs no state access (on LMDB it
 * never reaches the backend); the checkpoint barrier writes the panes still held to state, so a
 * restore (after a failure between checkpoints, into either backend, or into two halves of the key
 * groups) gives the results of a run without failure.
 */
import { describe, expect, it } from 'vitest';
import { AlignedWindowOperator } from '../../../operators/window/aligned-window-operator.ts';
import { tumblingEventTimeWindows } from '../../../operators/window/tumbling.ts';
import { slidingEventTimeWindows } from '../../../operators/window/sliding.ts';
import { aggregateContents } from '../../../operators/window/window-contents.ts';
import type { WindowResultFunction } from '../../../operators/window/time-window.ts';
import { keyGroupOf } from '../../../state/key-groups.ts';
import { SeededRandom } from '../../../connectors/datagen/seeded-random.ts';
import { countingState, StateReads } from '../../harness/counting-state.ts';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { sumAgg, type Ev, type WindowSum } from './helpers.ts';

const SIZE = 100;

const toSum: WindowResultFunction<string, number, WindowSum> = (sum, ctx, out) => out.collect({ key: ctx.key, start: ctx.window.start, end: ctx.window.end, sum, firing: ctx.firing });

function windowOpTumbling(): AlignedWindowOperator<string, Ev, { s: number }, number, WindowSum> {
  return new AlignedWindowOperator<string, Ev, { s: number }, number, WindowSum>('sum', (e) => e.k, tumblingEventTimeWindows(SIZE), aggregateContents(sumAgg), toSum);
}

const windowOp = windowOpTumbling;

/** Sliding windows of SIZE every SIZE / 5: a pane stays held until its last window fired. */
function slidingOp(): AlignedWindowOperator<string, Ev, { s: number }, number, WindowSum> {
  return new AlignedWindowOperator<string, Ev, { s: number }, number, WindowSum>('sum', (e) => e.k, slidingEventTimeWindows(SIZE, SIZE / 5), aggregateContents(sumAgg), toSum);
}

type Step = { batch: { ev: Ev; ts: number }[] } | { watermark: number };

/** Batches of 1-30 records of 6 keys, mostly in order, some behind the watermark (late), and watermarks. */
function script(seed: number): Step[] {
  const r = new SeededRandom().reset(seed, 0);
  const steps: Step[] = [];
  let t = 0;
  let wm = -1;
  for (let b = 0; b < 120; b++) {
    const batch: { ev: Ev; ts: number }[] = [];
    for (let j = 0, n = 1 + r.int(30); j < n; j++) {
      t += r.int(4);
      const ts = r.int(10) === 0 ? Math.max(0, t - r.int(3 * SIZE)) : t;
      batch.push({ ev: { k: `k${r.int(6)}`, v: 1 + r.int(9) }, ts });
    }
    steps.push({ batch });
    if (r.int(3) === 0) {
      wm = Math.max(wm, t - r.int(2 * SIZE));
      steps.push({ watermark: wm });
    }
  }
  steps.push({ watermark: Infinity });
  return steps;
}

async function play(hs: OperatorHarness<Ev, WindowSum>[], steps: readonly Step[]): Promise<void> {
  for (const s of steps) {
    if ('watermark' in s) {
      for (const h of hs) await h.processWatermark(s.watermark);
      continue;
    }
    for (const h of hs) {
      const mine = s.batch.filter((x) => hs.length === 1 || (keyGroupOf(x.ev.k, h.maxParallelism) >= h.keyGroupRange.start && keyGroupOf(x.ev.k, h.maxParallelism) <= h.keyGroupRange.end));
      if (mine.length > 0) await h.processBatch(mine.map((x) => x.ev), mine.map((x) => x.ts));
    }
  }
}

/** 5 keys, 2 records per key and 50 ms (a batch), in order, the watermark 100 ms behind. */
async function feedInOrder(h: OperatorHarness<Ev, WindowSum>): Promise<void> {
  for (let b = 0; b < 40; b++) {
    const evs = Array.from({ length: 10 }, (_, j) => ({ k: `k${j % 5}`, v: 1 }));
    await h.processBatch(evs, evs.map((_, j) => b * (SIZE / 2) + j * 5));
    await h.processWatermark(b * (SIZE / 2) - SIZE);
  }
}

const rows = (out: readonly { value: WindowSum }[]): string[] => out.map(({ value: w }) => `${w.key}@${w.start}=${w.sum}`).sort();

for (const backend of ['heap', 'lmdb'] as const) {
  describe(`window panes held in memory (${backend} state)`, () => {
    it('touch no state between checkpoints, and go to state at the checkpoint barrier', async () => {
      const reads = new StateReads();
      const writes = new StateReads();
      const h = new OperatorHarness(windowOp, { backend, wrapKeyedState: countingState(reads, writes) });
      await h.open();
      const op = (h as unknown as { operator: AlignedWindowOperator<string, Ev, unknown, unknown, WindowSum> }).operator;
      await feedInOrder(h);
      expect(writes.of('panes')).toBe(0);
      expect(reads.of('panes')).toBe(0);
      expect(op.paneReads).toBe(0);
      expect(op.pending.heldCount).toBe(5 * 2); // the panes of the last 1.5 panes of time, not fired
      await h.snapshot();
      expect(writes.of('panes')).toBe(10);
      expect(op.pending.heldCount).toBe(0);
      await h.processWatermark(Infinity);
      expect(h.values().length).toBe(5 * 20);
      expect(h.values().every((w) => w.sum === 4)).toBe(true);
      await h.close();
    });

    it('fire held panes in window order when their records came out of order, with panes from state', async () => {
      const h = new OperatorHarness(windowOp, { backend });
      await h.open();
      await h.processBatch([{ k: 'a', v: 1 }], [350]);
      await h.processBatch([{ k: 'a', v: 2 }], [150]);
      await h.snapshot(); // panes 100 and 300 go to state
      await h.processBatch([{ k: 'a', v: 4 }], [450]);
      await h.processBatch([{ k: 'a', v: 8 }, { k: 'a', v: 16 }], [250, 50]);
      await h.processBatch([{ k: 'a', v: 32 }], [150]); // into pane 100, read from state
      await h.processWatermark(999);
      expect(h.values().map((w) => `${w.start}=${w.sum}`)).toEqual(['0=16', '100=34', '200=8', '300=1', '400=4']);
      await h.close();
    });

    it('fire held panes in window order when their records came out of order', async () => {
      const h = new OperatorHarness(windowOp, { backend });
      await h.open();
      for (const ts of [350, 150, 450, 250, 50]) await h.processBatch([{ k: 'a', v: ts }], [ts]);
      await h.processWatermark(999);
      expect(h.values().map((w) => `${w.start}=${w.sum}`)).toEqual(['0=50', '100=150', '200=250', '300=350', '400=450']);
      await h.close();
    });

    it('of sliding windows touch no state between checkpoints either', async () => {
      const reads = new StateReads();
      const writes = new StateReads();
      const h = new OperatorHarness(slidingOp, { backend, wrapKeyedState: countingState(reads, writes) });
      await h.open();
      await feedInOrder(h);
      expect(writes.of('panes')).toBe(0);
      expect(reads.of('panes')).toBe(0);
      // Each key's chained timer (its next window) is held by the operator (chain-timers.ts), not the backend...
      const timers = h.keyedState!.timers;
      expect(timers.size('event')).toBe(0);
      const held = (h as unknown as { operator: AlignedWindowOperator<string, Ev, unknown, unknown, WindowSum> }).operator.pending.heldCount;
      expect(held).toBeGreaterThan(0);
      await h.snapshot();
      expect(writes.of('panes')).toBe(held);
      // ...until the barrier moves them there, so the snapshot has them.
      expect(timers.size('event')).toBe(5);
      await h.processWatermark(Infinity);
      // Windows of 100 ms every 20 ms; each key has 2 records every 50 ms, so 4 in each full window.
      const full = h.values().filter((w) => w.start >= 0 && w.end <= 2000);
      expect(full.length).toBe(5 * (2000 / 20 - 4));
      expect(full.map((w) => w.sum)).toEqual(full.map(() => 4));
      await h.close();
    });

    it('of sliding windows fire every window when the keys outnumber the entries kept (chained timers move to the backend)', async () => {
      // More keys than pending-panes.ts keeps entries for (2^16): the entries are forgotten at the
      // end of a batch once none holds a pane, and the chained timers kept on them go to the backend.
      const keys = 70_000;
      const h = new OperatorHarness(slidingOp, { backend });
      await h.open();
      const evs = Array.from({ length: keys }, (_, j) => ({ k: `k${j}`, v: 1 + (j % 3) }));
      await h.processBatch(evs, evs.map(() => 10)); // pane 0 of every key
      await h.snapshot(); // held panes to state: the entries hold none and can be forgotten
      await h.processWatermark(19); // window [-80, 20) fires; the next one is chained, in memory
      const timers = h.keyedState!.timers;
      expect(timers.size('event')).toBe(0);
      await h.processBatch([{ k: 'late-comer', v: 5 }], [25]); // this batch's end forgets the entries
      // The chained timers went to the backend with them; the late comer's pane has a timer of its own.
      expect(timers.size('event')).toBe(keys + 1);
      await h.processWatermark(Infinity);
      // Every key's pane 0 is in the 5 windows ending 20..100; the late comer's pane 20 in 20..120.
      expect(h.values().length).toBe(5 * keys + 5);
      let sum = 0;
      for (const w of h.values()) sum += w.sum;
      let expected = 5 * 5;
      for (const e of evs) expected += 5 * e.v;
      expect(sum).toBe(expected);
      await h.close();
    });

    it.each([
      ['tumbling', 'the same backend', 1],
      ['tumbling', 'the other backend', 1],
      ['tumbling', 'two halves of the key groups', 2],
      ['sliding', 'the same backend', 1],
      ['sliding', 'the other backend', 1],
      ['sliding', 'two halves of the key groups', 2],
    ] as const)('of %s windows give the results of a run without failure after a failure between checkpoints, restored into %s', async (kind, name, parts) => {
      const windowOp = kind === 'tumbling' ? windowOpTumbling : slidingOp;
      const steps = script(name.length);
      const straight = new OperatorHarness(windowOp, { backend });
      await play([straight], steps);
      const expected = rows(straight.output());
      await straight.close();

      const at = Math.floor(steps.length / 2);
      const first = new OperatorHarness(windowOp, { backend });
      await play([first], steps.slice(0, at));
      const snap = await first.snapshot();
      const before = [...first.output()];
      // The failed run goes on past the checkpoint (its later output is never committed).
      await play([first], steps.slice(at, at + 20));
      await first.close();

      const restoreBackend = name === 'the other backend' ? (backend === 'heap' ? 'lmdb' : 'heap') : backend;
      const ranges = parts === 1 ? [undefined] : [{ start: 0, end: 63 }, { start: 64, end: 127 }];
      const next: OperatorHarness<Ev, WindowSum>[] = [];
      for (const keyGroupRange of ranges) {
        const h = new OperatorHarness(windowOp, { backend: restoreBackend, ...(keyGroupRange ? { keyGroupRange, maxParallelism: 128 } : {}) });
        await h.initializeState(snap);
        await h.open();
        next.push(h);
      }
      await play(next, steps.slice(at));
      expect(rows([...before, ...next.flatMap((h) => h.output())])).toEqual(expected);
      expect(expected.length).toBeGreaterThan(50);
      for (const h of next) await h.close();
    });
  });
}
