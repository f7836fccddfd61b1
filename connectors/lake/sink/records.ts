/**
 * What flows between the lake sink's operators: rows tagged with their bucket (router -> writers,
 * hash-partitioned so that each bucket has exactly one writer), and commit messages (writers ->
 * committer, emitted at the barrier).
 */
import { isChange, rowKindByte, type Change } from '../../../operators/changelog.ts';
import { keyGroupOf, subtaskForKeyGroup } from '../../../state/key-groups.ts';
import type { CommitMessage } from '../table/writer.ts';

/**
 * A row on its way to its writer: one flat object, `__bucket` (the bucket; for dynamic-bucket tables
 * the writer that assigns the key's bucket, table/dynamic-bucket.ts) and `__kind` (Paimon row kind byte:
 * 0 +I, 1 -U, 2 +U, 3 -D) then the table's fields by name with the user's values. Flat objects of
 * primitives cross threads as typed columns (runtime/exchange/batch-codec.ts); a nested row array
 * would go through msgpack record by record, at about half the speed.
 */
export type BucketedRow = Record<string, unknown> & { __bucket: number; __kind: number };

export const BUCKET_FIELD = '__bucket';
export const KIND_FIELD = '__kind';

/** Builds BucketedRows for a table's field names (a generated function: fixed shape, no loops). */
export function bucketedRowBuilder(names: readonly string[]): (bucket: number, kind: number, row: unknown) => BucketedRow {
  const lit = names.map((n, i) => `${JSON.stringify(n)}: a ? row[${i}] : row[${JSON.stringify(n)}]`).join(', ');
  return new Function('bucket', 'kind', 'row', `const a = Array.isArray(row); return { __bucket: bucket, __kind: kind${names.length > 0 ? ', ' : ''}${lit} };`) as (bucket: number, kind: number, row: unknown) => BucketedRow;
}

/** The row array (field order) of a BucketedRow. */
export function rowReader(names: readonly string[]): (r: BucketedRow) => unknown[] {
  return new Function('r', `return [${names.map((n) => `r[${JSON.stringify(n)}]`).join(', ')}];`) as (r: BucketedRow) => unknown[];
}

export interface LakeCommittable {
  /** The writer subtask that wrote these files (for metrics and debugging). */
  writer: number;
  messages: CommitMessage[];
  /** The writer's watermark at the barrier, when it rose since the writer last said (finite only). */
  watermark?: number;
  /** How many writers the sink has: the table's watermark is the least of theirs once all said. */
  writers?: number;
}

/** A row and its Paimon row-kind byte (isChange decides what is a Change<T>). */
export function rowAndKind<T>(value: T | Change<T>): { row: unknown; kind: number } {
  return isChange(value) ? { row: value.row, kind: rowKindByte(value.kind) } : { row: value, kind: 0 };
}

/**
 * For each writer subtask, a key whose hash lands on it: rows of bucket b are keyed with the key of
 * subtask `b % parallelism`, so buckets spread evenly over the writers (a plain hash of a few bucket
 * numbers often puts two of four buckets on one subtask) and each bucket has exactly one writer.
 */
export function subtaskKeys(parallelism: number, maxParallelism: number): number[] {
  const keys: number[] = [];
  for (let t = 0; t < parallelism; t++) {
    let k = 0;
    while (subtaskForKeyGroup(keyGroupOf(k, maxParallelism), parallelism, maxParallelism) !== t) k++;
    keys.push(k);
  }
  return keys;
}
