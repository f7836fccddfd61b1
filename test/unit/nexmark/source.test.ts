/**
 * The Nexmark source reader: subtasks together produce every event exactly once, each as the
 * single generator makes it, with its dateTime as timestamp; positions survive a snapshot and a
 * restore at another parallelism.
 */
import { describe, expect, it } from 'vitest';
import type { SourceOutput, SourceReader } from '../../../connectors/source.ts';
import { OperatorStateStore, redistributeOperatorState, type OperatorStateHandle } from '../../../state/operator-state.ts';
import { generate, maxOutOfOrderMs, nexmarkConfig } from '../../../jobs/nexmark/generator/index.ts';
import type { Event } from '../../../jobs/nexmark/model.ts';
import { nexmarkSource, nexmarkWatermarks } from '../../../jobs/nexmark/source.ts';

const EVENTS = 5_000;
const config = { seed: 7 };

interface Emitted {
  n: number;
  event: Event;
  timestamp: number | undefined;
  split: number | undefined;
}

const source = nexmarkSource<{ n: number; event: Event }>({ config, events: EVENTS, splits: 8, select: (event, n) => ({ n, event }) });

async function readers(parallelism: number, restore?: OperatorStateHandle[]): Promise<{ reader: SourceReader<{ n: number; event: Event }>; store: OperatorStateStore }[]> {
  return Promise.all(
    Array.from({ length: parallelism }, async (_, subtask) => {
      const store = new OperatorStateStore('nexmark', subtask, restore?.[subtask]);
      const reader = await source.createReader({ subtaskIndex: subtask, parallelism, operatorState: store, restored: restore !== undefined });
      return { reader, store };
    }),
  );
}

async function drain(reader: SourceReader<{ n: number; event: Event }>, into: Emitted[], maxPolls = Infinity, batch = 100): Promise<boolean> {
  const out: SourceOutput<{ n: number; event: Event }> = { collect: (v, timestamp, split) => into.push({ n: v.n, event: v.event, timestamp, split }) };
  for (let i = 0; i < maxPolls; i++) if ((await reader.poll(out, batch)) === 'end') return true;
  return false;
}

function checkExactlyOnce(emitted: Emitted[]): void {
  const expected = [...generate(config, 0, EVENTS)];
  const byN = [...emitted].sort((a, b) => a.n - b.n);
  expect(byN.map((e) => e.n)).toEqual(expected.map((_, i) => i));
  byN.forEach((e, i) => {
    expect(e.event).toEqual(expected[i]);
    expect(e.timestamp).toBe(expected[i]!.dateTime);
  });
}

describe('nexmark source', () => {
  it.each([1, 2, 3, 8])('at parallelism %i emits every event once, as the single generator does', async (parallelism) => {
    const emitted: Emitted[] = [];
    for (const { reader } of await readers(parallelism)) expect(await drain(reader, emitted)).toBe(true);
    checkExactlyOnce(emitted);
  });

  it('at parallelism 1 emits in stream order', async () => {
    const emitted: Emitted[] = [];
    const [{ reader }] = await readers(1);
    await drain(reader!, emitted);
    expect(emitted.map((e) => e.n)).toEqual(Array.from({ length: EVENTS }, (_, i) => i));
  });

  it.each([
    [2, 3],
    [3, 1],
    [1, 4],
  ])('continues after a snapshot at parallelism %i restored at %i, every event exactly once', async (before, after) => {
    const emitted: Emitted[] = [];
    const first = await readers(before);
    for (const { reader } of first) expect(await drain(reader, emitted, 7, 50)).toBe(false);
    const handles = first.map(({ reader, store }) => {
      reader.snapshotState?.(1);
      return store.snapshot(1);
    });
    // Records emitted after the snapshot are replayed after the restore: drop them, as a failover does.
    for (const { reader } of first) await drain(reader, [], 3, 50);
    const restored = await readers(after, redistributeOperatorState(handles, after));
    for (const { reader } of restored) expect(await drain(reader, emitted)).toBe(true);
    checkExactlyOnce(emitted);
  });

  it('has one watermark split per owned split and a bound that makes no event late', async () => {
    const [a, b] = await readers(2);
    expect(a!.reader.splits).toBe(4);
    expect(b!.reader.splits).toBe(4);
    const strategy = nexmarkWatermarks(config);
    expect(strategy.outOfOrdernessMs).toBe(maxOutOfOrderMs(nexmarkConfig(config)));
    expect(strategy.timestampOf).toBeUndefined();
    // Per split, watermark = largest time seen - bound - 1 must stay below every later event's time.
    const emitted: Emitted[] = [];
    await drain(a!.reader, emitted);
    const maxBySplit = new Map<number, number>();
    for (const e of emitted) {
      const wm = (maxBySplit.get(e.split!) ?? -Infinity) - strategy.outOfOrdernessMs - 1;
      expect(e.timestamp!).toBeGreaterThan(wm);
      maxBySplit.set(e.split!, Math.max(maxBySplit.get(e.split!) ?? -Infinity, e.timestamp!));
    }
  });

  it('rejects a parallelism above its splits, naming the setting', async () => {
    const store = new OperatorStateStore('nexmark', 0);
    expect(() => source.createReader({ subtaskIndex: 0, parallelism: 9, operatorState: store, restored: false })).toThrow(/splits/);
    expect(() => nexmarkSource({ events: -1 })).toThrow(/nexmark.events/);
    expect(() => nexmarkSource({ events: 10, config: { seed: 1.5 } })).toThrow(/nexmark.seed/);
  });
});
