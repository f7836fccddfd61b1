/**
 * A task's side of checkpointing (Flink's SubtaskCheckpointCoordinator): what happens on the
 * task's loop when barrier n is complete at its input (or a source is triggered), and when the
 * coordinator reports a checkpoint complete or aborted. The task decides when; this decides what.
 */
import type { OperatorStateStore } from '../../state/index.ts';
import type { ChannelEvent } from '../exchange/channel-event.ts';
import { asOperatorError, type OperatorChain } from '../task/operator-chain.ts';
import type { SubtaskState, TaskSnapshot } from './metadata.ts';
import { storageScope, type SnapshotKind } from './snapshot-kind.ts';

/** The pseudo checkpoint id that commits a bounded job's output when checkpointing is off. */
export const END_OF_INPUT_CHECKPOINT = Number.MAX_SAFE_INTEGER;

export interface CheckpointReports {
  onCheckpointAck(checkpointId: number, snapshot: TaskSnapshot): void;
  onCheckpointDeclined(checkpointId: number, reason: string): void;
}

export interface CheckpointedReader {
  snapshotState(checkpointId: number): void;
  notifyCheckpointComplete(checkpointId: number): void | Promise<void>;
}

export interface CheckpointedTask {
  readonly chain: OperatorChain;
  readonly subtask: number;
  readonly aligned: boolean;
  /** The source reader (through its driver), for a source task. */
  sourceReader(): CheckpointedReader | undefined;
  /** Operator state of the chain's nodes that have any, by node id. */
  operatorStates(): ReadonlyMap<number, OperatorStateStore>;
  /** Sends an event on every output channel, after what is buffered. */
  broadcast(event: ChannelEvent): void;
  /** The input ended and the chain's operators finished (end of input ran): only barriers and commits follow. */
  inputEnded(): boolean;
}

export class SubtaskCheckpointer {
  constructor(
    private readonly task: CheckpointedTask,
    private readonly reports: CheckpointReports,
  ) {}

  /**
   * This task's part of checkpoint `id`: operators flush and pre-commit (what they emit goes out
   * ahead of the barrier), the barrier goes downstream, then a consistent view of the state is taken
   * here, on the task's loop, and written out asynchronously while processing continues; the
   * acknowledgement follows when it is written. A savepoint's state files go to its own directory.
   * In the final checkpoint, operators that finished write no keyed state (snapshot-kind.ts).
   */
  async checkpoint(id: number, alignmentMs: number, kind: SnapshotKind = 'checkpoint'): Promise<void> {
    const { chain, subtask } = this.task;
    for (const cn of chain.nodes) {
      try {
        await cn.operator?.snapshotState?.(id);
      } catch (e) {
        // The task fails (and the job restarts from the last completed checkpoint), as in Flink with
        // no tolerated checkpoint failures: a sink writer whose pre-commit failed may have handed its
        // buffer to a transaction that is now gone, so declining and carrying on would lose those
        // records. Failures writing state (below) only decline: nothing was handed over yet.
        throw asOperatorError(e, cn, subtask, `snapshot for checkpoint ${id}`);
      }
      await chain.flushNode(cn);
    }
    this.task.sourceReader()?.snapshotState(id);
    this.task.broadcast({ kind: 'barrier', checkpointId: id, aligned: this.task.aligned, snapshot: kind });
    const scope = storageScope(kind);
    const operatorStates = this.task.operatorStates();
    // Operator state is kept: a sink's pending commits, a source's finished splits.
    const finished = kind === 'final-checkpoint' && this.task.inputEnded();
    const pending = chain.nodes.map(async (cn): Promise<[string, SubtaskState]> => {
      // Both views are taken synchronously, before the first await.
      const operator = operatorStates.get(cn.node.id)?.snapshot(id);
      if (finished && cn.keyedState) return [cn.uid, { subtask, operator, finished: true }];
      const keyed = cn.keyedState?.snapshot(id, scope);
      return [cn.uid, { subtask, operator, keyed: keyed ? await keyed : undefined }];
    });
    void Promise.all(pending).then(
      (entries) => {
        let bytes = 0;
        for (const [, s] of entries) bytes += s.keyed?.file?.size ?? 0;
        this.reports.onCheckpointAck(id, { nodes: Object.fromEntries(entries), alignmentMs, bytes });
      },
      (e: unknown) => this.reports.onCheckpointDeclined(id, `writing state failed: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /** Checkpoint `id` completed: sinks commit, sources may acknowledge upstream. */
  async complete(id: number): Promise<void> {
    const { chain, subtask } = this.task;
    for (const cn of chain.nodes) {
      try {
        await cn.operator?.notifyCheckpointComplete?.(id);
      } catch (e) {
        throw asOperatorError(e, cn, subtask, `commit of checkpoint ${id}`);
      }
    }
    await this.task.sourceReader()?.notifyCheckpointComplete(id);
    await chain.flushAll();
  }

  async abort(id: number): Promise<void> {
    for (const cn of this.task.chain.nodes) await cn.operator?.notifyCheckpointAborted?.(id);
  }

  /** Without checkpointing, a bounded job's sinks pre-commit and commit once at the end of input. */
  async commitAtEndOfInput(): Promise<void> {
    for (const cn of this.task.chain.nodes) await cn.operator?.snapshotState?.(END_OF_INPUT_CHECKPOINT);
    for (const cn of this.task.chain.nodes) await cn.operator?.notifyCheckpointComplete?.(END_OF_INPUT_CHECKPOINT);
  }
}
