/**
 * The exactly-once writer, as the StarRocks Flink connector does it: per checkpoint a Stream Load
 * transaction of this subtask on the table.
 *
 *   first rows after a barrier  /api/transaction/begin with the label of (epoch, next checkpoint)
 *   buffer full                 /api/transaction/load (repeated; nothing visible)
 *   barrier n (prepareCommit)   last load, /api/transaction/prepare: the committable of checkpoint n
 *   n complete                  the committer: /api/transaction/commit (committer.ts)
 *   restore from r              pick a fresh epoch, roll back what attempts after r left open or
 *                               prepared (labels.ts); the committer commits r's committables
 *   close without a prepare     /api/transaction/rollback of the open transaction
 *
 * A load that fails fails the checkpoint (and the task): StarRocks does not deduplicate loads inside
 * a transaction, so a resent load could double rows. The job restarts from the last completed
 * checkpoint and the records are replayed into a transaction with a new label.
 */
import type { OperatorListState } from '../../state/operator-state.ts';
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink/contract.ts';
import { StarRocksError, type StarRocksAnswer } from './errors.ts';
import type { StreamLoadClient } from './http-client.ts';
import { LoadBuffer } from './buffer.ts';
import { firstCandidateEpoch, lingeringAction, lingeringCandidates, ownedOldSubtasks, transactionLabel, type EpochEntry } from './labels.ts';
import type { ResolvedOptions } from './options.ts';

/** A prepared transaction: what the committer commits when its checkpoint completes. Plain data. */
export interface StarRocksCommittable {
  database: string;
  table: string;
  label: string;
  /** The checkpoint whose barrier prepared it. */
  checkpointId: number;
  rows: number;
}

export const EPOCH_STATE = 'starrocks-writer-epochs';
/** Epochs tried before giving up: each one in use means an attempt started and failed since the restore. */
const MAX_EPOCH_PROBES = 1000;

export class ExactlyOnceWriter<T> implements SinkWriter<T, StarRocksCommittable> {
  private readonly buffer: LoadBuffer;
  private epoch = 0;
  /** The checkpoint the next transaction is for: one past the last barrier. */
  private nextCheckpoint: number;
  private open: { label: string; rows: number } | undefined;
  private readonly epochs: OperatorListState<EpochEntry>;

  private constructor(
    private readonly o: ResolvedOptions,
    private readonly client: StreamLoadClient,
    private readonly ctx: SinkWriterContext,
  ) {
    this.buffer = new LoadBuffer(o);
    this.nextCheckpoint = ctx.restoredCheckpointId + 1;
    this.epochs = ctx.operatorState.getUnionListState<EpochEntry>(EPOCH_STATE);
  }

  static async create<T>(o: ResolvedOptions, client: StreamLoadClient, ctx: SinkWriterContext): Promise<ExactlyOnceWriter<T>> {
    const w = new ExactlyOnceWriter<T>(o, client, ctx);
    await w.restore();
    return w;
  }

  private label(subtask: number, epoch: number, checkpoint: number): string {
    return transactionLabel({ prefix: this.o.labelPrefix, table: this.o.table, subtask, epoch, checkpoint });
  }

  /** Chooses this run's epoch and rolls back what earlier attempts left after the restored checkpoint. */
  private async restore(): Promise<void> {
    const restored = this.epochs.get();
    const r = this.ctx.restoredCheckpointId;
    this.epoch = await this.freeEpoch(firstCandidateEpoch(restored), r + 1);
    const owned = ownedOldSubtasks(restored, this.ctx.subtaskIndex, this.ctx.parallelism);
    for (const label of lingeringCandidates(this.o.labelPrefix, this.o.table, owned, this.epoch, r, this.o.lingeringProbeDepth)) {
      const state = await this.client.labelState(this.o.database, label);
      if (lingeringAction(state) === 'rollback') await this.rollback(label);
    }
    this.epochs.update([{ subtask: this.ctx.subtaskIndex, epoch: this.epoch }]);
  }

  /** The first epoch from `from` whose label for `checkpoint` StarRocks does not know: no earlier attempt used it. */
  private async freeEpoch(from: number, checkpoint: number): Promise<number> {
    for (let epoch = from; epoch < from + MAX_EPOCH_PROBES; epoch++) {
      const label = this.label(this.ctx.subtaskIndex, epoch, checkpoint);
      const state = await this.client.labelState(this.o.database, label);
      if (state === 'UNKNOWN') return epoch;
      if (lingeringAction(state) === 'rollback') await this.rollback(label);
    }
    throw new StarRocksError('begin', undefined, undefined, `no free label epoch among ${MAX_EPOCH_PROBES} for prefix '${this.o.labelPrefix}': another job may write with the same labelPrefix; give each job its own`);
  }

