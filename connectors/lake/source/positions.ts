/**
 * Where a lake source reader is, per bucket: reading the full content of snapshot S (batch, or the
 * initial snapshot of a streaming read), or having emitted the changes of every snapshot up to S.
 * `emitted` counts the rows of the unit in progress already emitted, so that a restore skips them
 * (reads are deterministic: a snapshot's rows come back in the same order).
 *
 * Kept per bucket in union operator state: after a rescale each subtask takes the buckets it now owns.
 */
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

/** The buckets of subtask `index` of `parallelism`: bucket % parallelism (bucket-unaware tables: bucket 0, subtask 0). */
export function ownedBuckets(totalBuckets: number, index: number, parallelism: number): number[] {
  if (totalBuckets <= 0) return index === 0 ? [0] : [];
  const out: number[] = [];
  for (let b = index; b < totalBuckets; b += parallelism) out.push(b);
  return out;
}

/** Orders two positions of one bucket by progress (positive if `a` is further). */
export function compareProgress(a: BucketPosition, b: BucketPosition): number {
  const rank = (p: BucketPosition): number => (p.phase === 'snapshot' ? 0 : p.phase === 'delta' ? 1 : 2);
  if (rank(a) === 2 || rank(b) === 2) return rank(a) - rank(b);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  return a.snapshotId !== b.snapshotId ? a.snapshotId - b.snapshotId : a.emitted - b.emitted;
}

/** Whether subtask `index` of `parallelism` reads bucket `bucket` (see ownedBuckets). */
export function ownsBucket(bucket: number, index: number, parallelism: number): boolean {
  return bucket % parallelism === index;
}
