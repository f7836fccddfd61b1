/**
 * The sequence reader (datagen, Nexmark) takes its splits in turn, one index each, so at parallelism
 * 1 its records come out in index order. A restore must continue in that same order: a changelog
 * source (an +I and later a -U of the same row) relies on it, and a reader that restarted its turn
 * at the first split would emit a later index before an earlier one.
 */
import { describe, expect, it } from 'vitest';
import { datagen } from '../../../connectors/datagen/index.ts';
import type { ReaderOutput, SourceReader, SourceReaderContext } from '../../../runtime/source/contract.ts';
import type { SequenceSplit } from '../../../connectors/datagen/sequence.ts';

const ctx: SourceReaderContext = { subtaskIndex: 0, parallelism: 1, sendSplitRequest: () => {} };

function collecting(into: number[]): ReaderOutput<number> {
  const out = { collect: (v: number) => void into.push(v) };
  return { forSplit: () => out, releaseSplit: () => {} };
}

/** Polls `reader` `max` records at a time until it emitted `limit` records or ended. */
function drain(reader: SourceReader<number, SequenceSplit>, into: number[], max: number, limit = Infinity): void {
  const output = collecting(into);
  while (into.length < limit && reader.poll(output, Math.min(max, limit - into.length)) !== 'end') {}
}

describe('sequence reader', () => {
  const source = () => datagen({ count: 500, splits: 8, generate: (i) => i });
  const fresh = (): SourceReader<number, SequenceSplit> => {
    const reader = source().createReader(ctx);
    reader.addSplits(Array.from({ length: 8 }, (_, j) => ({ id: `split-${j}`, index: j, next: j })));
    reader.notifyNoMoreSplits();
    return reader;
  };

  it('emits in index order at parallelism 1', () => {
    const all: number[] = [];
    drain(fresh(), all, 7);
    expect(all).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('continues in index order after a restore from a snapshot taken in the middle of a turn over the splits', () => {
    for (const at of [1, 13, 100, 203, 499]) {
      const before: number[] = [];
      const first = fresh();
      drain(first, before, 5, at);
      const restored = source().createReader(ctx);
      restored.addSplits(first.snapshotState(1));
      restored.notifyNoMoreSplits();
      const after: number[] = [];
      drain(restored, after, 5);
      expect([...before, ...after]).toEqual(Array.from({ length: 500 }, (_, i) => i));
    }
  });
});
