/** Table options (Paimon's names and defaults) read from the schema's `options`. */
import { ConfigError } from '../errors.ts';
import type { TableSchema } from '../schema/schema.ts';

export type MergeEngine = 'deduplicate' | 'partial-update' | 'aggregation' | 'first-row';

export interface TableOptions {
  /** Fixed bucket count; -1 for an append table without buckets (all files in bucket 0) or a dynamic-bucket primary-key table. */
  bucket: number;
  /** Primary-key table with `bucket = -1`: keys are assigned buckets by the HASH index (table/dynamic-bucket.ts). */
  dynamicBucket: { targetRowNum: number; maxBuckets: number } | null;
  mergeEngine: MergeEngine;
  sequenceFields: string[];
  ignoreDelete: boolean;
  fileCompression: string;
  /** Compaction output is rolled into files of about this many bytes (target-file-size). */
  targetFileSize: number;
  /** Number of sorted runs in a bucket that triggers a compaction (num-sorted-run.compaction-trigger). */
  compactionTrigger: number;
  /** Sorted runs in a bucket at which the writer waits for compaction (num-sorted-run.stop-trigger, default trigger + 3). */
  stopTrigger: number;
  numLevels: number;
  /** Universal compaction: merge everything when the newer runs exceed this percent of the oldest (compaction.max-size-amplification-percent). */
  maxSizeAmplificationPercent: number;
  /** Universal compaction: an older run joins a pick no more than this percent bigger than it (compaction.size-ratio). */
  sizeRatioPercent: number;
  /** Full compaction every this many checkpoints of a writer (full-compaction.delta-commits); 0: never. */
  fullCompactionDeltaCommits: number;
  snapshotRetainMin: number;
  snapshotRetainMax: number;
  snapshotTimeRetainedMs: number;
  manifestMergeMinCount: number;
  /** deletion-vectors.enabled: deletes and updates of older rows are kept as per-file deletion vectors. */
  deletionVectors: boolean;
  /**
   * A batch scan reads only files above level 0 (Java's `batchScanSkipLevel0`): with deletion
   * vectors (unless deletion-vectors.merge-on-read) and with the first-row merge engine, level-0
   * files are not visible to batch reads until compaction moves them up.
   */
  batchScanSkipLevel0: boolean;
  /** sequence.field.sort-order = descending: the smallest sequence field wins. */
  sequenceDescending: boolean;
  /** scan.fallback-branch: batch reads take partitions missing from this branch from that one. */
  fallbackBranch: string | null;
  /** fields.<name>.<key> options, by field name. */
  fieldOptions: Map<string, Record<string, string>>;
}

export function parseDuration(text: string, setting: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|min|m|h|d)?\s*$/i.exec(text);
  if (!m) throw new ConfigError(setting, `'${text}' is not a duration; write e.g. 30 s, 5 min, 1 h`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'ms').toLowerCase();
  const mult = unit === 'ms' ? 1 : unit === 's' || unit === 'sec' ? 1000 : unit === 'min' || unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000;
  return n * mult;
}

export function parseMemorySize(text: string, setting: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|bytes|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(text);
  if (!m) throw new ConfigError(setting, `'${text}' is not a memory size; write e.g. 128 mb, 64 kb, 1 gb`);
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const n = Math.floor(Number(m[1]) * mult);
  if (n < 1) throw new ConfigError(setting, `must be at least 1 byte, got '${text}'`);
  return n;
}

function int(opts: Record<string, string>, key: string, dflt: number): number {
  const v = opts[key];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ConfigError(key, `'${v}' is not an integer`);
  return n;
}

function bool(opts: Record<string, string>, key: string, dflt: boolean): boolean {
  const v = opts[key];
  return v === undefined ? dflt : v.toLowerCase() === 'true';
}

/**
 * Dynamic bucket mode (Paimon's default for primary-key tables: 'bucket' unset or -1). As Java:
 * no 'bucket-key' (the key is the primary key); a primary key without every partition field would be
 * Java's cross-partition update mode (a key moving between partitions), which Weir does not write.
 */
function dynamicBucketOptions(schema: TableSchema): { targetRowNum: number; maxBuckets: number } {
  const o = schema.options;
  if (o['bucket-key'] !== undefined) {
    throw new ConfigError('bucket-key', `'bucket-key' cannot be set with 'bucket' = -1 (dynamic buckets assign by primary key); remove it, or set a fixed 'bucket' count`);
  }
  const missing = schema.partitionKeys.filter((k) => !schema.primaryKeys.includes(k));
  if (missing.length > 0) {
    throw new ConfigError('bucket', `primary key (${schema.primaryKeys.join(', ')}) lacks partition field(s) ${missing.join(', ')}: with 'bucket' = -1 that is Paimon's cross-partition update mode, which Weir does not support; add them to the primary key or set a fixed 'bucket' count`);
  }
  const targetRowNum = int(o, 'dynamic-bucket.target-row-num', 2_000_000);
  if (targetRowNum < 1) throw new ConfigError('dynamic-bucket.target-row-num', `must be at least 1, got ${targetRowNum}`);
  const maxBuckets = int(o, 'dynamic-bucket.max-buckets', -1);
  if (maxBuckets !== -1 && (maxBuckets < 1 || maxBuckets > 32767)) {
    throw new ConfigError('dynamic-bucket.max-buckets', `must be -1 (no limit) or between 1 and 32767, got ${maxBuckets}`);
  }
  return { targetRowNum, maxBuckets };
}

