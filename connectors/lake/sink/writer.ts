/**
 * A lake writer subtask: buffers the rows of its buckets in a TableWriter; at the barrier it writes
 * them into data files and emits their CommitMessages downstream, ahead of the barrier, so the
 * committer holds them in the same checkpoint. Compaction results of its buckets go with them.
 *
 * Each writer keeps the next sequence number of its buckets in (union) operator state: after a
 * restore the committer may not have re-committed the restored checkpoint's files yet when this
 * writer reads the table, and new rows must sort after them.
 */
import type { Operator, OperatorContext, Output } from '../../../operators/operator.ts';
import { NO_TIMESTAMP } from '../../../operators/operator.ts';
import type { OperatorListState } from '../../../state/operator-state.ts';
import type { SchemaDefinition } from '../schema/schema.ts';
import type { FileStoreTable } from '../table/table.ts';
import { TableWriter, type CommitMessage } from '../table/writer.ts';
import { ExternalError } from '../errors.ts';
import type { CompactTask } from '../table/compact.ts';
import { BackgroundCompactor } from './background-compactor.ts';
import { openLakeTable, type LakeTableLocation } from './table-access.ts';
import { rowReader, type BucketedRow, type LakeCommittable } from './records.ts';

const COMPACT_MODULE = new URL('./compact-side-work.ts', import.meta.url);

export interface LakeWriterSettings {
  location: LakeTableLocation;
  schema: SchemaDefinition | undefined;
  compaction: boolean;
  /** Rows buffered before the writer writes files ahead of the barrier (bounds memory and barrier work). */
  writeBufferRows: number;
}

export class LakeWriterOperator implements Operator<BucketedRow, LakeCommittable> {
  private table!: FileStoreTable;
  private writer!: TableWriter;
  private output!: Output<LakeCommittable>;
  private sequences!: OperatorListState<[string, number]>;
  private compactor: BackgroundCompactor | undefined;
  private subtask = 0;
  private parallelism = 1;
  private ended = false;
  private ctx!: OperatorContext<LakeCommittable>;
  private readRow!: (r: BucketedRow) => unknown[];

  constructor(readonly name: string, private readonly settings: LakeWriterSettings) {}

  async open(ctx: OperatorContext<LakeCommittable>): Promise<void> {
    this.ctx = ctx;
    this.subtask = ctx.subtaskIndex;
    this.parallelism = ctx.parallelism;
    this.output = ctx.output;
    this.table = await openLakeTable(this.settings.location, this.settings.schema);
    this.writer = new TableWriter(this.table);
    this.readRow = rowReader(this.table.schema.fields.map((f) => f.name));
    this.sequences = ctx.operatorState.getUnionListState<[string, number]>('lake-writer-sequences');
    this.writer.seedSequenceNumbers(this.sequences.get());
    if (this.settings.compaction && this.table.primaryKey) {
      const s3 = this.settings.location.s3;
      this.compactor = new BackgroundCompactor(this.table, (task: CompactTask) => ctx.sideWork.run<CompactTask, CommitMessage>(COMPACT_MODULE, task), s3);
    }
  }

  /** Buckets are dealt to writers as `bucket % parallelism` (see subtaskKeys). */
  private owns(bucket: number): boolean {
    return bucket < 0 ? this.subtask === 0 : bucket % this.parallelism === this.subtask;
  }

  processBatch(values: readonly BucketedRow[]): void | Promise<void> {
    this.throwIfFailed();
    const w = this.writer;
    const read = this.readRow;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      w.write(read(v), v.__kind);
    }
    // a full buffer becomes files now; their messages wait for the barrier like the rest
    if (w.bufferedRows >= this.settings.writeBufferRows) return this.prepare().then((m) => void this.held.push(...m));
  }

  /** Messages of files written before the barrier because the buffer was full. */
  private held: CommitMessage[] = [];

  private async prepare(): Promise<CommitMessage[]> {
    try {
      return await this.writer.prepareCommit();
    } catch (e) {
      this.failure = e;
      throw e;
    }
  }

  /**
   * prepareCommit empties the buffers before it writes: if writing fails, those rows are gone from
   * this writer. A declined checkpoint would let the job go on without them, so the writer fails the
   * task instead (at its next call) and the job restarts from the last checkpoint, replaying them.
   */
  private failure: unknown;

  private throwIfFailed(): void {
    if (this.failure !== undefined) {
      throw new ExternalError(`lake writer of ${this.table.path} could not write its files; restarting from the last checkpoint to write those rows again`, { retriable: true, cause: this.failure });
    }
  }

  private async flush(checkpointId: number): Promise<void> {
    this.throwIfFailed();
    const messages = [...this.held, ...(await this.prepare())];
    this.held = [];
    const compacted = this.compactor?.take(checkpointId) ?? [];
    if (compacted.length > 0) this.ctx.metrics.count('lake-compactions', compacted.length);
    const all = [...messages, ...compacted];
    if (all.length > 0) this.output.emit({ writer: this.subtask, messages: all }, NO_TIMESTAMP);
    this.saveSequences();
  }

  private saveSequences(): void {
    this.sequences.update(this.writer.sequenceNumbers().filter(([key]) => this.owns(Number(key.slice(key.lastIndexOf('|') + 1)))));
  }

  async snapshotState(checkpointId: number): Promise<void> {
    if (this.ended) {
      this.saveSequences();
      return;
    }
    await this.flush(checkpointId);
    this.compactor?.start((b) => this.owns(b));
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.throwIfFailed();
    this.compactor?.checkpointCompleted(checkpointId);
  }

  notifyCheckpointAborted(): void {
    this.throwIfFailed();
  }

  /** End of input: what comes after the downstream end marker is not read, so everything goes now. */
  async endInput(): Promise<void> {
    await this.compactor?.drain();
    await this.flush(Number.MAX_SAFE_INTEGER);
    this.ended = true;
  }
}
