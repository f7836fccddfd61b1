import { describe, expect, it } from 'vitest';
import { PendingPanes } from '../../../operators/window/pending-panes.ts';

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Holds `starts` (in this order) for key `k` of a fresh PendingPanes, each pane's accumulator `a<start>`. */
function holding(starts: readonly number[]): { pending: PendingPanes<string, string>; entry: ReturnType<PendingPanes<string, string>['entry']> } {
  const pending = new PendingPanes<string, string>();
  pending.begin();
  const entry = pending.entry('k');
  for (const start of starts) {
    pending.open(entry, 0, start, start, 0, `a${start}`, true, true);
    pending.written(entry);
    pending.hold(entry);
  }
  pending.end();
  return { pending, entry };
}

describe('PendingPanes.dropAll', () => {
  it('drops the held panes among those given, keeps the others in order, and returns the ones it did not hold', () => {
    const next = random(17);
    for (let round = 0; round < 2000; round++) {
      // Held panes: mostly in order (records in order), sometimes shuffled.
      const count = Math.floor(next() * 20);
      const starts = [...new Set(Array.from({ length: count }, () => Math.floor(next() * 30) * 1000))];
      if (next() < 0.7) starts.sort((a, b) => a - b);
      const { pending, entry } = holding(starts);
      // Dropped: ascending, some held and some not (in state).
      const dropped = [...new Set(Array.from({ length: Math.floor(next() * 12) + 1 }, () => Math.floor(next() * 30) * 1000))].sort((a, b) => a - b);
      if (next() < 0.5) {
        // The common case: the oldest held panes, in order.
        const sorted = [...starts].sort((a, b) => a - b);
        dropped.splice(0, dropped.length, ...sorted.slice(0, Math.max(1, Math.floor(next() * sorted.length))));
        if (dropped.length === 0) dropped.push(0);
      }
      const given = [...dropped];
      const notHeld = pending.dropAll(entry, dropped);
      const kept = starts.filter((s) => !given.includes(s));
      expect(entry.heldStarts ?? []).toEqual(kept);
      expect(entry.heldAccs ?? []).toEqual(kept.map((s) => `a${s}`));
      expect(dropped.slice(0, notHeld)).toEqual(given.filter((s) => !starts.includes(s)));
      expect(pending.heldCount).toBe(kept.length);
    }
  });

  it('a pane is not held once dropped, and one after every pane held is found without a search', () => {
    const { pending, entry } = holding([1000, 2000, 3000]);
    expect(pending.heldIndex(entry, 2000)).toBe(1);
    expect(pending.dropAll(entry, [1000, 2000])).toBe(0);
    expect(pending.heldIndex(entry, 2000)).toBe(-1);
    expect(pending.heldIndex(entry, 3000)).toBe(0);
    expect(pending.heldIndex(entry, 4000)).toBe(-1);
  });
});
