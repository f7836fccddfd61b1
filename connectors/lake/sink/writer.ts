/**
 * The lake sink's writer (a Sink V2 writer): buffers the rows of its buckets in a TableWriter; at the
 * barrier (prepareCommit) it writes them into data files and returns their CommitMessages as the
 * checkpoint's committable, which the runtime sends to the global committer ahead of the barrier.
 * Compaction results of its buckets go with them.
 *
 * Each writer keeps the next sequence number of its buckets in (union) operator state: after a
 * restore the committer may not have re-committed the restored checkpoint's files yet when this
 * writer reads the table, and new rows must sort after them.
 */
import type { OperatorListState } from '../../../state/operator-state.ts';
import type { SinkWriter, SinkWriterContext } from '../../../runtime/sink/contract.ts';
import type { SchemaDefinition } from '../schema/schema.ts';
import type { FileStoreTable } from '../table/table.ts';
import { TableWriter, type CommitMessage } from '../table/writer.ts';
import type { IndexManifestEntry } from '../format/deletion-vectors.ts';
import { ExternalError } from '../errors.ts';
import type { CompactTask } from '../table/compact.ts';
import { BackgroundCompactor } from './background-compactor.ts';
import { openLakeTable, type LakeTableLocation } from './table-access.ts';
import { SCHEMA_MARKER_ID, SCHEMA_MARKER_KIND } from './schema-change.ts';
import { rowReader, type BucketedRow, type LakeCommittable } from './records.ts';

/**
 * The watermark as a snapshot stores it: the end of input (+Infinity) becomes the largest safe
 * integer, a time no event has ("everything is in"); Java's Long.MAX_VALUE would not survive JSON in JS.
 */
export const END_OF_INPUT_WATERMARK = Number.MAX_SAFE_INTEGER;
function snapshotWatermark(wm: number): number {
  return wm === Infinity ? END_OF_INPUT_WATERMARK : wm;
}

const COMPACT_MODULE = new URL('./compact-side-work.ts', import.meta.url);

export interface LakeWriterSettings {
  location: LakeTableLocation;
  schema: SchemaDefinition | undefined;
  compaction: boolean;
  /** Rows buffered before the writer writes files ahead of the barrier (bounds memory and barrier work). */
  writeBufferRows: number;
}

export class LakeWriter implements SinkWriter<BucketedRow, LakeCommittable> {
  private table!: FileStoreTable;
  private writer!: TableWriter;
  private sequences!: OperatorListState<[string, number]>;
  /** Dynamic-bucket tables: HASH index files written and maybe not committed yet (table/dynamic-bucket.ts). */
  private hashIndex!: OperatorListState<IndexManifestEntry>;
  private compactor: BackgroundCompactor | undefined;
  private subtask = 0;
  private parallelism = 1;
  private ctx!: SinkWriterContext;
  private readRow!: (r: BucketedRow) => unknown[];

  private constructor(private readonly settings: LakeWriterSettings) {}

  static async create(settings: LakeWriterSettings, ctx: SinkWriterContext): Promise<LakeWriter> {
    const w = new LakeWriter(settings);
    await w.open(ctx);
    return w;
  }

  private async open(ctx: SinkWriterContext): Promise<void> {
    this.ctx = ctx;
    this.subtask = ctx.subtaskIndex;
    this.parallelism = ctx.parallelism;
    this.table = await openLakeTable(this.settings.location, this.settings.schema);
    this.writer = this.tableWriter();
    this.readRow = rowReader(this.table.schema.fields.map((f) => f.name));
    this.sequences = ctx.operatorState.getUnionListState<[string, number]>('lake-writer-sequences');
    this.writer.seedSequenceNumbers(this.sequences.get());
    this.hashIndex = ctx.operatorState.getUnionListState<IndexManifestEntry>('lake-writer-hash-index');
    this.writer.dynamic?.seedPending(this.hashIndex.get());
    if (this.settings.compaction && this.table.primaryKey) {
      const s3 = this.settings.location.s3;
      this.compactor = new BackgroundCompactor(this.table, (task: CompactTask) => ctx.sideWork.run<CompactTask, CommitMessage>(COMPACT_MODULE, task), s3);
    }
  }

  /** A dynamic-bucket table's writer assigns the keys the router sends it (its share of the keys). */
  private tableWriter(): TableWriter {
    return new TableWriter(this.table, { assigner: { numAssigners: this.parallelism, assignId: this.subtask } });
  }