export function tableOptions(schema: TableSchema): TableOptions {
  const o = schema.options;
  const isPk = schema.primaryKeys.length > 0;
  const bucket = int(o, 'bucket', -1);
  if (isPk && bucket < 1 && bucket !== -1) {
    throw new ConfigError('bucket', `'bucket' = ${bucket} is not supported for primary-key tables; use a fixed count (>= 1) or -1 (dynamic buckets)`);
  }
  const dynamicBucket = isPk && bucket === -1 ? dynamicBucketOptions(schema) : null;
  if (!isPk && bucket === 0) throw new ConfigError('bucket', `'bucket' must be -1 or >= 1`);
  const engine = (o['merge-engine'] ?? 'deduplicate') as MergeEngine;
  if (!['deduplicate', 'partial-update', 'aggregation', 'first-row'].includes(engine)) {
    throw new ConfigError('merge-engine', `'${engine}' is not supported; use deduplicate, partial-update, aggregation or first-row`);
  }
  const fileFormat = (o['file.format'] ?? 'parquet').toLowerCase();
  if (fileFormat !== 'parquet' && fileFormat !== 'avro') {
    throw new ConfigError('file.format', `'${fileFormat}' data files are not supported by Weir (no ORC reader for Node); Weir reads parquet and avro, writes parquet`);
  }
  const manifestFormat = (o['manifest.format'] ?? 'avro').toLowerCase();
  if (manifestFormat !== 'avro') {
    throw new ConfigError('manifest.format', `'${manifestFormat}' manifests are not supported by Weir (no ORC reader for Node); Weir reads tables with 'manifest.format' = 'avro' (Paimon's default)`);
  }
  for (const key of ['data-evolution.enabled', 'row-tracking.enabled']) {
    if (bool(o, key, false)) {
      throw new ConfigError(key, `'${key}' = 'true' (data evolution: files holding some columns, merged by row id) is not supported by Weir; read this table with Java Paimon`);
    }
  }
  const fieldOptions = new Map<string, Record<string, string>>();
  for (const [k, v] of Object.entries(o)) {
    const m = /^fields\.(.+)\.([a-z-]+(?:\.[a-z-]+)*)$/.exec(k);
    if (!m) continue;
    const name = m[1]!;
    const opts = fieldOptions.get(name) ?? {};
    opts[m[2]!] = v;
    fieldOptions.set(name, opts);
  }
  const trigger = int(o, 'num-sorted-run.compaction-trigger', 5);
  const deletionVectors = bool(o, 'deletion-vectors.enabled', false);
  return {
    bucket,
    dynamicBucket,
    mergeEngine: engine,
    sequenceFields: (o['sequence.field'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
    ignoreDelete: bool(o, 'ignore-delete', false) || bool(o, 'partial-update.ignore-delete', false) || bool(o, 'first-row.ignore-delete', false),
    fileCompression: o['file.compression'] ?? 'zstd',
    // Paimon's defaults: 128 mb for primary-key tables, 256 mb for append tables
    targetFileSize: parseMemorySize(o['target-file-size'] ?? (isPk ? '128 mb' : '256 mb'), 'target-file-size'),
    compactionTrigger: trigger,
    stopTrigger: int(o, 'num-sorted-run.stop-trigger', trigger + 3),
    numLevels: int(o, 'num-levels', trigger + 1),
    maxSizeAmplificationPercent: int(o, 'compaction.max-size-amplification-percent', 200),
    sizeRatioPercent: int(o, 'compaction.size-ratio', 1),
    fullCompactionDeltaCommits: int(o, 'full-compaction.delta-commits', 0),
    snapshotRetainMin: int(o, 'snapshot.num-retained.min', 10),
    snapshotRetainMax: int(o, 'snapshot.num-retained.max', 2147483647),
    snapshotTimeRetainedMs: parseDuration(o['snapshot.time-retained'] ?? '1 h', 'snapshot.time-retained'),
    manifestMergeMinCount: int(o, 'manifest.merge-min-count', 30),
    deletionVectors,
    batchScanSkipLevel0: isPk && ((deletionVectors && !bool(o, 'deletion-vectors.merge-on-read', false)) || engine === 'first-row'),
    sequenceDescending: (o['sequence.field.sort-order'] ?? 'ascending').toLowerCase() === 'descending',
    fallbackBranch: o['scan.fallback-branch'] ?? null,
    fieldOptions,
  };
}
