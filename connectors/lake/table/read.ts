/**
 * Batch reads: plan the splits (one per partition and bucket) of a snapshot, pruned by a predicate
 * on partition and bucket-key fields, then read each split, as Java Paimon's batch scan does:
 *
 * - a snapshot is read with its own schema (time travel to a snapshot before an ALTER TABLE sees
 *   the columns of then); files written under older schemas are cast to it (schema/casts.ts);
 * - deletion vectors (`deletion-vectors.enabled`) drop the rows they mark in each file;
 * - with deletion vectors (unless `deletion-vectors.merge-on-read`) and with the first-row merge
 *   engine, the batch scan skips level-0 files (options.ts `batchScanSkipLevel0`); the files above
 *   level 0 of a deletion-vector table hold each key once, so they are read without merging;
 * - otherwise primary-key splits are merged on read by key (merge-reader.ts);
 * - `scan.fallback-branch`: partitions that the main branch does not have are read from the
 *   fallback branch (fallback.ts).
 */
import { ConfigError } from '../errors.ts';
import type { ManifestEntry } from '../format/manifest.ts';
import type { DeletionFile } from '../format/deletion-vectors.ts';
import type { Snapshot } from '../format/snapshot.ts';
import { fieldIndex } from '../schema/schema.ts';
import { comparatorFor, normalizeValue } from '../schema/values.ts';
import { BinaryRowWriter, bucketOf } from '../format/binary-row.ts';
import type { FileStoreTable } from './table.ts';
import { concatBatches, mergeByKey } from './merge-reader.ts';
import { tagSnapshot } from './tags.ts';
import { StatsPruner } from './stats-pruning.ts';
import { isRetract } from './merge.ts';

export type PredicateOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'isNull' | 'isNotNull';

/** One condition on a field; a predicate is a conjunction (AND) of these. */
export interface Condition {
  field: string;
  op: PredicateOp;
  value?: unknown;
}

export interface Split {
  snapshotId: number;
  partition: string;
  bucket: number;
  files: ManifestEntry[];
  /** Deletion vectors of the split's files, by data file name (deletion-vector tables). */
  deletionFiles?: Record<string, DeletionFile>;
}

export interface ReadOptions {
  /** Snapshot to read (time travel); default the latest. */
  snapshotId?: number;
  /** Tag to read (its snapshot, even after the snapshot itself expired); instead of snapshotId. */
  tag?: string;
  filter?: Condition[];
  /**
   * Read every level, level 0 included (the first read of a streaming source, which continues with
   * the level-0 deltas of later snapshots). Default: the batch scan's rule (`batchScanSkipLevel0`).
   */
  allLevels?: boolean;
}

function testCondition(c: Condition, v: unknown, cmp: (a: unknown, b: unknown) => number): boolean {
  switch (c.op) {
    case 'isNull': return v === null || v === undefined;
    case 'isNotNull': return v !== null && v !== undefined;
    default: break;
  }
  if (v === null || v === undefined) return false;
  switch (c.op) {
    case '=': return cmp(v, c.value) === 0;
    case '!=': return cmp(v, c.value) !== 0;
    case '<': return cmp(v, c.value) < 0;
    case '<=': return cmp(v, c.value) <= 0;
    case '>': return cmp(v, c.value) > 0;
    case '>=': return cmp(v, c.value) >= 0;
    case 'in': return (c.value as unknown[]).some((x) => cmp(v, x) === 0);
  }
}

/** Compiles a conjunction over table rows (arrays in field order). */
export function compileFilter(table: FileStoreTable, filter: Condition[]): (row: unknown[]) => boolean {
  const compiled = filter.map((c) => {
    const i = fieldIndex(table.schema, c.field);
    const t = table.schema.fields[i]!.type;
    const norm = (x: unknown): unknown => normalizeValue({ ...t, nullable: true }, x, c.field);
    const cond: Condition = { ...c, value: c.op === 'in' ? (c.value as unknown[]).map(norm) : c.value === undefined ? undefined : norm(c.value) };
    const cmp = comparatorFor(t);
    return (row: unknown[]) => testCondition(cond, row[i], cmp);
  });
  return (row) => compiled.every((f) => f(row));
}

