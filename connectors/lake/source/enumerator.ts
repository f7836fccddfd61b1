/**
 * The lake source's split enumerator (on the job manager): opens the table once, fixes where every
 * bucket starts (the same snapshot for all buckets: the given one, or the latest at start), and
 * deals the buckets out as splits, bucket b to reader b % parallelism. A streaming source whose
 * table does not exist yet looks for it every poll interval. Its checkpoint is the buckets not yet
 * assigned and whether discovery finished; a restored enumerator does not discover again.
 */
import { SchemaManager } from '../schema/schema-manager.ts';
import { fileIOFor } from '../fs/index.ts';
import { openLakeTable } from '../sink/table-access.ts';
import { OwnedSplitEnumerator, type OwnedSplitsState } from '../../../runtime/source/owned-split-enumerator.ts';
import type { SplitEnumerator, SplitEnumeratorContext } from '../../../runtime/source/contract.ts';
import { DYNAMIC_BUCKET_SPLITS, bucketSplit, type BucketPosition, type LakeBucketSplit } from './positions.ts';
import type { LakeReadSettings } from './reader.ts';

export type LakeEnumeratorState = OwnedSplitsState<LakeBucketSplit>;

export class LakeSplitEnumerator implements SplitEnumerator<LakeBucketSplit, LakeEnumeratorState> {
  private readonly owned: OwnedSplitEnumerator<LakeBucketSplit>;
  private discovered: boolean;

  constructor(
    private readonly ctx: SplitEnumeratorContext<LakeBucketSplit>,
    private readonly settings: LakeReadSettings,
    state: LakeEnumeratorState = { pending: [], discoveryFinished: false },
  ) {
    this.owned = new OwnedSplitEnumerator(ctx, (s, p) => s.bucket % p, state);
    this.discovered = state.discoveryFinished;
  }

  start(): void {
    if (this.discovered) return;
    const period = this.settings.bounded ? undefined : this.settings.pollIntervalMs;
    this.ctx.callAsync(
      () => this.discover(),
      (splits) => {
        if (this.discovered || splits === undefined) return;
        this.discovered = true;
        this.owned.addSplits(splits);
        this.owned.finishDiscovery();
      },
      period,
    );
  }

  /** The buckets with their start positions, or undefined while a streaming source's table does not exist. */
  private async discover(): Promise<LakeBucketSplit[] | undefined> {
    if (this.discovered) return undefined;
    const s = this.settings;
    const loc = s.location;
    if (!s.bounded) {
      const schemas = new SchemaManager(fileIOFor(loc.path, loc.s3), loc.path.replace(/\/+$/, ''));
      if ((await schemas.latest()) === null) return undefined;
    }
    const table = await openLakeTable(loc);
    const latest = await table.snapshots.latestId();
    const splits = table.options.dynamicBucket ? DYNAMIC_BUCKET_SPLITS : table.totalBuckets > 0 ? table.totalBuckets : 1;
    const buckets = Array.from({ length: splits }, (_, b) => b);
    return buckets.map((b) => bucketSplit(this.startPosition(b, latest)));
  }

  private startPosition(bucket: number, latest: number | null): BucketPosition {
    const s = this.settings;
    if (s.bounded) {
      const id = s.snapshotId ?? latest;
      return id === null ? { bucket, phase: 'done', snapshotId: 0, emitted: 0 } : { bucket, phase: 'snapshot', snapshotId: id, emitted: 0 };
    }
    if (s.snapshotId !== undefined) return { bucket, phase: 'delta', snapshotId: s.snapshotId, emitted: 0 };
    if (latest === null || s.startFrom === 'latest') return { bucket, phase: 'delta', snapshotId: latest ?? 0, emitted: 0 };
    return { bucket, phase: 'snapshot', snapshotId: latest, emitted: 0 };
  }

  addReader(subtask: number): void {
    this.owned.addReader(subtask);
  }

  handleSplitRequest(subtask: number): void {
    this.owned.handleSplitRequest(subtask);
  }

  addSplitsBack(splits: readonly LakeBucketSplit[], subtask: number): void {
    this.owned.addSplitsBack(splits, subtask);
  }

  snapshotState(): LakeEnumeratorState {
    return this.owned.snapshotState();
  }
}
