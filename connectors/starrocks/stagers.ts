/**
 * How the StarRocks sink stages a folded batch (connectors/olap `Stager`): the shared StagedWriter
 * buffers by rows, bytes and time and hands full buffers here, one at a time (back-pressure).
 *
 *   TransactionStager  exactly-once: begins the subtask's transaction for the checkpoint with the
 *                      first batch, then /api/transaction/load per batch (invisible until commit)
 *   StreamLoadStager   at-least-once: one Stream Load per batch, under a label that stays the same
 *                      when the batch is sent again, so StarRocks deduplicates a resend
 *
 * A transaction load is sent once: StarRocks does not deduplicate loads inside a transaction, so a
 * resent one could double rows. A failed load rolls the transaction back and fails the checkpoint;
 * the job restarts from the last completed one and replays into a transaction with a new label.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../runtime/errors.ts';
import type { SinkWriterContext } from '../../runtime/sink/contract.ts';
import type { FoldedBatch } from '../olap/changes.ts';
import type { OlapSchemaChange } from '../olap/schema-change.ts';
import type { StageContext, Stager } from '../olap/staged-writer.ts';
import { encodeBatch, loadHeaders } from './encode.ts';
import { StarRocksError, type StarRocksAnswer } from './errors.ts';
import type { StreamLoadClient } from './http-client.ts';
import { flushLabel } from './labels.ts';
import { SINK, type ResolvedOptions } from './options.ts';

/** What the committer gets per staged batch: its row count. */
export type StagedRows = number;

export interface OpenTransaction {
  label: string;
  rows: number;
  headers: string;
}

function schemaChangeRefused(change: OlapSchemaChange, table: string): ConfigError {
  return new ConfigError(
    `${SINK} schema change ${JSON.stringify(change)}`,
    `the StarRocks sink cannot change table '${table}': StarRocks takes DDL over its MySQL protocol, not the HTTP load API. Alter the table (ALTER TABLE ...), then restart the job from a savepoint`,
  );
}

export class TransactionStager implements Stager<StagedRows> {
  open: OpenTransaction | undefined;

  constructor(
    private readonly o: ResolvedOptions,
    private readonly client: StreamLoadClient,
    /** Begins the transaction for a checkpoint (the writer owns labels and epochs). */
    private readonly begin: (checkpoint: number) => Promise<string>,
    private readonly abandon: (label: string) => Promise<void>,
  ) {}

  async stage(batch: FoldedBatch, ctx: StageContext): Promise<StagedRows> {
    const headers = loadHeaders(batch.schema, this.o.format, this.o.partialUpdate);
    const key = JSON.stringify(headers);
    if (this.open && this.open.headers !== key) throw new StarRocksError('transaction load', this.open.label, undefined, 'the columns changed inside a transaction');
    this.open ??= { label: await this.begin(ctx.provisionalCheckpoint), rows: 0, headers: key };
    const txn = this.open;
    const body = encodeBatch(batch, this.o.format, SINK);
    let answer: StarRocksAnswer;
    try {
      answer = await this.client.transaction('load', { ...headers, label: txn.label, db: this.o.database, table: this.o.table }, body);
    } catch (e) {
      this.open = undefined;
      await this.abandon(txn.label);
      throw e;
    }
    if (answer.Status !== 'OK') {
      this.open = undefined;
      await this.abandon(txn.label);
      const rejected = (answer.NumberFilteredRows ?? 0) > 0 || answer.ErrorURL !== undefined;
      throw new StarRocksError('transaction load', txn.label, answer, rejected ? 'rows were rejected: see ErrorURL, fix the records or the table' : 'the job restarts from its last checkpoint and loads these rows again', { retriable: !rejected });
    }
    txn.rows += batch.rows.length;
    return batch.rows.length;
  }

  schemaChanged(change: OlapSchemaChange): Promise<void> {
    return Promise.reject(schemaChangeRefused(change, this.o.table));
  }
}

const LABEL_WAIT_MS = 50;

export class StreamLoadStager implements Stager<StagedRows> {
  /** A fresh id per writer start: labels of a restarted writer never collide with the last run's. */
  private readonly runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

  constructor(
    private readonly o: ResolvedOptions,
    private readonly client: StreamLoadClient,
    private readonly ctx: Pick<SinkWriterContext, 'subtaskIndex' | 'metrics'>,
  ) {}

  async stage(batch: FoldedBatch, ctx: StageContext): Promise<StagedRows> {
    // the same batch (same checkpoint and position) keeps its label when it is sent again
    const label = flushLabel(this.o.labelPrefix, this.o.table, this.ctx.subtaskIndex, this.runId, `${ctx.provisionalCheckpoint}_${ctx.index}`);
    const headers = { ...loadHeaders(batch.schema, this.o.format, this.o.partialUpdate), label, timeout: String(this.o.transactionTimeoutS) };
    const body = encodeBatch(batch, this.o.format, SINK);
    let answer: StarRocksAnswer | undefined;
    for (let attempt = 1; attempt <= this.o.retry.attempts; attempt++) {
      if (attempt > 1) {
        this.ctx.metrics.count('olap-retries');
        await new Promise((r) => setTimeout(r, Math.min(this.o.retry.backoffMs * 2 ** (attempt - 2), this.o.retry.maxBackoffMs)));
      }
      answer = await this.client.streamLoad(this.o.database, this.o.table, headers, body);
      if (await this.loaded(label, answer)) return batch.rows.length;
      if (answer.ErrorURL !== undefined || (answer.NumberFilteredRows ?? 0) > 0) break; // rejected rows: sending them again does not help
    }
    throw new StarRocksError('Stream Load', label, answer, answer?.ErrorURL ? 'rows were rejected: see ErrorURL, fix the records or the table' : 'the job restarts from its last checkpoint and loads these rows again', { retriable: !answer?.ErrorURL });
  }

  /** Whether the load under `label` is in: now, or from an earlier send of the same label. */
  private async loaded(label: string, answer: StarRocksAnswer): Promise<boolean> {
    if (answer.Status === 'Success' || answer.Status === 'OK' || answer.Status === 'Publish Timeout') return true;
    if (answer.Status !== 'Label Already Exists') return false;
    if (answer.ExistingJobStatus === 'FINISHED') return true;
    // RUNNING: an earlier send is still being loaded; its outcome decides
    for (;;) {
      const state = await this.client.labelState(this.o.database, label);
      if (state === 'VISIBLE' || state === 'COMMITTED') return true;
      if (state === 'ABORTED' || state === 'UNKNOWN') return false;
      await new Promise((r) => setTimeout(r, LABEL_WAIT_MS));
    }
  }

  schemaChanged(change: OlapSchemaChange): Promise<void> {
    return Promise.reject(schemaChangeRefused(change, this.o.table));
  }
}
