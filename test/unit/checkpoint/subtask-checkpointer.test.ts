/**
 * The task's side of a checkpoint: which state each node writes. In the final checkpoint of a
 * bounded job, operators that finished write no keyed state (FLIP-147) but keep their operator state
 * (a sink's pending commits); every other snapshot, and a task whose input has not ended, writes both.
 */
import { describe, expect, it } from 'vitest';
import { SubtaskCheckpointer } from '../../../runtime/checkpoint/subtask-checkpointer.ts';
import type { TaskSnapshot } from '../../../runtime/checkpoint/metadata.ts';
import type { SnapshotKind } from '../../../runtime/checkpoint/snapshot-kind.ts';
import type { ChannelEvent } from '../../../runtime/exchange/channel-event.ts';
import type { StreamNode } from '../../../runtime/graph/stream-graph.ts';
import { ChainNode, OperatorChain } from '../../../runtime/task/operator-chain.ts';
import { HeapKeyedStateBackend } from '../../../state/heap/heap-backend.ts';
import { OperatorStateStore, valueState } from '../../../state/index.ts';
import { LocalCheckpointStorage } from '../../../state/checkpoint-storage/local.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MAX_PARALLELISM = 128;

/** A chain of one keyed node with a counter in keyed state and a list in operator state. */
function task(dir: string, inputEnded: boolean) {
  const node = new ChainNode({ id: 1, name: 'count' } as StreamNode, 'count');
  const storage = new LocalCheckpointStorage({ root: dir, jobId: 'job', retainedCheckpoints: 3 });
  const keyed = new HeapKeyedStateBackend({ keyGroupRange: { start: 0, end: MAX_PARALLELISM - 1 }, maxParallelism: MAX_PARALLELISM, storage, operatorUid: 'count' });
  const counts = keyed.getValueState(valueState<number>('n'));
  for (let k = 0; k < 10; k++) {
    keyed.setCurrentKey(`k${k}`, k);
    counts.update(k);
  }
  node.keyedState = keyed;
  const operatorState = new OperatorStateStore('count', 0);
  operatorState.getListState<string>('pending-commits').update(['txn-7']);
  const events: ChannelEvent[] = [];
  const acks: TaskSnapshot[] = [];
  let acked: () => void = () => {};
  const ackedOnce = new Promise<void>((resolve) => (acked = resolve));
  const checkpointer = new SubtaskCheckpointer(
    {
      chain: new OperatorChain([node], 0),
      subtask: 0,
      aligned: true,
      sourceReader: () => undefined,
      operatorStates: () => new Map([[1, operatorState]]),
      broadcast: (e) => events.push(e),
      inputEnded: () => inputEnded,
    },
    {
      onCheckpointAck: (_id, s) => {
        acks.push(s);
        acked();
      },
      onCheckpointDeclined: (_id, reason) => {
        throw new Error(reason);
      },
    },
  );
  return {
    async checkpoint(id: number, kind: SnapshotKind) {
      await checkpointer.checkpoint(id, 0, kind);
      await ackedOnce;
      return { snapshot: acks[0]!, barrier: events.at(-1) };
    },
  };
}

describe('SubtaskCheckpointer', () => {
  const cases: [SnapshotKind, boolean, boolean][] = [
    ['final-checkpoint', true, false],
    ['final-checkpoint', false, true],
    ['checkpoint', true, true],
    ['checkpoint', false, true],
    ['drain-savepoint', true, true],
    ['stop-savepoint', true, true],
    ['savepoint', true, true],
  ];
  it.each(cases)('%s with the input ended %s: keyed state written %s; operator state always', async (kind, ended, writesKeyed) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-subtask-checkpointer-'));
    try {
      const { snapshot, barrier } = await task(dir, ended).checkpoint(4, kind);
      expect(barrier).toEqual({ kind: 'barrier', checkpointId: 4, aligned: true, snapshot: kind });
      const state = snapshot.nodes['count']!;
      expect(state.operator?.states['pending-commits']?.elements).toHaveLength(1);
      if (writesKeyed) {
        expect(state.finished).toBeUndefined();
        expect(state.keyed?.keyGroups.length).toBe(10);
        expect(snapshot.bytes).toBeGreaterThan(0);
      } else {
        expect(state.finished).toBe(true);
        expect(state.keyed).toBeUndefined();
        expect(snapshot.bytes).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