/** Buckets a filter pins down (equality or IN on every bucket-key field), or null for all buckets. */
export function bucketsFor(table: FileStoreTable, filter: Condition[]): Set<number> | null {
  if (table.options.bucket <= 0) return null;
  const names = table.bucketKeyIndexes.map((i) => table.schema.fields[i]!.name);
  const choices: unknown[][] = [];
  for (const name of names) {
    const c = filter.find((x) => x.field === name && (x.op === '=' || x.op === 'in'));
    if (!c) return null;
    const t = table.schema.fields[fieldIndex(table.schema, name)]!.type;
    const vals = c.op === 'in' ? (c.value as unknown[]) : [c.value];
    choices.push(vals.map((v) => normalizeValue(t, v, name)));
  }
  const w = new BinaryRowWriter(table.bucketKeyIndexes.map((i) => table.schema.fields[i]!.type));
  const out = new Set<number>();
  const combo = (k: number, acc: unknown[]): void => {
    if (out.size > 4096) return;
    if (k === choices.length) { w.encode(acc); out.add(bucketOf(w.hash(), table.options.bucket)); return; }
    for (const v of choices[k]!) combo(k + 1, [...acc, v]);
  };
  combo(0, []);
  return out;
}

export async function resolveSnapshot(table: FileStoreTable, snapshotId?: number): Promise<Snapshot | null> {
  if (snapshotId === undefined) return table.snapshots.latest();
  if (!(await table.snapshots.exists(snapshotId))) {
    throw new ConfigError('snapshot', `snapshot ${snapshotId} of ${table.path} does not exist (expired or not yet written)`);
  }
  return table.snapshots.snapshot(snapshotId);
}

/** Groups live files by partition and bucket, pruning with the filter. */
export function splitsOf(table: FileStoreTable, snapshotId: number, entries: ManifestEntry[], filter: Condition[] = []): Split[] {
  const partFilter = filter.filter((c) => table.schema.partitionKeys.includes(c.field));
  const partTest = partFilter.length > 0 ? compileFilter(table, partFilter) : null;
  const buckets = bucketsFor(table, filter);
  const pruner = new StatsPruner(table, filter);
  const groups = new Map<string, Split>();
  const partOk = new Map<string, boolean>();
  for (const e of entries) {
    if (buckets && !buckets.has(e.bucket)) continue;
    if (partTest) {
      let ok = partOk.get(e.partition);
      if (ok === undefined) {
        const values = table.decodePartition(e.partition);
        const row = new Array<unknown>(table.schema.fields.length).fill(null);
        table.partitionIndexes.forEach((fi, k) => { row[fi] = values[k]; });
        ok = partTest(row);
        partOk.set(e.partition, ok);
      }
      if (!ok) continue;
    }
    if (pruner.active && !pruner.mayMatch(e)) continue;
    const key = `${e.partition}|${e.bucket}`;
    let g = groups.get(key);
    if (!g) { g = { snapshotId, partition: e.partition, bucket: e.bucket, files: [] }; groups.set(key, g); }
    g.files.push(e);
  }
  return [...groups.values()];
}

/** Splits of a snapshot as this table's reader sees it (see the module comment for the rules). */
export async function planSplits(table: FileStoreTable, opts: ReadOptions = {}): Promise<{ snapshot: Snapshot | null; splits: Split[] }> {
  const snapshot = opts.tag !== undefined ? await tagSnapshot(table, opts.tag) : await resolveSnapshot(table, opts.snapshotId);
  if (!snapshot) return { snapshot: null, splits: [] };
  let entries = await table.liveEntries(snapshot);
  if (!opts.allLevels && table.options.batchScanSkipLevel0) entries = entries.filter((e) => e.file.level > 0);
  const splits = splitsOf(table, snapshot.id, entries, opts.filter ?? []);
  if (snapshot.indexManifest) {
    const dvs = await table.deletionFiles(snapshot);
    for (const s of splits) {
      const byFile = dvs.get(`${s.partition}|${s.bucket}`);
      if (!byFile) continue;
      const mine: Record<string, DeletionFile> = {};
      for (const e of s.files) {
        const d = byFile.get(e.file.fileName);
        if (d) mine[e.file.fileName] = d;
      }
      if (Object.keys(mine).length > 0) s.deletionFiles = mine;
    }
  }
  return { snapshot, splits };
}

