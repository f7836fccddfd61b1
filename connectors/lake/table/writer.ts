/**
 * TableWriter: the write half of a two-phase-commit sink. `write` buffers rows per partition and
 * bucket (synchronous, no I/O); `prepareCommit` sorts and merges each buffer (primary-key tables),
 * writes one level-0 data file per bucket, and returns CommitMessages: plain JSON objects that a
 * sink stores in its checkpoint and hands to TableCommit once the checkpoint completes.
 *
 * Sequence numbers continue from the highest one committed in each bucket (read once per bucket
 * from the latest snapshot), so each bucket must be written by one writer at a time.
 */
import { randomUUID } from 'node:crypto';
import type { DataFileMeta } from '../format/manifest.ts';
import type { IndexManifestEntry } from '../format/deletion-vectors.ts';
import { encodeDataFile } from '../format/data-file.ts';
import { BadRecordError, WeirError } from '../errors.ts';
import type { FileStoreTable } from './table.ts';
import { DELETE, INSERT, isRetract, type RowKind } from './merge.ts';
import { mergeByKey } from './merge-reader.ts';
import { changelogFileName, changelogProducer, writeChangelogFile } from './changelog.ts';
import { DynamicBucketAssigner, type DynamicBucketAssignerOptions, assignerOf, dynamicBucketHashers, partitionRow } from './dynamic-bucket.ts';

export interface CommitMessage {
  /** base64 of the serialized partition BinaryRow */
  partition: string;
  bucket: number;
  totalBuckets: number;
  newFiles: DataFileMeta[];
  compactBefore: DataFileMeta[];
  compactAfter: DataFileMeta[];
  /** Changelog files of the new data (changelog-producer input, or lookup once the committer added them). */
  changelogFiles?: DataFileMeta[];
  /** Deletion-vector index files this compaction wrote (deletion-vector tables). */
  newIndexFiles?: IndexManifestEntry[];
  /** Index files of the bucket this compaction replaces. */
  deletedIndexFiles?: IndexManifestEntry[];
  /**
   * Index files that go with the new data, in the APPEND snapshot: the bucket's new HASH index
   * (dynamic-bucket tables), which replaces its previous one (Java's DataIncrement.newIndexFiles).
   */
  appendIndexFiles?: IndexManifestEntry[];
}

interface BucketBuffer {
  partition: string;
  bucket: number;
  rows: unknown[][];
  kinds: number[];
}

export interface TableWriterOptions {
  /** Accept rows already in canonical JS values (skips per-field normalization). */
  trustedRows?: boolean;
  /** Dynamic-bucket tables: which share of the keys this writer assigns (default: all of them). */
  assigner?: DynamicBucketAssignerOptions;
}

export class TableWriter {
  private readonly buffers = new Map<string, BucketBuffer>();
  private readonly partitionCache = new Map<string, string>();
  private readonly nextSeq = new Map<string, number>();
  private readonly assignBucket: (row: unknown[]) => number;
  private readonly filePrefix = `data-${randomUUID()}-`;
  private fileCounter = 0;
  /** changelog-producer = input: the input records also go into changelog files. */
  private readonly inputChangelog: boolean;
  private restoredFrom: number | null | undefined;
  private emptyPartition: string | undefined;
  /** Dynamic-bucket tables: the bucket assigner, and rows waiting for it (by partition) until prepareCommit. */
  readonly dynamic: DynamicBucketAssigner | null;
  private readonly unassigned = new Map<string, { rows: unknown[][]; kinds: number[] }>();

  constructor(readonly table: FileStoreTable, private readonly opts: TableWriterOptions = {}) {
    this.assignBucket = table.bucketAssigner();
    this.inputChangelog = changelogProducer(table.schema.options, table.primaryKey) === 'input';
    this.dynamic = table.options.dynamicBucket ? new DynamicBucketAssigner(table, opts.assigner) : null;
  }

