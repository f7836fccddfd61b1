import { describe, expect, it } from 'vitest';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { runScript, type Step } from '../../harness/script.ts';
import { slidingEventTimeWindows, slidingProcessingTimeWindows } from '../../../operators/window/sliding.ts';
import { tumblingEventTimeWindows, tumblingProcessingTimeWindows } from '../../../operators/window/tumbling.ts';
import { continuousEventTimeTrigger, continuousProcessingTimeTrigger } from '../../../operators/window/time-window.ts';
import { aggregateContents } from '../../../operators/window/window-contents.ts';
import { AlignedWindowOperator } from '../../../operators/window/aligned-window-operator.ts';
import { SeededRandom } from '../../../connectors/datagen/seeded-random.ts';
import { finalResults, lateTag, MODES, windowSum, type Ev, type WindowSum } from './helpers.ts';

const BACKENDS = ['heap', 'lmdb'] as const;
const e = (k: string, v: number, ts: number): Step<Ev> => ({ element: { k, v }, ts });

describe.each(BACKENDS)('tumbling and sliding windows (%s)', (backend) => {
  for (const mode of MODES) {
    it(`tumbling event time fires each window once at its end (${mode})`, async () => {
      const h = new OperatorHarness(windowSum(tumblingEventTimeWindows(10), mode), { backend });
      await h.processElement({ k: 'a', v: 1 }, 1);
      await h.processElement({ k: 'a', v: 2 }, 9);
      await h.processElement({ k: 'b', v: 5 }, 12);
      await h.processElement({ k: 'a', v: 4 }, 15);
      await h.processWatermark(8);
      expect(h.values()).toEqual([]);
      await h.processWatermark(9);
      expect(h.output()).toEqual([{ value: { key: 'a', start: 0, end: 10, sum: 3, firing: 'on-time' }, time: 9 }]);
      await h.processWatermark(100);
      expect(h.values().slice(1).sort((x, y) => x.key.localeCompare(y.key))).toEqual([
        { key: 'a', start: 10, end: 20, sum: 4, firing: 'on-time' },
        { key: 'b', start: 10, end: 20, sum: 5, firing: 'on-time' },
      ]);
      // Nothing left: state and timers are gone.
      expect(h.keyedState!.timers.size('event')).toBe(0);
      await h.close();
    });

    it(`sliding windows (size 30, slide 10) equal a brute-force computation (${mode})`, async () => {
      const r = new SeededRandom().reset(1, 0);
      const steps: Step<Ev>[] = [];
      const events: { k: string; v: number; ts: number }[] = [];
      for (let i = 0; i < 300; i++) {
        const ts = i * 3 + r.int(7);
        const ev = { k: `k${r.int(3)}`, v: r.int(10), ts };
        events.push(ev);
        steps.push(e(ev.k, ev.v, ts));
        if (i % 10 === 9) steps.push({ watermark: i * 3 - 1 });
      }
      steps.push({ endInput: true });
      const res = await runScript(windowSum(slidingEventTimeWindows(30, 10), mode, { lateTag }), steps, { backend, sideTags: [lateTag] });
      const expected = new Map<string, number>();
      for (const ev of events) {
        for (let end = Math.floor(ev.ts / 10) * 10 + 10; end - 30 <= ev.ts; end += 10) {
          const id = `${ev.k}@${end - 30}-${end}`;
          expected.set(id, (expected.get(id) ?? 0) + ev.v);
        }
      }
      expect(res.side.get('late')!.length).toBe(0); // the watermark trails by more than the disorder
      expect(finalResults(res.output)).toEqual([...expected].map(([k, s]) => `${k}=${s}`).sort());
      // One firing per window: no early or late ones here.
      expect(res.output.length).toBe(expected.size);
      for (const o of res.output) expect(o.time).toBe(o.value.end - 1);
    });

    it(`late records within allowed lateness re-fire their windows; later ones go to the side output (${mode})`, async () => {
      const h = new OperatorHarness(windowSum(tumblingEventTimeWindows(10), mode, { allowedLatenessMs: 5, lateTag }), { backend });
      await h.processElement({ k: 'a', v: 1 }, 3);
      await h.processWatermark(10);
      expect(h.values()).toEqual([{ key: 'a', start: 0, end: 10, sum: 1, firing: 'on-time' }]);
      await h.processElement({ k: 'a', v: 2 }, 4); // 9 + 5 > 10: still allowed
      expect(h.values()[1]).toEqual({ key: 'a', start: 0, end: 10, sum: 3, firing: 'late' });
      await h.processWatermark(14);
      await h.processElement({ k: 'a', v: 4 }, 5); // 9 + 5 <= 14: too late
      expect(h.values().length).toBe(2);
      expect(h.sideOutput(lateTag)).toEqual([{ value: { k: 'a', v: 4 }, time: 5 }]);
      expect(h.keyedState!.timers.size('event')).toBe(0);
      await h.close();
    });
  }

  it('early firing every 10 ms of event time in a 100 ms window, then the on-time result', async () => {
    const h = new OperatorHarness(windowSum(tumblingEventTimeWindows(100), 'aggregate', { earlyFiring: continuousEventTimeTrigger(10) }), { backend });
    await h.processElement({ k: 'a', v: 1 }, 3);
    await h.processWatermark(10);
    await h.processElement({ k: 'a', v: 2 }, 15);
    await h.processWatermark(25);
    await h.processWatermark(99);
    const got = h.values().map((w) => `${w.firing}:${w.sum}`);
    expect(got).toEqual(['early:1', 'early:3', 'early:3', 'early:3', 'early:3', 'early:3', 'early:3', 'early:3', 'early:3', 'on-time:3']);
    await h.close();
  });

  it('early firing on processing time (a day window emitting every minute)', async () => {
    const DAY = 86_400_000;
    const h = new OperatorHarness(windowSum(tumblingEventTimeWindows(DAY), 'aggregate', { earlyFiring: continuousProcessingTimeTrigger(60_000) }), { backend, processingTime: 1_000 });
    await h.processElement({ k: 'a', v: 1 }, 5_000);
    await h.setProcessingTime(59_999);
    expect(h.values()).toEqual([]);
    await h.setProcessingTime(60_000);
    await h.processElement({ k: 'a', v: 2 }, 6_000);
    await h.setProcessingTime(120_000);
    expect(h.values().map((w) => `${w.firing}:${w.sum}`)).toEqual(['early:1', 'early:3']);
    await h.processWatermark(DAY - 1);
    expect(h.values().map((w) => `${w.firing}:${w.sum}`)).toEqual(['early:1', 'early:3', 'on-time:3']);
    // After the window fired, the processing-time chain stops.
    await h.setProcessingTime(300_000);
    expect(h.values().length).toBe(3);
    await h.close();
  });

  it('processing-time tumbling and sliding windows fire from the clock', async () => {
    const h = new OperatorHarness(windowSum(tumblingProcessingTimeWindows(1000), 'aggregate'), { backend, processingTime: 100 });
    await h.processElement({ k: 'a', v: 1 });
    await h.setProcessingTime(500);
    await h.processElement({ k: 'a', v: 2 });
    await h.setProcessingTime(1000);
    expect(h.values().map((w) => `${w.start}-${w.end}:${w.sum}`)).toEqual(['0-1000:3']);
    await h.processElement({ k: 'a', v: 4 });
    await h.endInput(); // a bounded input ends: what is held fires
    expect(h.values().map((w) => `${w.start}-${w.end}:${w.sum}`)).toEqual(['0-1000:3', '1000-2000:4']);
    await h.close();

    const s = new OperatorHarness(windowSum(slidingProcessingTimeWindows(1000, 500), 'process'), { backend, processingTime: 100 });
    await s.processElement({ k: 'a', v: 1 });
    await s.setProcessingTime(2000);
    expect(s.values().map((w) => `${w.start}-${w.end}:${w.sum}`)).toEqual(['-500-500:1', '0-1000:1']);
    await s.close();
  });

  it('an aggregate without merge is refused for sliding windows', () => {
    const { merge: _merge, ...noMerge } = { createAccumulator: () => 0, add: (e: Ev, a: number) => a + e.v, getResult: (a: number) => a, merge: undefined };
    expect(() => new AlignedWindowOperator('x', (e: Ev) => e.k, slidingEventTimeWindows(10, 5), aggregateContents(noMerge), () => {})).toThrow(/merge/);
  });
});

