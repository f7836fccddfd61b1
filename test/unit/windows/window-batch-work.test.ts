/**
 * Per-record work of the aligned window operator, counted (not timed): a record's pane and window
 * ends are worked out once per run of records in one pane; a record of the same key as the one
 * before it is folded without looking its key up; a new sliding pane registers no 'f' timer when
 * its key's chain of timers reaches its first window. The results still equal a brute-force
 * computation, also across a restore (where the operator's memory of the chains is gone).
 */
import { describe, expect, it } from 'vitest';
import { AlignedWindowOperator } from '../../../operators/window/aligned-window-operator.ts';
import { slidingEventTimeWindows } from '../../../operators/window/sliding.ts';
import { tumblingEventTimeWindows } from '../../../operators/window/tumbling.ts';
import { aggregateContents } from '../../../operators/window/window-contents.ts';
import type { WindowResultFunction } from '../../../operators/window/time-window.ts';
import type { KeyedStateBackend, TimerService } from '../../../state/index.ts';
import { SeededRandom } from '../../../connectors/datagen/seeded-random.ts';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { runScript, type Step } from '../../harness/script.ts';
import { finalResults, sumAgg, windowSum, type Ev, type WindowSum } from './helpers.ts';

const toSum: WindowResultFunction<string, number, WindowSum> = (sum, ctx, out) => out.collect({ key: ctx.key, start: ctx.window.start, end: ctx.window.end, sum, firing: ctx.firing });

function windowOp(size: number, slide: number): () => AlignedWindowOperator<string, Ev, { s: number }, number, WindowSum> {
  const assigner = size === slide ? tumblingEventTimeWindows(size) : slidingEventTimeWindows(size, slide);
  return () => new AlignedWindowOperator<string, Ev, { s: number }, number, WindowSum>('sum', (e) => e.k, assigner, aggregateContents(sumAgg), toSum);
}

