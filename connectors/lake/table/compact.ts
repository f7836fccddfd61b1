/**
 * Compaction of one bucket: merge its files (sorted runs) into one file. Planning is pure over the
 * live files; running a task takes and returns plain data (no closures, no open handles), so tasks
 * can be shipped to a worker pool; committing the results is a COMPACT snapshot via TableCommit.
 *
 * Trigger: a bucket is compacted when it has `num-sorted-run.compaction-trigger` (5) or more sorted
 * runs (each level-0 file is a run, each higher level one run), or always with `full`. Primary-key
 * buckets merge the runs universal compaction picks (universal-compaction.ts) into the level above
 * the runs left out, or everything into the last level (num-levels - 1), where retractions are
 * dropped; append buckets are concatenated in sequence order at level 0.
 */
import { randomUUID } from 'node:crypto';
import type { DataFileMeta } from '../format/manifest.ts';
import { DELETION_VECTORS_INDEX, type DeletionFile } from '../format/deletion-vectors.ts';
import { fileIOFor, type FileIO } from '../fs/index.ts';
import type { S3Options } from '../fs/s3.ts';
import { schemaFromJson, schemaToJson } from '../schema/schema.ts';
import { FileStoreTable } from './table.ts';
import { TableCommit, liveFilesByBucket, type LiveFilesByBucket } from './commit.ts';
import type { CommitMessage } from './writer.ts';
import { concatBatches, mergeByKey } from './merge-reader.ts';
import { writeRolledFiles } from './rolling-files.ts';
import { type DvCompactInfo, runDvCompaction } from './dv-compact.ts';
import { pickUniversalCompaction, type CompactionPick } from './universal-compaction.ts';

export interface CompactTask {
  tablePath: string;
  /** JSON of the table schema the output is written with */
  schemaJson: string;
  partition: string;
  bucket: number;
  totalBuckets: number;
  files: DataFileMeta[];
  outputLevel: number;
  /** Drop retractions: true when every file of the bucket is merged into the last level. */
  dropRetractions: boolean;
  outputFileName: string;
  s3?: S3Options;
  /** Deletion-vector tables: the bucket's vectors, and the last-level files to look keys up in (dv-compact.ts). */
  dv?: DvCompactInfo;
}

export function sortedRunCount(files: DataFileMeta[]): number {
  const levels = new Set<number>();
  let level0 = 0;
  for (const f of files) {
    if (f.level === 0) level0++;
    else levels.add(f.level);
  }
  return level0 + levels.size;
}

/**
 * Whether a bucket's files need compaction: which of them, into which level, and whether retractions
 * can go. Pure. Primary-key buckets pick runs as Java's universal compaction does
 * (universal-compaction.ts); `full` merges everything into the last level.
 */
export function pickCompaction(
  files: DataFileMeta[], primaryKey: boolean,
  opts: { full: boolean; trigger: number; maxLevel: number; forceUpLevel0?: boolean; universal?: boolean; sizeRatioPercent?: number; maxSizeAmplificationPercent?: number },
): CompactionPick | null {
  if (files.length === 0) return null;
  if (!primaryKey) {
    if (files.length < 2 || (!opts.full && files.length < opts.trigger)) return null;
    return { files, outputLevel: 0, dropRetractions: false };
  }
  const everything = { files, outputLevel: opts.maxLevel, dropRetractions: true };
  if (opts.full) {
    const done = files.length === 1 && files[0]!.level === opts.maxLevel && (files[0]!.deleteRowCount ?? 0) === 0;
    return done ? null : everything;
  }
  // first-row and deletion-vector tables: batch reads see no level-0 file, so any level-0 file is
  // compacted up right away (Java's ForceUpLevel0Compaction of lookup tables)
  if (opts.forceUpLevel0 && files.some((f) => f.level === 0)) return everything;
  // deletion-vector tables merge the levels above the last into the one below it (dv-compact.ts)
  if (opts.forceUpLevel0 || opts.universal === false) return sortedRunCount(files) >= opts.trigger ? everything : null;
  return pickUniversalCompaction(files, {
    trigger: opts.trigger, maxLevel: opts.maxLevel, sizeRatioPercent: opts.sizeRatioPercent ?? 1, maxSizeAmplificationPercent: opts.maxSizeAmplificationPercent ?? 200,
  });
}