  /** Buffers one row (array in field order or object by field name) with its row kind (0 +I, 1 -U, 2 +U, 3 -D). */
  write(row: unknown[] | Record<string, unknown>, kind: RowKind | number = INSERT): void {
    const t = this.table;
    if (kind < 0 || kind > 3) throw new BadRecordError(`row kind ${kind} is not one of 0 (+I), 1 (-U), 2 (+U), 3 (-D)`, String(kind));
    if (!t.primaryKey && kind !== INSERT) {
      throw new BadRecordError(`append table ${t.path} takes inserts only (row kind ${kind}); give it a primary key to apply updates and deletes`, '');
    }
    if (t.options.ignoreDelete && isRetract(kind)) return;
    const values = this.opts.trustedRows && Array.isArray(row) ? row : t.normalizeRow(row);
    const partition = this.partitionOf(values);
    if (this.dynamic) {
      // a partition whose hash index is loaded is assigned now; the rows of any other partition wait
      // (in order) for prepareCommit, which loads its index (async) and assigns them first
      const u = this.unassigned.get(partition);
      if (u || !this.dynamic.isLoaded(partition)) {
        if (u) { u.rows.push(values); u.kinds.push(kind); } else this.unassigned.set(partition, { rows: [values], kinds: [kind] });
        return;
      }
      this.buffer(partition, this.assignDynamic(this.dynamic, partition, values), values, kind);
      return;
    }
    this.buffer(partition, this.assignBucket(values), values, kind);
  }

  private buffer(partition: string, bucket: number, values: unknown[], kind: number): void {
    const key = `${partition}|${bucket}`;
    let buf = this.buffers.get(key);
    if (!buf) {
      buf = { partition, bucket, rows: [], kinds: [] };
      this.buffers.set(key, buf);
    }
    buf.rows.push(values);
    buf.kinds.push(kind);
  }

  /** Buffered rows not yet written into files. */
  get bufferedRows(): number {
    let n = 0;
    for (const b of this.buffers.values()) n += b.rows.length;
    for (const u of this.unassigned.values()) n += u.rows.length;
    return n;
  }

  private partitionOf(values: unknown[]): string {
    const idx = this.table.partitionIndexes;
    if (idx.length === 0) return (this.emptyPartition ??= this.table.partitionBytes([]));
    let cacheKey = '';
    for (const i of idx) {
      const v = values[i];
      cacheKey += `${typeof v === 'object' && v !== null ? JSON.stringify(Array.from(v as Uint8Array)) : String(v)}\u0001`;
    }
    let p = this.partitionCache.get(cacheKey);
    if (p === undefined) {
      p = this.table.partitionBytes(idx.map((i) => values[i]));
      this.partitionCache.set(cacheKey, p);
    }
    return p;
  }

  /** Highest committed sequence number of each bucket, read once from the latest snapshot. */
  private async restoreSequences(): Promise<void> {
    if (this.restoredFrom !== undefined) return;
    const latest = await this.table.snapshots.latest();
    this.restoredFrom = latest?.id ?? null;
    if (!latest) return;
    for (const e of await this.table.liveEntries(latest)) {
      const key = `${e.partition}|${e.bucket}`;
      const next = e.file.maxSequenceNumber + 1;
      if ((this.nextSeq.get(key) ?? 0) < next) this.nextSeq.set(key, next);
    }
  }