/** Counts the 'f' (window firing) timers the operator registers. */
function countingTimers(counts: { f: number }): (backend: KeyedStateBackend) => KeyedStateBackend {
  return (backend) => {
    const timers: TimerService = new Proxy(backend.timers, {
      get(target, prop) {
        if (prop === 'register') {
          return (...a: Parameters<TimerService['register']>) => {
            if (a[4] === 'f') counts.f++;
            target.register(...a);
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
      },
    });
    return new Proxy(backend, {
      get(target, prop) {
        if (prop === 'timers') return timers;
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
}

/** Counts the reads of list state `elements` (a process window's records). */
function countingElementReads(counts: { reads: number }): (backend: KeyedStateBackend) => KeyedStateBackend {
  return (backend) =>
    new Proxy(backend, {
      get(target, prop) {
        if (prop === 'getListState') {
          return (d: Parameters<KeyedStateBackend['getListState']>[0]) => {
            const l = target.getListState(d);
            return new Proxy(l, {
              get(lt, lp) {
                if (lp === 'get') {
                  return () => {
                    counts.reads++;
                    return lt.get();
                  };
                }
                const v = Reflect.get(lt, lp, lt) as unknown;
                return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(lt) : v;
              },
            });
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
      },
    });
}

/** Counts every `get` of map state `panes` (a pane read from state, present or not). */
function countingPaneGets(counts: { gets: number }): (backend: KeyedStateBackend) => KeyedStateBackend {
  return (backend) =>
    new Proxy(backend, {
      get(target, prop) {
        if (prop === 'getMapState') {
          return (d: Parameters<KeyedStateBackend['getMapState']>[0]) => {
            const m = target.getMapState(d);
            return new Proxy(m, {
              get(mt, mp) {
                if (mp === 'get' && d.name === 'panes') {
                  return (k: number) => {
                    counts.gets++;
                    return mt.get(k);
                  };
                }
                const v = Reflect.get(mt, mp, mt) as unknown;
                return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(mt) : v;
              },
            });
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
      },
    });
}

/** Every window (size, slide) of every record, summed: "key@start-end=sum", sorted. */
function bruteForce(records: readonly { ev: Ev; ts: number }[], size: number, slide: number): string[] {
  const m = new Map<string, number>();
  for (const { ev, ts } of records) {
    for (let end = Math.floor(ts / slide) * slide + slide; end - size <= ts; end += slide) {
      const id = `${ev.k}@${end - size}-${end}`;
      m.set(id, (m.get(id) ?? 0) + ev.v);
    }
  }
  return [...m].map(([k, s]) => `${k}=${s}`).sort();
}

for (const backend of ['heap', 'lmdb'] as const) {
  describe(`aligned window input batches (${backend} state)`, () => {
    it('work out a pane and its window ends once per run of records in one pane', async () => {
      const h = new OperatorHarness(windowOp(1000, 1000), { backend });
      await h.open();
      const op = (h as unknown as { operator: AlignedWindowOperator<string, Ev, unknown, unknown, WindowSum> }).operator;
      // 300 records in time order over 3 panes.
      await h.processBatch(Array.from({ length: 300 }, (_, i) => ({ k: `k${i % 7}`, v: 1 })), Array.from({ length: 300 }, (_, i) => i * 10));
      expect(op.paneRuns).toBe(3);
      // Out of order between two panes: a run per change.
      await h.processBatch([{ k: 'a', v: 1 }, { k: 'a', v: 1 }, { k: 'a', v: 1 }, { k: 'a', v: 1 }], [3100, 3200, 4100, 3300]);
      expect(op.paneRuns).toBe(3 + 3);
      await h.processWatermark(Infinity);
      const expected = ['a@3000-4000=3', 'a@4000-5000=1'];
      for (let k = 0; k < 7; k++) for (let p = 0; p < 3; p++) expected.push(`k${k}@${p * 1000}-${p * 1000 + 1000}=${Array.from({ length: 100 }, (_, j) => p * 100 + j).filter((i) => i % 7 === k).length}`);
      expect(h.values().map((w) => `${w.key}@${w.start}-${w.end}=${w.sum}`).sort()).toEqual(expected.sort());
      await h.close();
    });

    it('fold a record of the key of the record before it without looking the key up', async () => {
      const h = new OperatorHarness(windowOp(1000, 1000), { backend });
      await h.open();
      const op = (h as unknown as { operator: AlignedWindowOperator<string, Ev, unknown, unknown, WindowSum> }).operator;
      // A hot key's run of 50, then keys alternating: a lookup per change of key.
      const keys = [...Array.from({ length: 50 }, () => 'hot'), 'a', 'hot', 'a', 'hot', 'hot', 'b'];
      await h.processBatch(keys.map((k) => ({ k, v: 1 })), keys.map((_, i) => i));
      expect(op.pending.lookups).toBe(6);
      await h.processWatermark(Infinity);
      expect(h.values().map((w) => `${w.key}=${w.sum}`).sort()).toEqual(['a=2', 'b=1', 'hot=53']);
      await h.close();
    });
  });

  describe(`aligned window new panes (${backend} state)`, () => {
    it.each([
      ['tumbling', 1000, 1000],
      ['sliding', 1000, 100],
    ] as const)('are not read from state when they come after their key\'s newest pane (%s)', async (_name, size, slide) => {
      const counts = { gets: 0 };
      const h = new OperatorHarness(windowOp(size, slide), { backend, wrapKeyedState: countingPaneGets(counts) });
      await h.open();
      const op = (h as unknown as { operator: AlignedWindowOperator<string, Ev, unknown, unknown, WindowSum> }).operator;
      const records: { ev: Ev; ts: number }[] = [];
      // 5 keys, records in order, 4 per key and pane; a batch per pane, the watermark at its end.
      for (let b = 0; b < 40; b++) {
        const batch: Ev[] = [];
        const times: number[] = [];
        for (let j = 0; j < 20; j++) {
          const ev = { k: `k${j % 5}`, v: (b + j) % 7 };
          const ts = b * slide + j * (slide / 20);
          batch.push(ev);
          times.push(ts);
          records.push({ ev, ts });
        }
        await h.processBatch(batch, times);
        await h.processWatermark(b * slide + slide - 1);
      }
      // Every pane was new: no read before folding records in (the firings read what they fire).
      expect(op.paneReads).toBe(0);
      const firingReads = counts.gets;
      // A record ahead of the watermark starts a pane (a checkpoint writes it to state if it is held
      // in memory); one of an earlier pane (behind the key's newest, not due) reads it.
      const late = [
        { ev: { k: 'k0', v: 100 }, ts: 45 * slide },
        { ev: { k: 'k0', v: 200 }, ts: 42 * slide },
      ];
      await h.processBatch([late[0]!.ev], [late[0]!.ts]);
      await h.snapshot();
      expect(op.paneReads).toBe(0);
      await h.processBatch([late[1]!.ev], [late[1]!.ts]);
      expect(op.paneReads).toBe(1);
      await h.processBatch([{ k: 'k0', v: 300 }], [43 * slide]);
      expect(op.paneReads).toBe(2);
      records.push(...late, { ev: { k: 'k0', v: 300 }, ts: 43 * slide });
      await h.processWatermark(Infinity);
      expect(finalResults(h.output())).toEqual(bruteForce(records, size, slide));
      // Firings read each pane about once (sliding: the kept combiner; its key's first firing reads
      // the panes of a whole window).
      expect(firingReads).toBeLessThanOrEqual(5 * (40 + size / slide));
      await h.close();
    });

    it('are read again after a restore, where the operator knows no newest pane', async () => {
      const h = new OperatorHarness(windowOp(1000, 1000), { backend });
      await h.open();
      await h.processBatch([{ k: 'a', v: 1 }, { k: 'a', v: 2 }], [3000, 500]);
      const snap = await h.snapshot();
      await h.close();
      const counts = { gets: 0 };
      const r = new OperatorHarness(windowOp(1000, 1000), { backend, wrapKeyedState: countingPaneGets(counts) });
      await r.initializeState(snap);
      await r.open();
      const op = (r as unknown as { operator: AlignedWindowOperator<string, Ev, unknown, unknown, WindowSum> }).operator;
      // Pane 3000 is in state (ahead of the watermark) though this operator never wrote it.
      await r.processBatch([{ k: 'a', v: 10 }, { k: 'a', v: 20 }], [3001, 4000]);
      expect(op.paneReads).toBe(1);
      await r.processWatermark(Infinity);
      expect(r.values().map((w) => `${w.key}@${w.start}=${w.sum}`).sort()).toEqual(['a@0=2', 'a@3000=11', 'a@4000=20']);
      await r.close();
    });
  });

  describe(`aligned window tuple keys (${backend} state)`, () => {
    it('fold records by key content, a fresh tuple per record', async () => {
      type TupleKey = [string, number];
      const toRow: WindowResultFunction<TupleKey, number, string> = (sum, ctx, out) => out.collect(`${ctx.key.join('/')}@${ctx.window.start}=${sum}`);
      const h = new OperatorHarness<Ev, string>(
        () => new AlignedWindowOperator<TupleKey, Ev, { s: number }, number, string>('sum', (e) => [e.k, e.v % 2], tumblingEventTimeWindows(1000), aggregateContents(sumAgg), toRow),
        { backend },
      );
      const evs = [1, 3, 2, 5, 4, 4, 7].map((v) => ({ k: 'a', v }));
      await h.processBatch(evs, evs.map((_, i) => i));
      await h.processWatermark(Infinity);
      expect(h.values().sort()).toEqual(['a/0@0=10', 'a/1@0=16']);
      await h.close();
    });
  });

  describe(`sliding window timers (${backend} state)`, () => {
    const SIZE = 100;
    const SLIDE = 10;

    it('a new pane registers no timer when its key\'s chain of timers reaches its first window', async () => {
      const counts = { f: 0 };
      const h = new OperatorHarness(windowOp(SIZE, SLIDE), { backend, wrapKeyedState: countingTimers(counts) });
      await h.open();
      const op = (h as unknown as { operator: AlignedWindowOperator<string, Ev, unknown, unknown, WindowSum> }).operator;
      // 3 keys, each a record per pane (slide), batches of 40 slides, the watermark 30 slides behind.
      const records: { ev: Ev; ts: number }[] = [];
      const BATCHES = 30;
      for (let b = 0; b < BATCHES; b++) {
        const batch: Ev[] = [];
        const times: number[] = [];
        for (let j = 0; j < 120; j++) {
          const ev = { k: `k${j % 3}`, v: (b * 7 + j) % 5 };
          const ts = (b * 40 + Math.floor(j / 3)) * SLIDE + (j % 3);
          batch.push(ev);
          times.push(ts);
          records.push({ ev, ts });
        }
        await h.processBatch(batch, times);
        await h.processWatermark((b * 40 - 30) * SLIDE);
      }
      await h.processWatermark(Infinity);
      expect(finalResults(h.output())).toEqual(bruteForce(records, SIZE, SLIDE));
      expect(h.output().length).toBe(bruteForce(records, SIZE, SLIDE).length); // one firing per window
      const panes = records.length;
      // Without the chain's reach: a timer per pane and a chained one per key and firing loop.
      // With it: the panes of the two batches before the first firing (no chain yet), and the
      // chained timers, one per key and firing.
      expect(op.chainedPanes).toBeGreaterThan(panes * 0.9);
      expect(counts.f).toBeLessThanOrEqual(3 * 80 + 3 * (BATCHES + 1));
      await h.close();
    });

    // Keys with gaps longer than a window (the chain ends and starts again), records out of order
    // and ahead of the watermark by varying amounts, a restore in the middle (into the other
    // backend and into two halves of the key groups): every window fires once with its sum.
    it.each([
      ['straight', undefined, undefined],
      ['restored into the other backend', 1, 150],
      ['restored into two halves', 2, 220],
    ] as const)('equal a brute-force computation with gaps and out-of-order records (%s)', async (_name, parts, at) => {
      const r = new SeededRandom().reset(17, 0);
      const records: { ev: Ev; ts: number }[] = [];
      const steps: Step<Ev>[] = [];
      let wm = -1;
      let t = 0;
      for (let i = 0; i < 500; i++) {
        // Mostly forward, sometimes a jump (a gap for every key), records up to 60 ms apart in time.
        t += r.int(8) === 0 ? 150 + r.int(200) : r.int(6);
        const k = `k${r.int(4)}`;
        const ts = Math.max(wm + 1, t - r.int(60));
        const ev = { k, v: r.int(9) + 1 };
        records.push({ ev, ts });
        steps.push({ element: ev, ts });
        if (r.int(12) === 0) {
          wm = Math.max(wm, t - 40 - r.int(200));
          steps.push({ watermark: wm });
        }
      }
      steps.push({ endInput: true });
      const options = parts === undefined ? {} : { restoreAt: at, restoreBackend: backend === 'heap' ? ('lmdb' as const) : ('heap' as const), restoreInto: parts, keyOf: (e: Ev) => e.k };
      const result = await runScript(windowOp(SIZE, SLIDE), steps, { backend, ...options });
      const expected = bruteForce(records, SIZE, SLIDE);
      expect(finalResults(result.output)).toEqual(expected);
      expect(result.output.length).toBe(expected.length);
    });
  });

  describe(`process (all elements) window firings (${backend} state)`, () => {
    it("fire a key's due windows from one read of its elements, not one per window", async () => {
      const counts = { reads: 0 };
      const h = new OperatorHarness(windowSum(slidingEventTimeWindows(100, 10), 'process'), { backend, wrapKeyedState: countingElementReads(counts) });
      await h.open();
      const op = (h as unknown as { operator: AlignedWindowOperator<string, Ev, unknown, unknown, WindowSum> }).operator;
      const records: { ev: Ev; ts: number }[] = [];
      let loops = 0;
      for (let i = 0; i < 600; i++) {
        const ev = { k: `k${i % 3}`, v: i % 4 };
        records.push({ ev, ts: i * 5 });
        await h.processElement(ev, i * 5);
        // A watermark every 200 ms: 20 windows of each key due at once.
        if (i % 40 === 39) {
          await h.processWatermark(i * 5 - 1);
          loops++;
        }
      }
      await h.processWatermark(Infinity);
      loops++;
      const expected = bruteForce(records, 100, 10);
      expect(finalResults(h.output())).toEqual(expected);
      expect(h.output().length).toBe(expected.length);
      expect(op.elementFirings).toBe(expected.length);
      // A read to fire and one to drop the elements of panes done, per key and loop (not 20+).
      expect(counts.reads).toBeLessThanOrEqual(3 * loops * 2);
      await h.close();
    });
  });
}
