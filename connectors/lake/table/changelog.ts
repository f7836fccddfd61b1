/**
 * Changelog producers (`changelog-producer`), so that a primary-key table streamed by a downstream
 * job yields a correct changelog (-U/+U/-D), not only the latest rows:
 *
 * - `none` (default): streaming readers get each snapshot's merged delta (a key updated twice in a
 *   checkpoint shows once; an update does not retract the old row).
 * - `input`: the writer also writes the input records as they came, in changelog files.
 * - `lookup`: each commit looks up every key it touches in the table as it was before the commit
 *   and writes the difference: +I for a new key, -U old / +U new for a changed one, -D old for a
 *   deleted one, nothing when the merged row did not change. Merge engines apply first, so
 *   partial-update and aggregation tables yield the changes of their merged rows.
 * - `full-compaction`: accepted and produced like `lookup` (at every commit, not only at full
 *   compactions): a reader sees the same changes, sooner.
 *
 * Changelog files are data files named `changelog-*` in the bucket's directory, listed in the
 * snapshot's changelog manifest list (Java's layout), so Java streaming readers read them too.
 *
 * Lookup runs in the committer, where commits are serialized and the table's state before a commit
 * is exactly the previous snapshot: a writer could not know it (after a restore, its own earlier
 * files may not be committed yet). The committer keeps each bucket's merged rows in memory once it
 * touched the bucket (so its memory grows with the touched buckets' rows: see README "Not done").
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import type { DataFileMeta } from '../format/manifest.ts';
import { encodeDataFile } from '../format/data-file.ts';
import { rowComparator } from '../schema/values.ts';
import type { FileStoreTable } from './table.ts';
import type { CommitMessage } from './writer.ts';
import { concatBatches, mergeByKey, type KeyValueRecords } from './merge-reader.ts';
import { readSplit, planSplits } from './read.ts';
import { DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE } from './merge.ts';

export type ChangelogProducer = 'none' | 'input' | 'lookup' | 'full-compaction';

export function changelogProducer(options: Record<string, string>, primaryKey: boolean): ChangelogProducer {
  const p = (options['changelog-producer'] ?? 'none').toLowerCase();
  if (!['none', 'input', 'lookup', 'full-compaction'].includes(p)) {
    throw new ConfigError('changelog-producer', `'${p}' is not valid; use none, input, lookup or full-compaction`);
  }
  if (p !== 'none' && !primaryKey) throw new ConfigError('changelog-producer', `'${p}' needs a primary-key table; an append table's files are its changelog already`);
  return p as ChangelogProducer;
}

/** Writes one changelog file of a bucket (records in the given order, kinds kept). */
export async function writeChangelogFile(table: FileStoreTable, partition: string, bucket: number, kv: KeyValueRecords, fileName: string): Promise<DataFileMeta> {
  const { bytes, meta } = encodeDataFile(table.fileShape, kv, { fileName, level: 0, fileSource: 0, compression: table.options.fileCompression });
  await table.io.write(table.dataFilePath(partition, bucket, fileName), bytes);
  return meta;
}

export function changelogFileName(prefix: string, n: number): string {
  return `changelog-${prefix}-${n}.parquet`;
}

type BucketRows = Map<string, { row: unknown[]; seq: number }>;

/** The committer side of `lookup`: changelog files for the new files of a checkpoint's messages. */
export class LookupChangelogProducer {
  private readonly buckets = new Map<string, BucketRows>();
  /** The snapshot the cache is at: another writer's commit in between makes it stale. */
  private cachedAt: number | null | undefined;
  private readonly prefix = randomUUID();
  private counter = 0;
  private readonly keyOf: (row: unknown[]) => string;

