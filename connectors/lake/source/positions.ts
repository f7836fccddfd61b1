/**
 * Where a lake source reader is, per bucket: reading the full content of snapshot S (batch, or the
 * initial snapshot of a streaming read), or having emitted the changes of every snapshot up to S.
 * `emitted` counts the rows of the unit in progress already emitted, so that a restore skips them
 * (reads are deterministic: a snapshot's rows come back in the same order).
 *
 * A bucket with its position is a split of the lake source (LakeBucketSplit); bucket b belongs to
 * reader b % parallelism.
 */
import type { SourceSplit } from '../../../runtime/source/contract.ts';

export interface BucketPosition {
  bucket: number;
  phase: 'snapshot' | 'delta' | 'done';
  snapshotId: number;
  emitted: number;
}

/** The snapshot a position reads next: S itself for a full read, S + 1 for changes. */
export function nextSnapshotOf(p: BucketPosition): number {
  return p.phase === 'snapshot' ? p.snapshotId : p.snapshotId + 1;
}

export interface LakeBucketSplit extends SourceSplit, BucketPosition {}

/**
 * Dynamic-bucket tables open buckets as they grow, so their splits are fixed groups of buckets:
 * split g reads every bucket b with b % DYNAMIC_BUCKET_SPLITS == g (a key lives in one bucket, so
 * merging within a group is merging per bucket). This bounds a source's useful parallelism.
 */
export const DYNAMIC_BUCKET_SPLITS = 16;

/** The split (its `bucket` field) that reads this bucket of the table. */
export function splitOfBucket(dynamicBucket: boolean, bucket: number): number {
  return dynamicBucket ? bucket % DYNAMIC_BUCKET_SPLITS : bucket;
}

export function bucketSplit(p: BucketPosition): LakeBucketSplit {
  return { id: `bucket-${p.bucket}`, bucket: p.bucket, phase: p.phase, snapshotId: p.snapshotId, emitted: p.emitted };
}
