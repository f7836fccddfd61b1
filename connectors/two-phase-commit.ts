/**
 * The exactly-once sink contract (see docs/two-phase-commit.md). A sink implements a
 * `TransactionalBackend` (begin, write, preCommit, commit, abort, abortLingering); `TwoPhaseCommitWriter`
 * runs it inside the checkpoint protocol:
 *
 *   records       -> written into the open transaction (begun lazily with the next checkpoint id)
 *   barrier n     -> preCommit the open transaction; it joins the pending list in operator state.
 *                    The same for a checkpoint and a savepoint: the writer need not know which.
 *   n complete    -> commit every pending transaction of checkpoints <= n (idempotent), in id order.
 *                    Never called for an intermediate savepoint (it commits no side effects) nor for
 *                    an aborted checkpoint: their transactions stay pending, are listed in the next
 *                    checkpoint's state, and commit when that one completes (Flink's Sink V2
 *                    committer: commit up to n). Called for a stop-savepoint, after which the job ends.
 *   restore at r  -> commit what the restored state lists as pending (r completed, or r is a
 *                    savepoint the job is started from), then abortLingering(r): transactions begun
 *                    after r that no state knows of, e.g. an intermediate savepoint's taken after the
 *                    checkpoint a failover went back to (r = 0 on a start without state)
 *   end of input  -> with checkpointing off, one final preCommit + commit
 */
import type { Operator, OperatorContext } from '../operators/operator.ts';
import type { OperatorListState } from '../state/operator-state.ts';
import type { Sink } from './sink.ts';

export interface TransactionContext {
  subtaskIndex: number;
  parallelism: number;
}

export interface TransactionalBackend<T, Txn> {
  /** Opens the transaction to be pre-committed at checkpoint `checkpointId` or later; Txn is plain data. */
  begin(checkpointId: number, ctx: TransactionContext): Txn | Promise<Txn>;
  write(txn: Txn, values: readonly T[]): void | Promise<void>;
  /** Makes the transaction durable but not visible (flush files, PREPARE). */
  preCommit(txn: Txn): Promise<void>;
  /** Makes it visible. Must be idempotent: committing a committed transaction is harmless. */
  commit(txn: Txn): Promise<void>;
  abort(txn: Txn): Promise<void>;
  /**
   * After a restore from checkpoint `restoredId`: abort transactions of this subtask (and of old
   * subtasks that no longer exist, for `subtask + k * parallelism`) begun after `restoredId`.
   */
  abortLingering(restoredId: number, ctx: TransactionContext): Promise<void>;
  close?(): void | Promise<void>;
}

interface PendingTxn<Txn> {
  checkpointId: number;
  txn: Txn;
}

export class TwoPhaseCommitWriter<T, Txn> implements Operator<T, never> {
  private current: Txn | undefined;
  private pending: PendingTxn<Txn>[] = [];
  private state!: OperatorListState<PendingTxn<Txn>>;
  /** The last checkpoint id each subtask saw, as union state: after a restore, the max is where lingering transactions start. */
  private checkpoints!: OperatorListState<number>;
  private restoredFrom = 0;
  private lastCheckpoint = 0;
  private ctx!: TransactionContext;

  constructor(
    readonly name: string,
    private readonly backend: TransactionalBackend<T, Txn>,
  ) {}

  async open(op: OperatorContext<never>): Promise<void> {
    this.ctx = { subtaskIndex: op.subtaskIndex, parallelism: op.parallelism };
    this.state = op.operatorState.getListState<PendingTxn<Txn>>('two-phase-commit-pending');
    const restored = this.state.get();
    // What the restored checkpoint pre-committed is part of a completed checkpoint: commit it.
    for (const p of restored.sort((a, b) => a.checkpointId - b.checkpointId)) {
      await this.backend.commit(p.txn);
      this.restoredFrom = Math.max(this.restoredFrom, p.checkpointId);
    }
    this.state.update([]);
    this.checkpoints = op.operatorState.getUnionListState<number>('two-phase-commit-checkpoint');
    const seen = this.checkpoints.get();
    if (seen.length > 0) this.restoredFrom = Math.max(this.restoredFrom, ...seen);
    this.lastCheckpoint = this.restoredFrom;
    // Also on a start without state (0): an attempt that died before its first checkpoint completed
    // may have pre-committed transactions no state knows of.
    await this.backend.abortLingering(this.restoredFrom, this.ctx);
  }

  async processBatch(values: readonly T[]): Promise<void> {
    if (values.length === 0) return;
    this.current ??= await this.backend.begin(this.lastCheckpoint + 1, this.ctx);
    await this.backend.write(this.current, values);
  }

  async snapshotState(checkpointId: number): Promise<void> {
    if (this.current !== undefined) {
      await this.backend.preCommit(this.current);
      this.pending.push({ checkpointId, txn: this.current });
      this.current = undefined;
    }
    this.lastCheckpoint = checkpointId;
    this.state.update(this.pending);
    this.checkpoints.update([checkpointId]);
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    const due = this.pending.filter((p) => p.checkpointId <= checkpointId);
    if (due.length === 0) return;
    for (const p of due) await this.backend.commit(p.txn);
    this.pending = this.pending.filter((p) => p.checkpointId > checkpointId);
    this.state.update(this.pending);
  }

  async close(): Promise<void> {
    await this.backend.close?.();
  }
}

/** A sink from a transactional backend factory (one backend per subtask). */
export function twoPhaseCommitSink<T, Txn>(name: string, createBackend: () => TransactionalBackend<T, Txn>): Sink<T> {
  return { name, createWriter: () => new TwoPhaseCommitWriter<T, Txn>(name, createBackend()) };
}