  constructor(private readonly table: FileStoreTable) {
    const idx = table.keyIndexes;
    this.keyOf = (row) => JSON.stringify(idx.map((i) => row[i]), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
  }

  private async bucketRows(partition: string, bucket: number, snapshotId: number | null): Promise<BucketRows> {
    const key = `${partition}|${bucket}`;
    let rows = this.buckets.get(key);
    if (rows) return rows;
    rows = new Map();
    if (snapshotId !== null) {
      // every level: a deletion-vector or first-row table's batch scan would skip level-0 files
      const { splits } = await planSplits(this.table, { snapshotId, allLevels: true });
      for (const s of splits) {
        if (s.partition !== partition || s.bucket !== bucket) continue;
        for (const r of await readSplit(this.table, s)) rows.set(this.keyOf(r), { row: r, seq: -1 });
      }
    }
    this.buckets.set(key, rows);
    return rows;
  }

  /**
   * Adds `changelogFiles` to the messages (new objects; the input is not changed). `apply()` of the
   * result must be called once the commit landed, so that a failed commit leaves the cache as it was.
   */
  async produce(messages: readonly CommitMessage[]): Promise<{ messages: CommitMessage[]; apply: () => void }> {
    const t = this.table;
    const latest = (await t.snapshots.latest())?.id ?? null;
    if (this.cachedAt !== undefined && this.cachedAt !== latest) this.buckets.clear();
    const updates: Array<{ rows: BucketRows; changes: Map<string, { row: unknown[]; seq: number } | null> }> = [];
    const out: CommitMessage[] = [];
    const keyCmp = rowComparator(t.keyIndexes, t.keyTypes);
    for (const m of messages) {
      if (m.newFiles.length === 0) { out.push(m); continue; }
      const rows = await this.bucketRows(m.partition, m.bucket, latest);
      const fresh = concatBatches(await Promise.all(m.newFiles.map((f) => t.readDataFile({ kind: 0, partition: m.partition, bucket: m.bucket, totalBuckets: m.totalBuckets, file: f }))));
      // before + new records of the touched keys, merged: the rows after this commit
      const touched = new Set<string>();
      for (const r of fresh.rows) touched.add(this.keyOf(r));
      const all: KeyValueRecords = { rows: [], seqs: [], kinds: [] };
      for (const k of touched) {
        const before = rows.get(k);
        if (before) { all.rows.push(before.row); all.seqs.push(before.seq); all.kinds.push(INSERT); }
      }
      for (let i = 0; i < fresh.rows.length; i++) { all.rows.push(fresh.rows[i]!); all.seqs.push(fresh.seqs[i]!); all.kinds.push(fresh.kinds[i]!); }
      const after = mergeByKey(t, all, { ignoreDelete: t.options.ignoreDelete, keepRetractions: false });
      const afterByKey = new Map<string, { row: unknown[]; seq: number }>();
      for (let i = 0; i < after.rows.length; i++) afterByKey.set(this.keyOf(after.rows[i]!), { row: after.rows[i]!, seq: after.seqs[i]! });
      const changelog: KeyValueRecords = { rows: [], seqs: [], kinds: [] };
      const changes = new Map<string, { row: unknown[]; seq: number } | null>();
      // keys inserted and deleted within the checkpoint were never visible: no change
      const ordered = [...touched]
        .flatMap((k) => { const r = afterByKey.get(k) ?? rows.get(k); return r ? [{ k, row: r.row }] : []; })
        .sort((a, b) => keyCmp(a.row, b.row));
      let seq = m.newFiles.reduce((s, f) => Math.min(s, f.minSequenceNumber), Number.MAX_SAFE_INTEGER);
      for (const { k } of ordered) {
        const before = rows.get(k);
        const now = afterByKey.get(k);
        if (!before && now) push(changelog, now.row, seq++, INSERT);
        else if (before && !now) push(changelog, before.row, seq++, DELETE);
        else if (before && now && !sameRow(before.row, now.row)) {
          push(changelog, before.row, seq++, UPDATE_BEFORE);
          push(changelog, now.row, seq++, UPDATE_AFTER);
        }
        changes.set(k, now ?? null);
      }
      updates.push({ rows, changes });
      const files = changelog.rows.length === 0 ? [] : [await writeChangelogFile(t, m.partition, m.bucket, changelog, changelogFileName(this.prefix, this.counter++))];
      out.push({ ...m, changelogFiles: [...(m.changelogFiles ?? []), ...files] });
    }
    return {
      messages: out,
      apply: () => {
        for (const { rows, changes } of updates) for (const [k, v] of changes) { if (v) rows.set(k, v); else rows.delete(k); }
      },
    };
  }

  /** The commit landed as snapshot `id` (the cache now matches it). */
  committed(id: number | null): void {
    this.cachedAt = id;
  }
}

function push(kv: KeyValueRecords, row: unknown[], seq: number, kind: number): void {
  kv.rows.push(row);
  kv.seqs.push(seq);
  kv.kinds.push(kind);
}

function sameRow(a: unknown[], b: unknown[]): boolean {
  const norm = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x instanceof Map ? [...x.entries()] : x));
  return a.length === b.length && a.every((v, i) => v === b[i] || norm(v) === norm(b[i]));
}