  async write(values: readonly T[]): Promise<void> {
    for (let i = 0; i < values.length; ) {
      const n = this.buffer.room();
      this.buffer.add(values.slice(i, i + n));
      i += n;
      if (this.buffer.full()) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    if (this.buffer.rows === 0) return;
    const txn = this.open ?? (await this.begin());
    const { body, rows } = this.buffer.take();
    const headers = { ...this.buffer.headers, label: txn.label, db: this.o.database, table: this.o.table };
    let answer: StarRocksAnswer;
    try {
      answer = await this.client.transaction('load', headers, body);
    } catch (e) {
      await this.abandon(txn.label);
      throw e;
    }
    if (answer.Status !== 'OK') {
      await this.abandon(txn.label);
      const dataError = (answer.NumberFilteredRows ?? 0) > 0 || answer.ErrorURL !== undefined;
      throw new StarRocksError('transaction load', txn.label, answer, dataError ? 'rows were rejected: see ErrorURL, fix the records or the table' : 'the job restarts from its last checkpoint and loads these rows again', { retriable: !dataError });
    }
    txn.rows += rows;
    this.ctx.metrics.count('starrocks-loads');
    this.ctx.metrics.count('starrocks-rows', rows);
    this.ctx.metrics.count('starrocks-bytes', Buffer.byteLength(body));
  }

  private async begin(): Promise<{ label: string; rows: number }> {
    for (let tries = 0; tries < MAX_EPOCH_PROBES; tries++) {
      const label = this.label(this.ctx.subtaskIndex, this.epoch, this.nextCheckpoint);
      const headers: Record<string, string> = { label, db: this.o.database, table: this.o.table, timeout: String(this.o.transactionTimeoutS) };
      if (this.o.idleTransactionTimeoutS !== undefined) headers.idle_transaction_timeout = String(this.o.idleTransactionTimeoutS);
      const answer = await this.client.transaction('begin', headers);
      if (answer.Status === 'OK') {
        this.open = { label, rows: 0 };
        return this.open;
      }
      if (answer.Status !== 'LABEL_ALREADY_EXISTS') throw new StarRocksError('transaction begin', label, answer, 'check the database, the table and the user\'s INSERT privilege');
      // Used before (an attempt after the restore used this epoch later on, or our own begin whose
      // answer was lost): never reuse it, move to a fresh epoch.
      this.epoch = await this.freeEpoch(this.epoch + 1, this.nextCheckpoint);
      this.epochs.update([{ subtask: this.ctx.subtaskIndex, epoch: this.epoch }]);
    }
    throw new StarRocksError('transaction begin', undefined, undefined, 'no free label');
  }

  async prepareCommit(checkpointId: number, endOfInput: boolean): Promise<StarRocksCommittable[]> {
    await this.flush();
    if (!endOfInput) this.nextCheckpoint = checkpointId + 1;
    const txn = this.open;
    if (!txn) return [];
    this.open = undefined;
    const headers: Record<string, string> = { label: txn.label, db: this.o.database, table: this.o.table };
    if (this.o.preparedTimeoutS !== undefined) headers.prepared_timeout = String(this.o.preparedTimeoutS);
    const answer = await this.client.transaction('prepare', headers);
    if (answer.Status !== 'OK') {
      // A retried prepare whose first answer was lost finds it prepared already.
      const state = await this.client.labelState(this.o.database, txn.label).catch(() => 'UNKNOWN');
      if (state !== 'PREPARED') {
        await this.abandon(txn.label);
        throw new StarRocksError('transaction prepare', txn.label, answer, `label state '${state}'; the checkpoint fails and the job restarts from the last completed one`, { retriable: true });
      }
    }
    this.ctx.metrics.count('starrocks-prepares');
    return [{ database: this.o.database, table: this.o.table, label: txn.label, checkpointId, rows: txn.rows }];
  }

  snapshotState(): void {
    this.epochs.update([{ subtask: this.ctx.subtaskIndex, epoch: this.epoch }]);
  }

  private async rollback(label: string): Promise<void> {
    const answer = await this.client.transaction('rollback', { label, db: this.o.database, table: this.o.table });
    if (answer.Status !== 'OK') {
      const state = await this.client.labelState(this.o.database, label);
      if (state !== 'ABORTED' && state !== 'UNKNOWN') throw new StarRocksError('transaction rollback', label, answer, `label state '${state}'`);
    }
    this.ctx.metrics.count('starrocks-rollbacks');
  }

  /** Best effort: a transaction that failed is rolled back now rather than at its timeout. */
  private async abandon(label: string): Promise<void> {
    this.open = undefined;
    await this.rollback(label).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.open) await this.abandon(this.open.label);
  }
}
