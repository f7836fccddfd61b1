/**
 * The exactly-once writer, as the StarRocks Flink connector does it: per checkpoint a Stream Load
 * transaction of this subtask on the table. Buffering, folding per key and back-pressure are the
 * shared OLAP StagedWriter's (connectors/olap); this adds the transaction around its batches:
 *
 *   first batch after a barrier  /api/transaction/begin with the label of (epoch, next checkpoint)
 *   each batch                   /api/transaction/load (TransactionStager; nothing visible)
 *   barrier n (prepareCommit)    last batch, /api/transaction/prepare: the committable of checkpoint n
 *   n complete                   the committer: /api/transaction/commit (committer.ts)
 *   restore from r               a fresh epoch; what attempts after r left open or prepared is
 *                                rolled back (labels.ts); the committer commits r's committables
 *   close without a prepare      /api/transaction/rollback of the open transaction
 */
import type { OperatorListState } from '../../state/operator-state.ts';
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink/contract.ts';
import { StagedWriter, type OlapInput } from '../olap/staged-writer.ts';
import type { OlapTableOptions } from '../olap/schema.ts';
import { StarRocksError } from './errors.ts';
import type { StreamLoadClient } from './http-client.ts';
import { firstCandidateEpoch, lingeringAction, lingeringCandidates, ownedOldSubtasks, transactionLabel, type EpochEntry } from './labels.ts';
import { SINK, type ResolvedOptions } from './options.ts';
import { TransactionStager, type StagedRows } from './stagers.ts';

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
/** The StagedWriter must not resend a transaction load (see stagers.ts); idempotent requests are retried by the client. */
const NO_STAGE_RETRY = { attempts: 1, backoffMs: 0, maxBackoffMs: 0 };

export class ExactlyOnceWriter<T> implements SinkWriter<OlapInput<T>, StarRocksCommittable> {
  private readonly staged: StagedWriter<T, StagedRows>;
  private readonly stager: TransactionStager;
  private epoch = 0;
  private readonly epochs: OperatorListState<EpochEntry>;

  private constructor(
    private readonly o: ResolvedOptions,
    table: OlapTableOptions<T>,
    private readonly client: StreamLoadClient,
    private readonly ctx: SinkWriterContext,
  ) {
    this.epochs = ctx.operatorState.getUnionListState<EpochEntry>(EPOCH_STATE);
    this.stager = new TransactionStager(o, client, (checkpoint) => this.begin(checkpoint), (label) => this.abandon(label));
    this.staged = new StagedWriter<T, StagedRows>({ sink: SINK, table, buffer: o.buffer, retry: NO_STAGE_RETRY }, this.stager, ctx);
  }

  static async create<T>(o: ResolvedOptions, table: OlapTableOptions<T>, client: StreamLoadClient, ctx: SinkWriterContext): Promise<ExactlyOnceWriter<T>> {
    const w = new ExactlyOnceWriter<T>(o, table, client, ctx);
    await w.restore();
    return w;
  }

  /**
   * A failed prepare, kept: the runtime declines the checkpoint and the task goes on, but the
   * transaction's rows are gone, so the writer must not carry on as if they were written. The next
   * record (or the end of input) fails the task with it, and the job restarts from its last completed
   * checkpoint and replays them. (A failed load is kept the same way by the StagedWriter.)
   */
  private failure: unknown;

  readonly write = (values: readonly OlapInput<T>[]): void | Promise<void> => {
    if (this.failure !== undefined) throw this.failure;
    return this.staged.write(values);
  };

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
    throw new StarRocksError('transaction begin', undefined, undefined, `no free label epoch among ${MAX_EPOCH_PROBES} for prefix '${this.o.labelPrefix}': another job may write with the same labelPrefix; give each job its own`);
  }

  private async begin(checkpoint: number): Promise<string> {
    for (let tries = 0; tries < MAX_EPOCH_PROBES; tries++) {
      const label = this.label(this.ctx.subtaskIndex, this.epoch, checkpoint);
      const headers: Record<string, string> = { label, db: this.o.database, table: this.o.table, timeout: String(this.o.transactionTimeoutS) };
      if (this.o.idleTransactionTimeoutS !== undefined) headers.idle_transaction_timeout = String(this.o.idleTransactionTimeoutS);
      const answer = await this.client.transaction('begin', headers);
      if (answer.Status === 'OK') return label;
      if (answer.Status !== 'LABEL_ALREADY_EXISTS') throw new StarRocksError('transaction begin', label, answer, "check the database, the table and the user's INSERT privilege", { retriable: true });
      // Used before (an attempt after the restore used this epoch later on, or our own begin whose
      // answer was lost): never reuse it, move to a fresh epoch.
      this.epoch = await this.freeEpoch(this.epoch + 1, checkpoint);
      this.epochs.update([{ subtask: this.ctx.subtaskIndex, epoch: this.epoch }]);
    }
    throw new StarRocksError('transaction begin', undefined, undefined, 'no free label');
  }

  async prepareCommit(checkpointId: number, endOfInput: boolean): Promise<StarRocksCommittable[]> {
    if (this.failure !== undefined) throw this.failure;
    try {
      return await this.prepare(checkpointId, endOfInput);
    } catch (e) {
      this.failure = e;
      throw e;
    }
  }

  private async prepare(checkpointId: number, endOfInput: boolean): Promise<StarRocksCommittable[]> {
    await this.staged.prepareCommit(checkpointId, endOfInput);
    const txn = this.stager.open;
    if (!txn) return [];
    this.stager.open = undefined;
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
    await this.rollback(label).catch(() => {});
  }

  async close(): Promise<void> {
    await this.staged.close().catch(() => {});
    const txn = this.stager.open;
    this.stager.open = undefined;
    if (txn) await this.abandon(txn.label);
  }
}