  /** Writes every buffer into data files and returns what the commit needs; the buffers are emptied. */
  async prepareCommit(): Promise<CommitMessage[]> {
    await this.restoreSequences();
    if (this.dynamic) await this.assignDynamicBuckets(this.dynamic);
    const t = this.table;
    const messages: CommitMessage[] = [];
    const buffers = [...this.buffers.values()];
    this.buffers.clear();
    for (const buf of buffers) {
      const key = `${buf.partition}|${buf.bucket}`;
      const base = this.nextSeq.get(key) ?? 0;
      const n = buf.rows.length;
      const seqs = new Array<number>(n);
      for (let i = 0; i < n; i++) seqs[i] = base + i;
      this.nextSeq.set(key, base + n);
      let batch = { rows: buf.rows, seqs, kinds: buf.kinds };
      const changelogFiles = this.inputChangelog && n > 0
        ? [await writeChangelogFile(t, buf.partition, buf.bucket, batch, changelogFileName(this.filePrefix.slice('data-'.length, -1), this.fileCounter++))]
        : [];
      if (t.primaryKey) {
        // one record per key per file, as Java's write buffer does
        batch = mergeByKey(t, batch, { ignoreDelete: t.options.ignoreDelete, keepRetractions: true });
      }
      if (batch.rows.length === 0) {
        if (changelogFiles.length > 0) messages.push({ partition: buf.partition, bucket: buf.bucket, totalBuckets: t.totalBuckets, newFiles: [], compactBefore: [], compactAfter: [], changelogFiles });
        continue;
      }
      const fileName = `${this.filePrefix}${this.fileCounter++}.parquet`;
      const { bytes, meta } = encodeDataFile(t.fileShape, batch, { fileName, level: 0, fileSource: 0, compression: t.options.fileCompression });
      await t.io.write(t.dataFilePath(buf.partition, buf.bucket, fileName), bytes);
      messages.push({ partition: buf.partition, bucket: buf.bucket, totalBuckets: t.totalBuckets, newFiles: [meta], compactBefore: [], compactAfter: [], ...(changelogFiles.length > 0 ? { changelogFiles } : {}) });
    }
    if (this.dynamic) {
      // each bucket that took new keys: its new HASH index goes with its data
      for (const e of await this.dynamic.prepareCommit()) {
        let m = messages.find((x) => x.partition === e.partition && x.bucket === e.bucket);
        if (!m) messages.push((m = { partition: e.partition, bucket: e.bucket, totalBuckets: t.totalBuckets, newFiles: [], compactBefore: [], compactAfter: [] }));
        (m.appendIndexFiles ??= []).push(e);
      }
    }
    return messages;
  }

  /** Loads the hash index of each partition with waiting rows and gives them their buckets, in write order. */
  private async assignDynamicBuckets(assigner: DynamicBucketAssigner): Promise<void> {
    const pending = [...this.unassigned];
    this.unassigned.clear();
    for (const [partition, u] of pending) {
      await assigner.load(partition);
      for (let i = 0; i < u.rows.length; i++) this.buffer(partition, this.assignDynamic(assigner, partition, u.rows[i]!), u.rows[i]!, u.kinds[i]!);
    }
  }

  private hashers: ReturnType<typeof dynamicBucketHashers> | undefined;
  private readonly partitionHashes = new Map<string, number>();

  /** The bucket of a row of a loaded partition; its key must belong to this writer's assigner. */
  private assignDynamic(assigner: DynamicBucketAssigner, partition: string, row: unknown[]): number {
    const t = this.table;
    const h = (this.hashers ??= dynamicBucketHashers(t));
    const hash = h.keyHash(row);
    if (assigner.numAssigners > 1) {
      let partHash = this.partitionHashes.get(partition);
      if (partHash === undefined) this.partitionHashes.set(partition, (partHash = h.partitionHash(partitionRow(t, partition))));
      const owner = assignerOf(partHash, hash, assigner.numAssigners);
      if (owner !== assigner.assignId) {
        throw new WeirError(`bug: a row of ${t.path} reached dynamic-bucket assigner ${assigner.assignId} of ${assigner.numAssigners}, but its key belongs to assigner ${owner}`);
      }
    }
    return assigner.assign(partition, hash);
  }

  /**
   * Next sequence number of each `partition|bucket` this writer wrote. A stream sink keeps them in
   * its checkpoint: after a restore, the restored checkpoint's files may not be committed yet when
   * the writer reads the latest snapshot, and new rows must still sort after them.
   */
  sequenceNumbers(): Array<[string, number]> {
    return [...this.nextSeq];
  }

  /** Continues each `partition|bucket` at no less than the given sequence number. */
  seedSequenceNumbers(entries: Iterable<readonly [string, number]>): void {
    for (const [key, next] of entries) if ((this.nextSeq.get(key) ?? 0) < next) this.nextSeq.set(key, next);
  }

  /** Drops buffered rows (after a failure, before restoring from a checkpoint). */
  abort(): void {
    this.buffers.clear();
    this.unassigned.clear();
  }
}

export { INSERT, DELETE };