/** Rows of one split (arrays in the table's field order), deletion vectors applied and merged by key. */
export async function readSplit(table: FileStoreTable, split: Split): Promise<unknown[][]> {
  const files = [...split.files].sort((a, b) => a.file.minSequenceNumber - b.file.minSequenceNumber);
  const dvs = split.deletionFiles ?? {};
  const batches = await Promise.all(files.map(async (e) => {
    const d = dvs[e.file.fileName];
    return table.readDataFile(e, d ? await table.deletionVector(d) : null);
  }));
  const out: unknown[][] = [];
  if (!table.primaryKey) {
    for (const b of batches) for (const r of b.rows) out.push(r);
    return out;
  }
  const oneRecordPerKey = (table.options.deletionVectors && files.every((e) => e.file.level > 0))
    || (files.length === 1 && table.options.mergeEngine !== 'aggregation');
  if (oneRecordPerKey) {
    // above level 0 a deletion-vector table holds each key once, and a file holds a key once: no
    // merge needed (Java's raw-convertible split); a retraction there means the key is gone
    for (const b of batches) for (let i = 0; i < b.rows.length; i++) if (!isRetract(b.kinds[i]!)) out.push(b.rows[i]!);
    return out;
  }
  return mergeByKey(table, concatBatches(batches), { ignoreDelete: table.options.ignoreDelete, keepRetractions: false }).rows;
}

/** The table with the schema a snapshot was written with (the latest table for no snapshot). */
export async function tableAtSnapshot(table: FileStoreTable, snapshotId?: number): Promise<FileStoreTable> {
  const s = await resolveSnapshot(table, snapshotId);
  return s ? table.atSchema(s.schemaId) : table;
}

/**
 * All rows of the table at a snapshot (latest by default), filtered. Without `snapshotId` the rows
 * are in this table's schema; time travel (`snapshotId`) reads with that snapshot's schema, as Java
 * does (`tableAtSnapshot(table, id).schema` gives the field order).
 */
export async function readTable(table: FileStoreTable, opts: ReadOptions = {}): Promise<unknown[][]> {
  const snapshot = await resolveSnapshot(table, opts.snapshotId);
  const t = snapshot && opts.snapshotId !== undefined ? await table.atSchema(snapshot.schemaId) : table;
  const at = snapshot ? { ...opts, snapshotId: snapshot.id } : opts;
  const { splits } = await planSplits(t, at);
  const test = opts.filter && opts.filter.length > 0 ? compileFilter(t, opts.filter) : null;
  const out: unknown[][] = [];
  for (const s of splits) {
    for (const r of await readSplit(t, s)) if (!test || test(r)) out.push(r);
  }
  const fallback = t.options.fallbackBranch;
  if (fallback && t.branch !== fallback) {
    // partitions the main branch lacks come from the fallback branch (its latest snapshot)
    const have = new Set((snapshot ? await t.liveEntries(snapshot) : []).map((e) => e.partition));
    const other = await t.onBranch(fallback);
    for (const r of await readFallback(t, other, have, opts.filter ?? [])) if (!test || test(r)) out.push(r);
  }
  return out;
}

/** Rows of the fallback branch's partitions missing from `have`, in the main table's field order (by name). */
async function readFallback(main: FileStoreTable, fallback: FileStoreTable, have: Set<string>, filter: Condition[]): Promise<unknown[][]> {
  const snapshot = await fallback.snapshots.latest();
  if (!snapshot) return [];
  const t = await fallback.atSchema(snapshot.schemaId);
  const fbFilter = filter.filter((c) => t.schema.fields.some((f) => f.name === c.field));
  const { splits } = await planSplits(t, { snapshotId: snapshot.id, filter: fbFilter });
  const index = main.schema.fields.map((f) => t.schema.fields.findIndex((x) => x.name === f.name));
  const out: unknown[][] = [];
  for (const s of splits) {
    if (have.has(s.partition)) continue;
    for (const r of await readSplit(t, s)) out.push(index.map((i) => (i < 0 ? null : r[i])));
  }
  return out;
}

/** A row array as an object keyed by field name. */
export function rowToObject(table: FileStoreTable, row: unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  table.schema.fields.forEach((f, i) => { o[f.name] = row[i]; });
  return o;
}

/**
 * Rows as objects keyed by field name, typed by the caller's record type `R` (default: the JS
 * values of the table's types, see schema/types.ts). Time travel uses the snapshot's schema.
 */
export async function readRows<R extends object = Record<string, unknown>>(table: FileStoreTable, opts: ReadOptions = {}): Promise<R[]> {
  const t = opts.snapshotId === undefined ? table : await tableAtSnapshot(table, opts.snapshotId);
  return (await readTable(table, opts)).map((r) => rowToObject(t, r) as R);
}
