/**
 * Transactional backends on Sink V2 (see docs/two-phase-commit.md and docs/connectors.md). A sink
 * that has begin / write / preCommit / commit / abort implements a `TransactionalBackend`;
 * `twoPhaseCommitSink` turns it into a Sink V2 whose writer writes transactions and whose committer
 * (beside each writer) commits them:
 *
 *   records       -> written into the open transaction (begun lazily with the next checkpoint id)
 *   barrier n     -> preCommit the open transaction; it is the committable of checkpoint n. The same
 *                    for a checkpoint and a savepoint: the writer need not know which.
 *   n complete    -> the committer commits every pending committable of checkpoints <= n (idempotent,
 *                    retried with backoff), in id order. Never called for an intermediate savepoint
 *                    (it commits no side effects) nor for an aborted checkpoint: their transactions
 *                    stay pending in the committer's state and commit when the next checkpoint
 *                    completes (Flink's Sink V2 committer: commit up to n). Called for a
 *                    stop-savepoint, after which the job ends.
 *   restore at r  -> the committer commits what the restored checkpoint or savepoint held; the writer
 *                    aborts lingering transactions begun after r that no state knows of, e.g. an
 *                    intermediate savepoint's taken after the checkpoint a failover went back to
 *                    (r = 0 on a fresh start)
 *   end of input  -> one final preCommit, committed with the final checkpoint (or at once without checkpoints)
 */
import type { Sink } from '../runtime/api/sink.ts';
import type { Committer, SinkWriter, SinkWriterContext } from '../runtime/sink/contract.ts';

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

/** The writer side: one open transaction at a time, pre-committed at each barrier. */
export class TransactionalWriter<T, Txn> implements SinkWriter<T, Txn> {
  private current: Txn | undefined;
  private lastCheckpoint: number;
  private readonly txnCtx: TransactionContext;

  private constructor(
    private readonly backend: TransactionalBackend<T, Txn>,
    ctx: SinkWriterContext,
  ) {
    this.txnCtx = { subtaskIndex: ctx.subtaskIndex, parallelism: ctx.parallelism };
    this.lastCheckpoint = ctx.restoredCheckpointId;
  }

  static async create<T, Txn>(backend: TransactionalBackend<T, Txn>, ctx: SinkWriterContext): Promise<TransactionalWriter<T, Txn>> {
    const w = new TransactionalWriter(backend, ctx);
    // Also on a start without state (0): an attempt that died before its first checkpoint completed
    // may have pre-committed transactions no state knows of.
    await backend.abortLingering(ctx.restoredCheckpointId, w.txnCtx);
    return w;
  }

  async write(values: readonly T[]): Promise<void> {
    this.current ??= await this.backend.begin(this.lastCheckpoint + 1, this.txnCtx);
    await this.backend.write(this.current, values);
  }

  async prepareCommit(checkpointId: number, endOfInput: boolean): Promise<Txn[]> {
    if (!endOfInput) this.lastCheckpoint = checkpointId;
    const txn = this.current;
    if (txn === undefined) return [];
    this.current = undefined;
    await this.backend.preCommit(txn);
    return [txn];
  }

  async close(): Promise<void> {
    await this.backend.close?.();
  }
}

/** The committer side: commits pre-committed transactions, in order. */
export class TransactionalCommitter<Txn> implements Committer<Txn> {
  constructor(private readonly backend: TransactionalBackend<unknown, Txn>) {}

  async commit(txns: readonly Txn[]): Promise<void> {
    for (const txn of txns) await this.backend.commit(txn);
  }

  async close(): Promise<void> {
    await this.backend.close?.();
  }
}

/** A Sink V2 from a transactional backend factory (one backend per writer and per committer). */
export function twoPhaseCommitSink<T, Txn>(name: string, createBackend: () => TransactionalBackend<T, Txn>, options: Pick<Sink<T, Txn>, 'commitRetry'> = {}): Sink<T, Txn> {
  return {
    name,
    createWriter: (ctx) => TransactionalWriter.create(createBackend(), ctx),
    createCommitter: () => new TransactionalCommitter<Txn>(createBackend() as TransactionalBackend<unknown, Txn>),
    ...options,
  };
}