  /** Buckets are dealt to writers as `bucket % parallelism` (see subtaskKeys). */
  private owns(bucket: number): boolean {
    return bucket < 0 ? this.subtask === 0 : bucket % this.parallelism === this.subtask;
  }

  write(values: readonly BucketedRow[]): void | Promise<void> {
    this.throwIfFailed();
    const w = this.writer;
    const read = this.readRow;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v.__kind === SCHEMA_MARKER_KIND) return this.schemaChanged(v[SCHEMA_MARKER_ID] as number, values.slice(i + 1));
      w.write(read(v), v.__kind);
    }
    // a full buffer becomes files now; their messages wait for the barrier like the rest
    if (w.bufferedRows >= this.settings.writeBufferRows) return this.prepare().then((m) => void this.held.push(...m));
  }

  /** Checkpoints since the last full compaction round started (full-compaction.delta-commits). */
  private checkpointsSinceFull = 0;

  /** The watermark this writer last sent to the committer (a restarted writer says it again). */
  private reportedWatermark = -Infinity;

  /**
   * The table's schema changed (sink/schema-change.ts): write the buffer under the old one, re-open
   * at the marker's schema (not the latest, which the router may have moved past), go on.
   */
  private async schemaChanged(schemaId: number, rest: readonly BucketedRow[]): Promise<void> {
    this.held.push(...(await this.prepare()));
    const sequences = this.writer.sequenceNumbers();
    const pendingIndex = this.writer.dynamic?.pendingFiles() ?? [];
    this.table = await (await openLakeTable(this.settings.location, this.settings.schema)).atSchema(schemaId);
    this.writer = this.tableWriter();
    this.writer.seedSequenceNumbers(sequences);
    this.writer.dynamic?.seedPending(pendingIndex);
    this.readRow = rowReader(this.table.schema.fields.map((f) => f.name));
    if (rest.length > 0) await this.write(rest);
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

  /**
   * At the barrier: the buffered rows become files, their messages (with finished compactions) the
   * committable; then compaction of the written buckets may start. At the end of input running
   * compactions are waited for first, so that everything goes with the last committable.
   */
  async prepareCommit(checkpointId: number, endOfInput: boolean): Promise<LakeCommittable[]> {
    this.throwIfFailed();
    await this.writer.dynamic?.prunePending();
    if (endOfInput) await this.compactor?.drain();
    else if (this.compactor?.shouldStall(this.table.options.stopTrigger)) {
      // compaction fell behind: wait for it here (the barrier waits, so the input backs up) rather
      // than let the buckets pile up small files past num-sorted-run.stop-trigger
      this.ctx.metrics.count('lake-write-stalls');
      await this.compactor.drain();
    }
    const messages = [...this.held, ...(await this.prepare())];
    this.compactor?.flushed(messages);
    this.held = [];
    const compacted = this.compactor?.take(checkpointId) ?? [];
    if (compacted.length > 0) this.ctx.metrics.count('lake-compactions', compacted.length);
    if (!endOfInput) {
      // full-compaction.delta-commits: every N checkpoints the round merges every bucket fully
      const every = this.table.options.fullCompactionDeltaCommits;
      const full = every > 0 && ++this.checkpointsSinceFull >= every;
      if (full && !this.compactor?.running) this.checkpointsSinceFull = 0;
      this.compactor?.start((b) => this.owns(b), full);
    }
    const all = [...messages, ...compacted];
    // the watermark goes with the files, and alone when it rose: the table's watermark is the
    // least over all writers, so the committer must hear from each writer whose watermark moved
    const watermark = snapshotWatermark(this.ctx.currentWatermark());
    const rose = Number.isFinite(watermark) && watermark > this.reportedWatermark;
    if (all.length === 0 && !rose) return [];
    const committable: LakeCommittable = { writer: this.subtask, messages: all, writers: this.parallelism };
    if (Number.isFinite(watermark)) {
      committable.watermark = watermark;
      this.reportedWatermark = watermark;
    }
    return [committable];
  }

  snapshotState(): void {
    const dynamic = this.writer.dynamic;
    // dynamic buckets: after a rescale a writer may write keys into a bucket another writer opened
    // (a key keeps its bucket), so it keeps the sequence numbers of every bucket it wrote
    this.sequences.update(dynamic ? this.writer.sequenceNumbers() : this.writer.sequenceNumbers().filter(([key]) => this.owns(Number(key.slice(key.lastIndexOf('|') + 1)))));
    if (dynamic) this.hashIndex.update(dynamic.pendingFiles());
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.throwIfFailed();
    this.compactor?.checkpointCompleted(checkpointId);
  }
}