/** Compaction tasks for the latest snapshot of a table. */
export async function planCompaction(table: FileStoreTable, opts: { full?: boolean; s3?: S3Options; live?: LiveFilesByBucket } = {}): Promise<CompactTask[]> {
  const groups = opts.live ?? (await liveFilesByBucket(table));
  const tasks: CompactTask[] = [];
  const uuid = randomUUID();
  const prefix = `data-${uuid}-`;
  let n = 0;
  const schemaJson = schemaToJson(table.schema);
  const maxLevel = table.options.numLevels - 1;
  const dvTable = table.primaryKey && table.options.deletionVectors;
  const latest = dvTable ? await table.snapshots.latest() : null;
  const dvFiles = latest ? await table.deletionFiles(latest) : new Map<string, Map<string, DeletionFile>>();
  // a compaction replaces the bucket's deletion vectors only (a dynamic-bucket table's HASH index stays)
  const indexEntries = latest ? (await table.indexEntries(latest)).filter((e) => e.indexType === DELETION_VECTORS_INDEX) : [];
  for (const g of groups.values()) {
    const full = opts.full ?? false;
    const pick = pickCompaction(g.files, table.primaryKey, {
      full, trigger: table.options.compactionTrigger, maxLevel, forceUpLevel0: table.options.batchScanSkipLevel0, universal: !dvTable,
      sizeRatioPercent: table.options.sizeRatioPercent, maxSizeAmplificationPercent: table.options.maxSizeAmplificationPercent,
    });
    const vectors = dvFiles.get(`${g.partition}|${g.bucket}`);
    if (!pick && !(full && vectors && vectors.size > 0)) continue;
    const task: CompactTask = {
      tablePath: table.path,
      schemaJson,
      partition: g.partition,
      bucket: g.bucket,
      totalBuckets: table.totalBuckets,
      files: pick?.files ?? g.files,
      outputLevel: pick?.outputLevel ?? maxLevel,
      dropRetractions: table.primaryKey && (pick?.dropRetractions ?? true),
      outputFileName: `${prefix}${n++}.parquet`,
      ...(opts.s3 ? { s3: opts.s3 } : {}),
    };
    if (dvTable) {
      // lookup compaction: level 0 and the level below the last are merged, the last level gets vectors
      const lookupFiles = full ? [] : g.files.filter((f) => f.level === maxLevel);
      if (lookupFiles.length > 0) {
        task.files = g.files.filter((f) => f.level < maxLevel);
        task.outputLevel = maxLevel - 1;
        task.dropRetractions = true;
      }
      task.dv = {
        lookupFiles,
        deletionFiles: Object.fromEntries(vectors ?? []),
        indexEntries: indexEntries.filter((e) => e.partition === g.partition && e.bucket === g.bucket),
        indexFileName: `index-${uuid}-${n}`,
      };
    }
    tasks.push(task);
  }
  return tasks;
}

/**
 * Runs one task: reads the files, merges them, writes the result. Plain data in, plain data out; in a
 * worker, leave `fileIO` out and the task's path and S3 options make one.
 */
export async function runCompactTask(task: CompactTask, fileIO?: FileIO): Promise<CommitMessage> {
  const io = fileIO ?? fileIOFor(task.tablePath, task.s3);
  const schema = schemaFromJson(task.schemaJson, `compaction task of ${task.tablePath}`);
  const table = new FileStoreTable(io, task.tablePath, schema);
  if (task.dv && task.dv.lookupFiles.length > 0) return runDvCompaction(table, task, task.files, task.dv);
  const files = [...task.files].sort((a, b) => a.minSequenceNumber - b.minSequenceNumber);
  const entries = files.map((file) => ({ kind: 0, partition: task.partition, bucket: task.bucket, totalBuckets: task.totalBuckets, file }));
  const dvs = task.dv?.deletionFiles ?? {};
  const batches = await Promise.all(entries.map(async (e) => {
    const d = dvs[e.file.fileName];
    return table.readDataFile(e, d ? await table.deletionVector(d) : null);
  }));
  let merged = concatBatches(batches);
  if (table.primaryKey) {
    merged = mergeByKey(table, merged, { ignoreDelete: table.options.ignoreDelete, keepRetractions: !task.dropRetractions });
  } else {
    let seq = files[0]?.minSequenceNumber ?? 0;
    merged.seqs = merged.rows.map(() => seq++);
  }
  const message: CommitMessage = {
    partition: task.partition, bucket: task.bucket, totalBuckets: task.totalBuckets, newFiles: [], compactBefore: task.files, compactAfter: [],
  };
  // every file of the bucket was rewritten: its deletion vectors go with them
  if (task.dv && task.dv.indexEntries.length > 0) message.deletedIndexFiles = task.dv.indexEntries;
  if (merged.rows.length > 0) {
    const out = { partition: task.partition, bucket: task.bucket, level: task.outputLevel, fileName: task.outputFileName, inputs: task.files };
    message.compactAfter.push(...(await writeRolledFiles(table, io, merged, out)));
  }
  return message;
}

export interface CompactTableOptions {
  full?: boolean;
  commitUser?: string;
  /** Runs a task; default in this thread. Pass a worker-pool call to spread the work. */
  run?: (task: CompactTask) => Promise<CommitMessage>;
  s3?: S3Options;
}

/** Plans, runs and commits a compaction of the whole table; returns the COMPACT snapshot id (or null if nothing to do). */
export async function compactTable(table: FileStoreTable, opts: CompactTableOptions = {}): Promise<number | null> {
  const tasks = await planCompaction(table, opts);
  if (tasks.length === 0) return null;
  const run = opts.run ?? ((task: CompactTask) => runCompactTask(task, table.io));
  const messages = await Promise.all(tasks.map((t) => run(t)));
  const commit = new TableCommit(table, opts.commitUser ?? `compact-${randomUUID()}`);
  const ids = await commit.commitCompaction(Date.now(), messages);
  return ids[ids.length - 1] ?? null;
}
