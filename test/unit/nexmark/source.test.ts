/**
 * The Nexmark source: subtasks together produce every event exactly once, each as the single
 * generator makes it, with its dateTime as timestamp; split positions survive a snapshot and a
 * restore at another parallelism (run through the source harness: enumerator + readers).
 */
import { describe, expect, it } from 'vitest';
import { generate, maxOutOfOrderMs, nexmarkConfig } from '../../../jobs/nexmark/generator/index.ts';
import type { Event } from '../../../jobs/nexmark/model.ts';
import { nexmarkSource, nexmarkWatermarks } from '../../../jobs/nexmark/source.ts';
import { SourceHarness, type Emitted, type SourceSnapshot } from '../../harness/source-harness.ts';

const EVENTS = 5_000;
const config = { seed: 7 };
type Rec = { n: number; event: Event };

const source = nexmarkSource<Rec>({ config, events: EVENTS, splits: 8, select: (event, n) => ({ n, event }) });

function harness(parallelism: number, restore?: SourceSnapshot): Promise<SourceHarness<Rec, never, never>> {
  return new SourceHarness(source, parallelism, restore).start() as unknown as Promise<SourceHarness<Rec, never, never>>;
}

function checkExactlyOnce(emitted: Emitted<Rec>[]): void {
  const expected = [...generate(config, 0, EVENTS)];
  const byN = [...emitted].sort((a, b) => a.value.n - b.value.n);
  expect(byN.map((e) => e.value.n)).toEqual(expected.map((_, i) => i));
  byN.forEach((e, i) => {
    expect(e.value.event).toEqual(expected[i]);
    expect(e.timestamp).toBe(expected[i]!.dateTime);
  });
}

describe('nexmark source', () => {
  it.each([1, 2, 3, 8])('at parallelism %i emits every event once, as the single generator does', async (parallelism) => {
    const h = await harness(parallelism);
    for (let i = 0; i < parallelism; i++) expect(await h.drain(i)).toBe(true);
    checkExactlyOnce(h.emitted());
  });

  it('at parallelism 1 emits in stream order', async () => {
    const h = await harness(1);
    await h.drain(0);
    expect(h.emitted().map((e) => e.value.n)).toEqual(Array.from({ length: EVENTS }, (_, i) => i));
  });

  it.each([
    [2, 3],
    [3, 1],
    [1, 4],
  ])('continues after a snapshot at parallelism %i restored at %i, every event exactly once', async (before, after) => {
    const first = await harness(before);
    for (let i = 0; i < before; i++) expect(await first.drain(i, 7, 50)).toBe(false);
    const kept = first.emitted();
    const snapshot = first.snapshot(1);
    // Records emitted after the snapshot are replayed after the restore: drop them, as a failover does.
    for (let i = 0; i < before; i++) await first.drain(i, 3, 50);
    const restored = await harness(after, snapshot);
    for (let i = 0; i < after; i++) expect(await restored.drain(i)).toBe(true);
    checkExactlyOnce([...kept, ...restored.emitted()]);
  });

  it('emits each split under its own id, with a bound that makes no event late per split', async () => {
    const h = await harness(2);
    expect(h.events[0]![0]).toMatchObject({ type: 'add-splits' });
    expect((h.events[0]![0] as { splits: unknown[] }).splits).toHaveLength(4);
    const strategy = nexmarkWatermarks(config);
    expect(strategy.outOfOrdernessMs).toBe(maxOutOfOrderMs(nexmarkConfig(config)));
    expect(strategy.timestampOf).toBeUndefined();
    await h.drain(0);
    const emitted = h.emitted(0);
    expect(new Set(emitted.map((e) => e.split)).size).toBe(4);
    // Per split, watermark = largest time seen - bound - 1 must stay below every later event's time.
    const maxBySplit = new Map<string, number>();
    for (const e of emitted) {
      const wm = (maxBySplit.get(e.split) ?? -Infinity) - strategy.outOfOrdernessMs - 1;
      expect(e.timestamp!).toBeGreaterThan(wm);
      maxBySplit.set(e.split, Math.max(maxBySplit.get(e.split) ?? -Infinity, e.timestamp!));
    }
    // Every split finished and was released, so none holds the watermark back.
    expect(h.outputs[0]!.released.sort()).toEqual([...new Set(emitted.map((e) => e.split))].sort());
  });

  it('rejects a parallelism above its splits, naming the setting', async () => {
    await expect(new SourceHarness(source, 9).start()).rejects.toThrow(/splits/);
    expect(() => nexmarkSource({ events: -1 })).toThrow(/nexmark.events/);
    expect(() => nexmarkSource({ events: 10, config: { seed: 1.5 } })).toThrow(/nexmark.seed/);
  });
});
