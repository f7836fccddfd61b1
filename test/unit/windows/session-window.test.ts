import { describe, expect, it } from 'vitest';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { runScript, type Step } from '../../harness/script.ts';
import { eventTimeSessionWindows, processingTimeSessionWindows } from '../../../operators/window/session.ts';
import { continuousEventTimeTrigger } from '../../../operators/window/time-window.ts';
import { SessionWindowOperator } from '../../../operators/window/session-window-operator.ts';
import { aggregateContents } from '../../../operators/window/window-contents.ts';
import { SeededRandom } from '../../../connectors/datagen/seeded-random.ts';
import { finalResults, lateTag, MODES, windowSum, type Ev, type WindowSum } from './helpers.ts';

const BACKENDS = ['heap', 'lmdb'] as const;

/** Sessions per key over all events: sort by time, split where the gap to the previous end is > 0 (touching merges). */
export function bruteSessions(events: readonly { k: string; v: number; ts: number }[], gap: number): string[] {
  const byKey = new Map<string, { v: number; ts: number }[]>();
  for (const e of events) byKey.set(e.k, [...(byKey.get(e.k) ?? []), e]);
  const out: string[] = [];
  for (const [k, es] of byKey) {
    es.sort((a, b) => a.ts - b.ts);
    let start = es[0]!.ts;
    let end = start + gap;
    let sum = 0;
    for (const e of es) {
      if (e.ts > end) {
        out.push(`${k}@${start}-${end}=${sum}`);
        start = e.ts;
        sum = 0;
      }
      end = Math.max(end, e.ts + gap);
      sum += e.v;
    }
    out.push(`${k}@${start}-${end}=${sum}`);
  }
  return out.sort();
}

/** Last result per window, leaving out windows that a later, larger session of the same key replaced. */
export function finalSessions(out: readonly { value: WindowSum }[]): string[] {
  const last = new Map<string, WindowSum>();
  for (const { value: w } of out) last.set(`${w.key}@${w.start}-${w.end}`, w);
  const all = [...last.values()];
  return all
    .filter((w) => !all.some((o) => o !== w && o.key === w.key && o.start <= w.start && o.end >= w.end))
    .map((w) => `${w.key}@${w.start}-${w.end}=${w.sum}`)
    .sort();
}

describe.each(BACKENDS)('session windows (%s)', (backend) => {
  for (const mode of MODES) {
    it(`merges sessions a record bridges and fires once the gap passed (${mode})`, async () => {
      const h = new OperatorHarness(windowSum(eventTimeSessionWindows(10), mode), { backend });
      await h.processElement({ k: 'a', v: 1 }, 0); // [0, 10)
      await h.processElement({ k: 'a', v: 2 }, 15); // [15, 25)
      await h.processElement({ k: 'b', v: 7 }, 3);
      await h.processElement({ k: 'a', v: 4 }, 8); // [8, 18) bridges: [0, 25)
      await h.processWatermark(23);
      expect(h.values().map((w) => `${w.key}@${w.start}-${w.end}=${w.sum}`)).toEqual(['b@3-13=7']);
      await h.processWatermark(24);
      expect(h.values().map((w) => `${w.key}@${w.start}-${w.end}=${w.sum}`)).toEqual(['b@3-13=7', 'a@0-25=7']);
      expect(h.keyedState!.timers.size('event')).toBe(0);
      await h.close();
    });

    it(`random input equals brute-force sessions; restore in the middle changes nothing (${mode})`, async () => {
      const r = new SeededRandom().reset(4, 0);
      const steps: Step<Ev>[] = [];
      const events: { k: string; v: number; ts: number }[] = [];
      let t = 0;
      for (let i = 0; i < 250; i++) {
        t += r.int(8);
        const ev = { k: `k${r.int(4)}`, v: r.int(10), ts: t - r.int(15) };
        events.push(ev);
        steps.push({ element: { k: ev.k, v: ev.v }, ts: ev.ts });
        if (i % 9 === 8) steps.push({ watermark: t - 30 });
      }
      steps.push({ endInput: true });
      // Lateness covers the disorder: no record is dropped, some sessions fire again.
      const create = windowSum(eventTimeSessionWindows(12), mode, { allowedLatenessMs: 20, lateTag });
      const straight = await runScript(create, steps, { backend, sideTags: [lateTag] });
      expect(straight.side.get('late')).toEqual([]);
      expect(finalSessions(straight.output)).toEqual(bruteSessions(events, 12));
      const restored = await runScript(create, steps, { backend, restoreBackend: backend === 'heap' ? 'lmdb' : 'heap', restoreAt: 140, restoreInto: 2, keyOf: (e) => e.k, sideTags: [lateTag] });
      expect(finalResults(restored.output)).toEqual(finalResults(straight.output));
    });
  }

  it('a record too late for its merged session goes to the side output', async () => {
    const h = new OperatorHarness(windowSum(eventTimeSessionWindows(10), 'aggregate', { lateTag }), { backend });
    await h.processElement({ k: 'a', v: 1 }, 100);
    await h.processWatermark(50);
    await h.processElement({ k: 'a', v: 2 }, 35); // [35, 45) ended before the watermark and merges with nothing: late
    await h.processElement({ k: 'a', v: 3 }, 95); // merges into [95, 110): on time
    await h.processWatermark(200);
    expect(h.sideValues(lateTag)).toEqual([{ k: 'a', v: 2 }]);
    expect(h.values().map((w) => `${w.start}-${w.end}=${w.sum}`)).toEqual(['95-110=4']);
    await h.close();
  });

  it('early firings and processing-time sessions', async () => {
    const h = new OperatorHarness(windowSum(eventTimeSessionWindows(50), 'aggregate', { earlyFiring: continuousEventTimeTrigger(20) }), { backend });
    await h.processElement({ k: 'a', v: 1 }, 0);
    await h.processElement({ k: 'a', v: 1 }, 30);
    await h.processWatermark(200);
    expect(h.values().map((w) => `${w.firing}:${w.start}-${w.end}=${w.sum}`)).toEqual(['early:0-80=2', 'early:0-80=2', 'early:0-80=2', 'on-time:0-80=2']);
    await h.close();

    const p = new OperatorHarness(windowSum(processingTimeSessionWindows(100), 'process'), { backend, processingTime: 0 });
    await p.processElement({ k: 'a', v: 1 });
    await p.setProcessingTime(60);
    await p.processElement({ k: 'a', v: 2 });
    await p.setProcessingTime(158);
    expect(p.values()).toEqual([]);
    await p.setProcessingTime(159); // end - 1
    expect(p.values().map((w) => `${w.start}-${w.end}=${w.sum}`)).toEqual(['0-160=3']);
    await p.close();
  });

  it('an aggregate without merge is refused', () => {
    const agg = { createAccumulator: () => 0, add: (e: Ev, a: number) => a + e.v, getResult: (a: number) => a };
    expect(() => new SessionWindowOperator('x', (e: Ev) => e.k, eventTimeSessionWindows(10), aggregateContents(agg), () => {})).toThrow(/merge/);
  });
});