describe('window state survives snapshot and restore', () => {
  const r = new SeededRandom().reset(9, 0);
  const steps: Step<Ev>[] = [];
  for (let i = 0; i < 200; i++) {
    steps.push(e(`k${r.int(5)}`, r.int(10), i * 5 - r.int(40)));
    if (i % 7 === 6) steps.push({ watermark: i * 5 - 10 });
  }
  steps.push({ endInput: true });
  const keyOf = (x: Ev): string => x.k;

  for (const mode of MODES) {
    for (const [from, to, parts] of [['heap', 'lmdb', 1], ['lmdb', 'heap', 1], ['lmdb', 'lmdb', 2]] as const) {
      it(`sliding ${mode}: ${from} -> ${to} in ${parts} part(s), the same output as without a restore`, async () => {
        const create = windowSum(slidingEventTimeWindows(40, 10), mode, { allowedLatenessMs: 10, lateTag });
        const straight = await runScript(create, steps, { backend: from, sideTags: [lateTag] });
        const restored = await runScript(create, steps, { backend: from, restoreBackend: to, restoreAt: 111, restoreInto: parts, keyOf, sideTags: [lateTag] });
        expect(finalResults(restored.output)).toEqual(finalResults(straight.output));
        const fmt = (o: { value: WindowSum }[]): string[] => o.map((x) => JSON.stringify(x.value)).sort();
        expect(fmt(restored.output)).toEqual(fmt(straight.output));
        expect(restored.side.get('late')!.length).toBe(straight.side.get('late')!.length);
        expect(straight.output.some((o) => o.value.firing === 'late')).toBe(true);
      });
    }
  }
});
