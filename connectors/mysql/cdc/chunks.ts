/**
 * Snapshot chunks: primary-key ranges of a table, each read in its own consistent-snapshot
 * transaction. The chunk key is the first primary-key column. Integer keys are split into ranges of
 * about `chunkSize` rows: evenly by value when the keys are dense (max - min is at most
 * `DENSE_FACTOR` times the row count), else at the keys found every `chunkSize` rows (Flink CDC's
 * "unevenly sized chunks"). Other key types make one chunk per table: the binlog hand-off compares
 * keys in JavaScript, which must order them as MySQL does, and for collated strings it cannot.
 */
import type { CdcTableSchema, ChunkBound, SnapshotSplit } from './types.ts';

export const DENSE_FACTOR = 2;

/** Orders chunk keys: numbers and bigints by value, strings by code unit. */
export function compareKeys(a: ChunkBound, b: ChunkBound): number {
  if (typeof a === 'string' || typeof b === 'string') return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True if `key` is in [lo, hi) (null bounds are open). */
export function inRange(key: ChunkBound, lo: ChunkBound | null, hi: ChunkBound | null): boolean {
  return (lo === null || compareKeys(key, lo) >= 0) && (hi === null || compareKeys(key, hi) < 0);
}

/** Chunk bounds from inner split points: [null, p0), [p0, p1), ..., [pn, null). */
export function chunksFromSplitPoints(schema: CdcTableSchema, points: readonly ChunkBound[]): SnapshotSplit[] {
  const table = schema.table;
  const chunkKey = schema.primaryKeys[0] ?? '';
  const bounds: (ChunkBound | null)[] = [null, ...points, null];
  const out: SnapshotSplit[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    out.push({ id: `chunk:${table}:${i}`, kind: 'snapshot', table, chunkKey, index: i, lo: bounds[i]!, hi: bounds[i + 1]!, schema });
  }
  return out;
}

/**
 * Split points for dense integer keys in [min, max]: every `step` values, where step covers about
 * `chunkSize` rows. Null if the keys are too sparse for even splitting (then split at found keys).
 */
export function evenSplitPoints(min: bigint, max: bigint, rowCount: number, chunkSize: number): bigint[] | null {
  if (rowCount <= chunkSize) return [];
  const span = max - min + 1n;
  if (span > BigInt(rowCount) * BigInt(DENSE_FACTOR)) return null;
  const step = (span * BigInt(chunkSize)) / BigInt(rowCount) || 1n;
  const points: bigint[] = [];
  for (let p = min + step; p <= max; p += step) points.push(p);
  return points;
}

/** Integer column types whose keys can be split (and compared in JavaScript as MySQL does). */
export function isSplittableKeyType(columnType: string): boolean {
  return /^(tinyint|smallint|mediumint|int|integer|bigint)\b/i.test(columnType.trim());
}

/** A bigint point as the chunk bound kept in state: a number when it is safe, else the bigint. */
export function toBound(v: bigint): ChunkBound {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
