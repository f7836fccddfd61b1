/**
 * KeptCombiners: the sliding window's combiners kept on the keys' entries between firings, what
 * they say about a key's chain of 'f' timers (coveredByChain), and the bound on the panes they hold
 * in all. Slide 1 s; window ends in ms.
 */
import { describe, expect, it } from 'vitest';
import { KeptCombiners, type KeepsPanes } from '../../../operators/window/kept-combiners.ts';
import { PaneCombiner } from '../../../operators/window/pane-combiner.ts';
import { aggregateContents } from '../../../operators/window/window-contents.ts';

const count = aggregateContents<unknown, number, number>({ createAccumulator: () => 0, add: (_v, a) => a + 1, merge: (a, b) => a + b, getResult: (a) => a });

function combinerOf(panes: number): PaneCombiner<number> {
  const c = new PaneCombiner<number>(count);
  for (let p = 0; p < panes; p++) c.push(p * 1000, 1);
  return c;
}

/** A key whose last firing went through window end `through`, its chain sure to reach `reach`. */
function keyWithChain(kept: KeptCombiners<number>, through: number, reach: number): KeepsPanes<number> {
  const key: KeepsPanes<number> = { kept: undefined };
  kept.fired(key, combinerOf(2), 0, through, reach);
  return key;
}

describe('KeptCombiners', () => {
  it('a key without a kept combiner: every new pane registers its own timer', () => {
    const kept = new KeptCombiners<number>(1000);
    expect(kept.coveredByChain({ kept: undefined }, 11_000, 20_000)).toBe(false);
  });

  it('records in order: panes within the reach need no timer, and each extends the reach to its last window', () => {
    const kept = new KeptCombiners<number>(1000);
    const key = keyWithChain(kept, 10_000, 19_000);
    expect(kept.coveredByChain(key, 11_000, 20_000)).toBe(true);
    expect(key.kept!.reach).toBe(20_000);
    // Right after the reach: its own timer carries the chain on, and the reach grows with it.
    expect(kept.coveredByChain(key, 21_000, 30_000)).toBe(false);
    expect(key.kept!.reach).toBe(30_000);
    expect(kept.coveredByChain(key, 22_000, 31_000)).toBe(true);
  });

  it('a window that fired already is never covered (a late pane registers its timer)', () => {
    const kept = new KeptCombiners<number>(1000);
    const key = keyWithChain(kept, 10_000, 19_000);
    expect(kept.coveredByChain(key, 10_000, 19_000)).toBe(false);
    expect(kept.coveredByChain(key, 9_000, 18_000)).toBe(false);
  });

  it('panes far ahead start a run of their own, which joins the reach once it catches up', () => {
    const kept = new KeptCombiners<number>(1000);
    const key = keyWithChain(kept, 10_000, 31_000);
    // Beyond the window after the reach: a timer of its own, the start of a run ahead.
    expect(kept.coveredByChain(key, 40_000, 49_000)).toBe(false);
    expect([key.kept!.aheadFrom, key.kept!.aheadTo]).toEqual([40_000, 49_000]);
    // Within the run ahead: covered, and the run grows.
    expect(kept.coveredByChain(key, 41_000, 50_000)).toBe(true);
    expect(key.kept!.aheadTo).toBe(50_000);
    // A gap between the reach and the run stays uncovered until panes fill it.
    expect(kept.coveredByChain(key, 32_000, 41_000)).toBe(false);
    expect(key.kept!.reach).toBe(41_000);
    // Now the reach meets the run: they join, and the run's windows are covered.
    expect(kept.coveredByChain(key, 50_000, 59_000)).toBe(true);
    expect(key.kept!.reach).toBe(59_000);
    expect(Number.isNaN(key.kept!.aheadFrom)).toBe(true);
  });

  it('a record for a pane before the windows fired drops the key\'s combiner; a later one keeps it', () => {
    const kept = new KeptCombiners<number>(1000);
    const early = keyWithChain(kept, 10_000, 19_000);
    kept.forgetPanesBefore(early, 9_000);
    expect(early.kept).toBeUndefined();
    const later = keyWithChain(kept, 10_000, 19_000);
    kept.forgetPanesBefore(later, 10_000);
    expect(later.kept).toBeDefined();
  });

  it('a firing moves the kept combiner on; one that empties it ends the chain', () => {
    const kept = new KeptCombiners<number>(1000);
    const key = keyWithChain(kept, 10_000, 19_000);
    const c = key.kept!.combiner;
    kept.fired(key, c, c.size, 12_000, 15_000);
    expect([key.kept!.through, key.kept!.reach]).toEqual([12_000, 19_000]);
    expect(key.kept!.combiner).toBe(c);
    kept.emptied(key, c.size);
    expect(key.kept).toBeUndefined();
  });

  it('keeps at most 2^18 panes in all: beyond, a key keeps none until others are dropped or forgotten', () => {
    const kept = new KeptCombiners<number>(1000);
    const big: KeepsPanes<number> = { kept: undefined };
    kept.fired(big, combinerOf(1 << 18), 0, 10_000, 19_000);
    expect(big.kept).toBeDefined();
    const small: KeepsPanes<number> = { kept: undefined };
    kept.fired(small, combinerOf(1), 0, 10_000, 19_000);
    expect(small.kept).toBeUndefined();
    // Dropping the big one makes room.
    kept.forget(big);
    kept.fired(small, combinerOf(1), 0, 10_000, 19_000);
    expect(small.kept).toBeDefined();
    // Entries forgotten all at once take their combiners with them: the count starts again.
    kept.fired({ kept: undefined }, combinerOf((1 << 18) - 1), 0, 10_000, 19_000);
    const other: KeepsPanes<number> = { kept: undefined };
    kept.fired(other, combinerOf(1), 0, 10_000, 19_000);
    expect(other.kept).toBeUndefined();
    kept.forgetAll();
    kept.fired(other, combinerOf(1), 0, 10_000, 19_000);
    expect(other.kept).toBeDefined();
  });
});
