/**
 * Split enumerators and their host on the job manager (SourceCoordinator), run with the source
 * harness: assignment to readers as they register, splits of a failed reader going back to the
 * enumerator (addSplitsBack) and out again, discovery while running, and a rescale from 2 to 3
 * readers that moves per-split state by split.
 */
import { describe, expect, it } from 'vitest';
import { datagen } from '../../../connectors/datagen/index.ts';
import { OwnedSplitEnumerator, type OwnedSplitsState } from '../../../runtime/source/owned-split-enumerator.ts';
import type { Source, SourceReader, SourceSplit, SplitEnumeratorContext } from '../../../runtime/source/contract.ts';
import { SourceHarness } from '../../harness/source-harness.ts';
import { SourceCoordinators } from '../../../runtime/cluster/source-coordinator.ts';
import type { ReaderEvent } from '../../../runtime/source/contract.ts';

interface PartitionSplit extends SourceSplit {
  partition: number;
  offset: number;
}

/** A source whose partitions are discovered while it runs (as Kafka's are): `discover` adds them. */
function discoveringSource(): { source: Source<string, PartitionSplit, OwnedSplitsState<PartitionSplit>>; enumerators: OwnedSplitEnumerator<PartitionSplit>[] } {
  const enumerators: OwnedSplitEnumerator<PartitionSplit>[] = [];
  const make = (ctx: SplitEnumeratorContext<PartitionSplit>, state: OwnedSplitsState<PartitionSplit>) => {
    const e = new OwnedSplitEnumerator<PartitionSplit>(ctx, (s, p) => s.partition % p, state);
    enumerators.push(e);
    return e;
  };
  const reader = (): SourceReader<string, PartitionSplit> => {
    const held: PartitionSplit[] = [];
    return {
      addSplits: (s) => void held.push(...s.map((x) => ({ ...x }))),
      notifyNoMoreSplits: () => {},
      poll: () => 'wait',
      available: () => new Promise(() => {}),
      snapshotState: () => held.map((s) => ({ ...s })),
    };
  };
  return {
    enumerators,
    source: {
      name: 'partitions',
      bounded: false,
      createEnumerator: (ctx) => make(ctx, { pending: [], discoveryFinished: false }),
      restoreEnumerator: (ctx, state) => make(ctx, state),
      createReader: reader,
    },
  };
}

const partition = (p: number): PartitionSplit => ({ id: `p${p}`, partition: p, offset: 0 });
const assigned = (h: SourceHarness<unknown, SourceSplit, unknown>, subtask: number): string[] =>
  h.events[subtask]!.flatMap((e) => (e.type === 'add-splits' ? e.splits.map((s) => s.id) : []));

