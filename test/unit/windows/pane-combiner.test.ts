/**
 * PaneCombiner against a brute-force combination: random runs of pushes, evictions and results over
 * many more panes than its compaction threshold (64 evicted), with an order-sensitive merge (string
 * concatenation) so a pane out of place or left out shows, and accumulators handed in never changed.
 */
import { describe, expect, it } from 'vitest';
import { PaneCombiner } from '../../../operators/window/pane-combiner.ts';
import type { IncrementalContents } from '../../../operators/window/window-contents.ts';
import { SeededRandom } from '../../../connectors/datagen/seeded-random.ts';

type Acc = { s: string };

const contents: IncrementalContents<unknown, Acc, string> = {
  kind: 'incremental',
  add: (a: Acc | undefined) => a ?? { s: '' },
  // Modifies its left side in place, as an aggregate may: the combiner must only hand it fresh ones.
  merge: (a: Acc, b: Acc) => {
    a.s += b.s;
    return a;
  },
  empty: () => ({ s: '' }),
  result: (a: Acc) => a.s,
  serializer: undefined,
} as unknown as IncrementalContents<unknown, Acc, string>;

describe('PaneCombiner', () => {
  for (const seed of [1, 2, 3]) {
    it(`combines the panes it holds, in order, through many compactions (seed ${seed})`, () => {
      const r = new SeededRandom().reset(seed, 0);
      const combiner = new PaneCombiner<Acc>(contents);
      const held: { start: number; acc: Acc }[] = [];
      let next = 0;
      for (let step = 0; step < 5000; step++) {
        const op = r.int(10);
        if (op < 5 || held.length === 0) {
          const acc = { s: `[${next}]` };
          combiner.push(next, acc);
          held.push({ start: next, acc });
          next++;
        } else if (op < 8) {
          expect(combiner.evict()).toBe(held.shift()!.start);
        } else {
          const expected = held.map((h) => `[${h.start}]`).join('');
          expect(combiner.result()?.s).toBe(expected);
        }
        expect(combiner.size).toBe(held.length);
        if (held.length > 0) expect([combiner.oldest(), combiner.newest()]).toEqual([held[0]!.start, held[held.length - 1]!.start]);
        // No accumulator handed in was changed (one expect per step: vitest's are slow by the million).
        expect(held.filter((h) => h.acc.s !== `[${h.start}]`)).toEqual([]);
      }
      expect(next).toBeGreaterThan(1000);
    });
  }
});
