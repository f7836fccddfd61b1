/**
 * Batch reads: plan the splits (one per partition and bucket) of a snapshot, pruned by a predicate
 * on partition and bucket-key fields, then read each split with merge-on-read.
 */
import { ConfigError } from '../errors.ts';
import type { ManifestEntry } from '../format/manifest.ts';
import type { Snapshot } from '../format/snapshot.ts';
import { fieldIndex } from '../schema/schema.ts';
import { comparatorFor, normalizeValue } from '../schema/values.ts';
import { BinaryRowWriter, bucketOf } from '../format/binary-row.ts';
import type { FileStoreTable } from './table.ts';
import { concatBatches, mergeByKey } from './merge-reader.ts';
import { tagSnapshot } from './tags.ts';
import { StatsPruner } from './stats-pruning.ts';

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
}

export interface ReadOptions {
  /** Snapshot to read (time travel); default the latest. */
  snapshotId?: number;
  /** Tag to read (its snapshot, even after the snapshot itself expired); instead of snapshotId. */
  tag?: string;
  filter?: Condition[];
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

export async function planSplits(table: FileStoreTable, opts: ReadOptions = {}): Promise<{ snapshot: Snapshot | null; splits: Split[] }> {
  const snapshot = opts.tag !== undefined ? await tagSnapshot(table, opts.tag) : await resolveSnapshot(table, opts.snapshotId);
  if (!snapshot) return { snapshot: null, splits: [] };
  return { snapshot, splits: splitsOf(table, snapshot.id, await table.liveEntries(snapshot), opts.filter ?? []) };
}

/** Rows of one split after merge-on-read (arrays in field order). */
export async function readSplit(table: FileStoreTable, split: Split): Promise<unknown[][]> {
  const files = [...split.files].sort((a, b) => a.file.minSequenceNumber - b.file.minSequenceNumber);
  const batches = await Promise.all(files.map((e) => table.readDataFile(e)));
  if (!table.primaryKey) {
    const out: unknown[][] = [];
    for (const b of batches) for (const r of b.rows) out.push(r);
    return out;
  }
  return mergeByKey(table, concatBatches(batches), { ignoreDelete: table.options.ignoreDelete, keepRetractions: false }).rows;
}

/** All rows of the table at a snapshot (latest by default), filtered. */
export async function readTable(table: FileStoreTable, opts: ReadOptions = {}): Promise<unknown[][]> {
  const { splits } = await planSplits(table, opts);
  const test = opts.filter && opts.filter.length > 0 ? compileFilter(table, opts.filter) : null;
  const out: unknown[][] = [];
  for (const s of splits) {
    for (const r of await readSplit(table, s)) if (!test || test(r)) out.push(r);
  }
  return out;
}

/** A row array as an object keyed by field name. */
export function rowToObject(table: FileStoreTable, row: unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  table.schema.fields.forEach((f, i) => { o[f.name] = row[i]; });
  return o;
}