describe('split enumerator', () => {
  it('assigns each split to its owner when the owner registers, then says no more splits', async () => {
    const h = await new SourceHarness(datagen({ count: 60, splits: 6, generate: (i) => i }), 3).start();
    expect([0, 1, 2].map((s) => assigned(h, s))).toEqual([
      ['split-0', 'split-3'],
      ['split-1', 'split-4'],
      ['split-2', 'split-5'],
    ]);
    for (let s = 0; s < 3; s++) expect(h.events[s]!.at(-1)).toEqual({ type: 'no-more-splits' });
    await h.drainAll();
    expect(h.emitted().map((e) => e.value).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // nothing left to assign: the enumerator's checkpoint is empty
    const restored = await new SourceHarness(datagen({ count: 60, splits: 6, generate: (i) => i }), 3, h.snapshot(1)).start();
    expect([0, 1, 2].map((s) => assigned(restored, s))).toEqual([[], [], []]);
  });

  it('discovers splits while running and hands them to registered readers; unassigned ones are in its checkpoint', async () => {
    const { source, enumerators } = discoveringSource();
    const h = await new SourceHarness(source, 2).start();
    enumerators[0]!.addSplits([partition(0), partition(1), partition(2)]);
    expect(assigned(h, 0)).toEqual(['p0', 'p2']);
    expect(assigned(h, 1)).toEqual(['p1']);
    const snap = h.snapshot(1);
    // restored: each reader comes back with its own splits; later discoveries still reach them
    const restored = discoveringSource();
    const r = await new SourceHarness(restored.source, 2, snap).start();
    expect(r.readers.map((x) => x.snapshotState(2).map((s) => s.id).sort())).toEqual([['p0', 'p2'], ['p1']]);
    restored.enumerators[0]!.addSplits([partition(3)]);
    expect(assigned(r, 1)).toEqual(['p3']);
  });

  it('keeps splits whose reader has not registered in its checkpoint', () => {
    const sent: [number, string[]][] = [];
    const registered = new Set<number>([0]);
    const ctx: SplitEnumeratorContext<PartitionSplit> = {
      parallelism: 2,
      registeredReaders: () => registered,
      assignSplits: (subtask, splits) => void sent.push([subtask, splits.map((x) => x.id)]),
      signalNoMoreSplits: () => {},
      callAsync: () => {},
    };
    const e = new OwnedSplitEnumerator<PartitionSplit>(ctx, (x, p) => x.partition % p, { pending: [], discoveryFinished: false });
    e.addSplits([partition(0), partition(1), partition(2), partition(3)]);
    expect(sent).toEqual([[0, ['p0', 'p2']]]);
    expect(e.snapshotState().pending.map((x) => x.id)).toEqual(['p1', 'p3']);
    const back = new OwnedSplitEnumerator<PartitionSplit>(ctx, (x, p) => x.partition % p, e.snapshotState());
    registered.add(1);
    back.addReader(1);
    expect(sent.at(-1)).toEqual([1, ['p1', 'p3']]);
  });

  it('takes back the splits assigned to a failed reader since the restored checkpoint and assigns them again', async () => {
    const { source, enumerators } = discoveringSource();
    const h = await new SourceHarness(source, 2).start();
    enumerators[0]!.addSplits([partition(1)]);
    h.snapshot(1); // p1 is in reader 1's state of checkpoint 1
    enumerators[0]!.addSplits([partition(3), partition(5)]);
    h.snapshot(2);
    enumerators[0]!.addSplits([partition(7)]);
    expect(assigned(h, 1)).toEqual(['p1', 'p3', 'p5', 'p7']);
    // reader 1 fails and restarts from checkpoint 1: p3, p5 (checkpoint 2) and p7 (after it) come back
    h.coordinator.readerFailed(1, 1);
    expect(enumerators[0]!.unassigned.map((s) => s.id)).toEqual(['p3', 'p5', 'p7']);
    h.events[1] = [];
    h.coordinator.handle(1, { type: 'register' });
    expect(assigned(h, 1)).toEqual(['p3', 'p5', 'p7']);
    expect(enumerators[0]!.unassigned).toEqual([]);
  });

  it('rescales from 2 to 3 readers moving each split with its own position', async () => {
    const source = datagen({ count: 600, splits: 6, generate: (i) => i });
    const before = await new SourceHarness(source, 2).start();
    // uneven progress: reader 0 read 70 records, reader 1 read 20
    for (let i = 0; i < 7; i++) before.poll(0, 10);
    for (let i = 0; i < 2; i++) before.poll(1, 10);
    const kept = before.emitted().map((e) => e.value);
    const positions = new Map(before.readers.flatMap((r) => r.snapshotState(1)).map((s) => [s.id, (s as unknown as { next: number }).next]));
    const snap = before.snapshot(1);
    const after = await new SourceHarness(source, 3, snap).start();
    const dealt = after.readers.map((r) => r.snapshotState(2) as unknown as { id: string; next: number }[]);
    // every split is in exactly one new reader, at the position it had (no union list: no reader gets all)
    expect(dealt.map((l) => l.length)).toEqual([2, 2, 2]);
    expect(new Map(dealt.flat().map((s) => [s.id, s.next]))).toEqual(positions);
    await after.drainAll();
    const all = [...kept, ...after.emitted().map((e) => e.value)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 600 }, (_, i) => i));
  });

  it('starts a source fresh when the restored checkpoint has no state for its uid, and restores one that has', async () => {
    const spec = (uid: string) => ({ uid, name: uid, parallelism: 1, source: datagen({ count: 10, splits: 2, generate: (i) => i }) as unknown as Source<unknown, SourceSplit, unknown>, tasks: [{ taskId: uid === 'old' ? 0 : 1, subtask: 0, worker: 0 }] });
    const first = new SourceCoordinators([spec('old')], () => {}, (e) => {
      throw e;
    });
    await first.start(undefined);
    first.handle(0, { type: 'register' }); // both splits go to the reader: its state has them, the enumerator's not
    const checkpointed = first.snapshot(1);
    const delivered: [number, ReaderEvent][] = [];
    const restored = new SourceCoordinators([spec('old'), spec('new')], (_w, taskId, e) => void delivered.push([taskId, e]), (e) => {
      throw e;
    });
    await restored.start(checkpointed); // has state for 'old' only
    restored.handle(0, { type: 'register' });
    restored.handle(1, { type: 'register' });
    const splitsOf = (taskId: number) => delivered.filter(([t, e]) => t === taskId && e.type === 'add-splits').flatMap(([, e]) => (e as { splits: SourceSplit[] }).splits.map((x) => x.id));
    expect(splitsOf(0)).toEqual([]); // restored: its splits come back from the reader's state, not again from the enumerator
    expect(splitsOf(1)).toEqual(['split-0', 'split-1']); // fresh start: everything from the beginning
  });
});
