/**
 * What flows between the lake sink's operators: rows tagged with their bucket (router -> writers,
 * hash-partitioned so that each bucket has exactly one writer), and commit messages (writers ->
 * committer, emitted at the barrier).
 */
import type { Change, RowKind } from '../../../operators/changelog.ts';
import { keyGroupOf, subtaskForKeyGroup } from '../../../state/key-groups.ts';
import type { CommitMessage } from '../table/writer.ts';

export interface BucketedRow {
  bucket: number;
  /** Paimon row kind byte: 0 +I, 1 -U, 2 +U, 3 -D */
  kind: number;
  /** The row in field order, in canonical JS values. */
  row: unknown[];
}

export interface LakeCommittable {
  /** The writer subtask that wrote these files (for metrics and debugging). */
  writer: number;
  messages: CommitMessage[];
}

const KIND_BYTES: Record<RowKind, number> = { '+I': 0, '-U': 1, '+U': 2, '-D': 3 };

/** A Change<T> is recognised by its two fields `kind` (+I, -U, +U, -D) and `row`; anything else is an inserted row. */
export function rowAndKind<T>(value: T | Change<T>): { row: unknown; kind: number } {
  if (typeof value === 'object' && value !== null && 'row' in value && 'kind' in value) {
    const kind = KIND_BYTES[(value as Change<T>).kind];
    if (kind !== undefined && Object.keys(value).length === 2) return { row: (value as Change<T>).row, kind };
  }
  return { row: value, kind: 0 };
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
