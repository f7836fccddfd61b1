/**
 * The interval join's buffers live in memory between barriers and move to keyed state at each
 * one; past a bound, records go to state on arrival. Whatever the mix (memory, state, a restore
 * into the other backend mid-stream), the join emits exactly the pairs a brute-force join of the
 * records that were not late yields, each once. The join function gets copies of buffered records.
 */
import { describe, expect, it } from 'vitest';
import { IntervalJoinOperator } from '../../../operators/join/interval-join.ts';
import { OperatorHarness } from '../../harness/operator-harness.ts';

interface Ev {
  key: string;
  id: number;
  tag?: string;
}

function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LOWER = -3;
const UPPER = 5;
const op = (maxBuffered?: number) => () =>
  new IntervalJoinOperator<Ev, Ev, string>('interval', { lowerMs: LOWER, upperMs: UPPER, join: (l, r) => `${l.id}-${r.id}` }, [(e) => (e as Ev).key, (e) => (e as Ev).key], maxBuffered);

interface Step {
  side: 0 | 1;
  evs: Ev[];
  times: number[];
  watermark: number;
  barrier: boolean;
}

/** Batches of 1-8 records of 4 keys on alternating sides, up to 6 ms out of order; a watermark after each. */
function script(seed: number): Step[] {
  const rnd = random(seed);
  const steps: Step[] = [];
  let clock = 0;
  let id = 0;
  for (let s = 0; s < 120; s++) {
    const n = 1 + Math.floor(rnd() * 8);
    const evs: Ev[] = [];
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      clock += rnd() < 0.5 ? 1 : 0;
      evs.push({ key: `k${Math.floor(rnd() * 4)}`, id: id++ });
      times.push(clock - Math.floor(rnd() * 7));
    }
    steps.push({ side: rnd() < 0.5 ? 0 : 1, evs, times, watermark: clock - 4, barrier: rnd() < 0.1 });
  }
  return steps;
}

/** Every pair of records that were not late on arrival, brute force. */
function expectedPairs(steps: Step[]): string[] {
  const seen: [Ev, number][][] = [[], []];
  let watermark = -Infinity;
  for (const s of steps) {
    s.evs.forEach((e, i) => {
      if (s.times[i]! > watermark) seen[s.side]!.push([e, s.times[i]!]);
    });
    watermark = Math.max(watermark, s.watermark);
  }
  const out: string[] = [];
  for (const [l, lt] of seen[0]!) for (const [r, rt] of seen[1]!) if (l.key === r.key && rt - lt >= LOWER && rt - lt <= UPPER) out.push(`${l.id}-${r.id}`);
  return out.sort();
}

for (const backend of ['heap', 'lmdb'] as const) {
  describe(`interval join buffers (${backend} state)`, () => {
    for (const [label, maxBuffered, restoreAt] of [
      ['in memory', undefined, -1],
      ['in memory, restored into the other backend at a barrier', undefined, 3],
      ['past a bound of 6 records, in state', 6, -1],
      ['past a bound of 6 records, restored into the other backend at a barrier', 6, 2],
    ] as const) {
      it(`emit exactly the pairs of a brute-force join: ${label}`, async () => {
        for (const seed of [1, 2, 3]) {
          const steps = script(seed);
          let h = new OperatorHarness<Ev, string>(op(maxBuffered), { backend });
          const got: string[] = [];
          let barriers = 0;
          for (const s of steps) {
            await h.processBatch(s.evs, s.times, s.side);
            await h.processWatermark(s.watermark);
            if (!s.barrier) continue;
            const snap = await h.snapshot();
            if (++barriers !== restoreAt) continue;
            got.push(...h.values());
            await h.close();
            h = new OperatorHarness<Ev, string>(op(maxBuffered), { backend: backend === 'heap' ? 'lmdb' : 'heap' });
            await h.initializeState(snap);
            // Watermarks are not state: the restored operator gets the last one again (as sources re-emit theirs).
            await h.processWatermark(s.watermark);
          }
          await h.processWatermark(Infinity);
          got.push(...h.values());
          // Nothing is left behind once the watermark passed everything.
          expect([...h.keyedState!.keys('interval-join-left')].length + [...h.keyedState!.keys('interval-join-right')].length).toBe(0);
          await h.close();
          const expected = expectedPairs(steps);
          expect(expected.length).toBeGreaterThan(100);
          expect(got.sort()).toEqual(expected);
        }
      });
    }

    it('hands the join function copies of buffered records', async () => {
      const h = new OperatorHarness<Ev, string>(
        () =>
          new IntervalJoinOperator<Ev, Ev, string>(
            'interval',
            {
              lowerMs: 0,
              upperMs: 10,
              join: (l, r) => {
                const out = `${l.id}${l.tag ?? ''}-${r.id}`;
                l.tag = '!';
                return out;
              },
            },
            [(e) => (e as Ev).key, (e) => (e as Ev).key],
          ),
        { backend },
      );
      await h.processBatch([{ key: 'a', id: 1 }], [0], 0);
      await h.processBatch([{ key: 'a', id: 2 }, { key: 'a', id: 3 }], [1, 2], 1);
      expect(h.values()).toEqual(['1-2', '1-3']);
      await h.close();
    });
  });
}
