/**
 * A lake source reader: reads the buckets (splits) its enumerator assigned. Batch: the rows of one
 * snapshot per bucket, then the bucket is finished. Streaming: the full content of the start snapshot
 * as +I (or nothing, from `latest`), then the changes of each new APPEND snapshot as Change records,
 * looking for new snapshots every `pollIntervalMs`.
 *
 * Work goes in units of one bucket and one snapshot, in snapshot order per bucket. Reading files runs
 * in the background: `poll` only emits rows already read, so the task's loop (barriers, mails) never
 * waits for storage. Each bucket's position is its split's state at the checkpoint.
 */
import { rowKindOfByte, type Change } from '../../../operators/changelog.ts';
import type { PollStatus, ReaderOutput, SourceReader, SourceReaderContext, SplitOutput } from '../../../runtime/source/contract.ts';
import { ConfigError } from '../errors.ts';
import { FILE_KIND_ADD } from '../format/manifest.ts';
import { compileFilter, planSplits, readSplit, type Condition } from '../table/read.ts';
import { concatBatches, mergeByKey } from '../table/merge-reader.ts';
import type { FileStoreTable } from '../table/table.ts';
import { openLakeTable, type LakeTableLocation } from '../sink/table-access.ts';
import { nextSnapshotOf, splitOfBucket, type BucketPosition, type LakeBucketSplit, bucketSplit } from './positions.ts';
import { ConsumerProgress } from './consumer-progress.ts';
import { changelogProducer } from '../table/changelog.ts';
import type { Snapshot } from '../format/snapshot.ts';

export interface LakeReadSettings {
  location: LakeTableLocation;
  bounded: boolean;
  /** Batch: the snapshot to read (default the latest at start). Streaming: start with the changes after this snapshot. */
  snapshotId: number | undefined;
  /** Streaming: 'initial' emits the latest snapshot's content first, 'latest' only the changes after it. */
  startFrom: 'initial' | 'latest';
  pollIntervalMs: number;
  /** Batch: only rows matching every condition (files pruned by their statistics first). */
  filter?: Condition[];
  /** Streaming: record the position in the table's consumer/consumer-<id>, protecting it from expiration. */
  consumerId?: string;
}

interface Unit {
  position: BucketPosition;
  rows: unknown[][];
  kinds: number[] | null;
  /** Where the position goes once every row is emitted. */
  after: BucketPosition;
}

export class LakeSourceReader<T> implements SourceReader<T | Change<T>, LakeBucketSplit> {
  private table: FileStoreTable | undefined;
  private readonly positions = new Map<number, BucketPosition>();
  private readonly outputs = new Map<number, SplitOutput<T | Change<T>>>();
  private queue: Unit[] = [];
  private names: string[] = [];
  private noMoreSplits = false;
  /** The background read in flight, if any. */
  private loading: Promise<void> | undefined;
  /** When the last background read found nothing new (streaming: look again after the poll interval). */
  private idleSince: number | undefined;
  private failure: unknown;
  private wake: (() => void) | undefined;

  private readonly progress: ConsumerProgress | undefined;

  constructor(private readonly settings: LakeReadSettings, ctx?: SourceReaderContext) {
    if (settings.consumerId !== undefined && !settings.bounded) {
      this.progress = new ConsumerProgress(settings.consumerId, ctx?.subtaskIndex ?? 0, ctx?.parallelism ?? 1);
    }
  }

  addSplits(splits: readonly LakeBucketSplit[]): void {
    for (const s of splits) this.positions.set(s.bucket, { bucket: s.bucket, phase: s.phase, snapshotId: s.snapshotId, emitted: s.emitted });
    this.idleSince = undefined;
    this.wake?.();
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
    this.wake?.();
  }

  poll(output: ReaderOutput<T | Change<T>>, max: number): PollStatus {
    if (this.failure !== undefined) throw this.failure;
    for (const p of this.positions.values()) {
      if (p.phase === 'done') {
        output.releaseSplit(bucketSplit(p).id);
        this.positions.delete(p.bucket);
        this.outputs.delete(p.bucket);
      }
    }
    if (this.queue.length === 0) {
      if (this.positions.size === 0) return this.noMoreSplits ? 'end' : 'wait';
      this.startLoad();
      return 'wait';
    }
    let n = 0;
    while (n < max && this.queue.length > 0) {
      const unit = this.queue[0]!;
      const pos = unit.position;
      let out = this.outputs.get(pos.bucket);
      if (!out) this.outputs.set(pos.bucket, (out = output.forSplit(bucketSplit(pos).id)));
      while (n < max && pos.emitted < unit.rows.length) {
        const i = pos.emitted++;
        out.collect(this.valueOf(unit.rows[i]!, unit.kinds?.[i] ?? null));
        n++;
      }
      if (pos.emitted >= unit.rows.length) {
        this.positions.set(pos.bucket, unit.after);
        this.queue.shift();
      }
    }
    return 'more';
  }

  /** Starts reading the next units in the background (unless a read runs, or a streaming read found nothing a moment ago). */
  private startLoad(): void {
    if (this.loading) return;
    if (this.idleSince !== undefined && Date.now() - this.idleSince < this.settings.pollIntervalMs) return;
    this.loading = this.load().then(
      (found) => {
        this.loading = undefined;
        this.idleSince = found ? undefined : Date.now();
        this.wake?.();
      },
      (e: unknown) => {
        this.loading = undefined;
        this.failure = e;
        this.wake?.();
      },
    );
  }

  available(): Promise<void> {
    return new Promise((resolve) => {
      const t = this.loading ? undefined : setTimeout(resolve, this.settings.pollIntervalMs);
      this.wake = () => {
        if (t) clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private valueOf(row: unknown[], kind: number | null): T | Change<T> {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < this.names.length; i++) o[this.names[i]!] = row[i];
    return kind === null ? (o as T) : { kind: rowKindOfByte(kind), row: o as T };
  }

  private async ensureTable(): Promise<FileStoreTable> {
    if (!this.table) {
      this.table = await openLakeTable(this.settings.location);
      this.names = this.table.schema.fields.map((f) => f.name);
    }
    return this.table;
  }

  /** Queues the next units of work: the buckets whose next snapshot is the lowest. */
  private async load(): Promise<boolean> {
    const table = await this.ensureTable();
    const active = [...this.positions.values()].filter((p) => p.phase !== 'done');
    if (active.length === 0) return false;
    const next = Math.min(...active.map(nextSnapshotOf));
    const group = active.filter((p) => nextSnapshotOf(p) === next);
    if (group[0]!.phase === 'snapshot') {
      await this.loadSnapshot(table, next, group.filter((p) => p.phase === 'snapshot'));
      return true;
    }
    return this.loadDelta(table, next, group);
  }
  private async loadSnapshot(table: FileStoreTable, id: number, group: BucketPosition[]): Promise<void> {
    const buckets = new Set(group.map((p) => p.bucket));
    if (this.settings.bounded && this.settings.snapshotId !== undefined) {
      // time travel (a batch read of a given snapshot) uses that snapshot's schema, as Java
      table = await table.atSchema((await table.snapshots.snapshot(id)).schemaId);
      this.names = table.schema.fields.map((f) => f.name);
    }
    const filter = this.settings.filter ?? [];
    // streaming: all levels, as the deltas that follow are level-0 files; batch: Java's batch scan rules
    const { splits } = await planSplits(table, { snapshotId: id, allLevels: !this.settings.bounded, filter });
    const test = filter.length > 0 ? compileFilter(table, filter) : null;
    const split = this.splitOf(table);
    const mine = splits.filter((s) => buckets.has(split(s.bucket))).sort(byPartitionAndBucket);
    for (const p of group) {
      const rows: unknown[][] = [];
      for (const s of mine) if (split(s.bucket) === p.bucket) for (const r of await readSplit(table, s)) if (!test || test(r)) rows.push(r);
      const after: BucketPosition = { bucket: p.bucket, phase: this.settings.bounded ? 'done' : 'delta', snapshotId: id, emitted: 0 };
      this.queue.push({ position: p, rows, kinds: this.settings.bounded ? null : rows.map(() => 0), after });
    }
  }

  private async loadDelta(table: FileStoreTable, id: number, group: BucketPosition[]): Promise<boolean> {
    const sm = table.snapshots;
    if (!(await sm.exists(id))) {
      const earliest = await sm.earliestId();
      if (earliest !== null && earliest > id) {
        throw new ConfigError('snapshot', `snapshot ${id} of ${table.path} expired before the lake source read it; raise snapshot.num-retained.min or snapshot.time-retained, or restart the source`);
      }
      return false;
    }
    const s = await sm.snapshot(id);
    const buckets = new Set(group.map((p) => p.bucket));
    if (this.readsChangelog(table)) {
      await this.loadChangelog(table, s, group);
      return true;
    }
    const split = this.splitOf(table);
    const added = s.commitKind === 'APPEND' ? (await table.deltaEntries(s)).filter((e) => e.kind === FILE_KIND_ADD && buckets.has(split(e.bucket))) : [];
    for (const p of group) {
      const entries = added.filter((e) => split(e.bucket) === p.bucket).sort(byPartitionAndBucket);
      const rows: unknown[][] = [];
      const kinds: number[] = [];
      const byPartition = new Map<string, typeof entries>();
      for (const e of entries) byPartition.set(e.partition, [...(byPartition.get(e.partition) ?? []), e]);
      for (const part of byPartition.values()) {
        let kv = concatBatches(await Promise.all(part.map((e) => table.readDataFile(e))));
        if (table.primaryKey) kv = mergeByKey(table, kv, { ignoreDelete: table.options.ignoreDelete, keepRetractions: true });
        for (let i = 0; i < kv.rows.length; i++) {
          rows.push(kv.rows[i]!);
          kinds.push(kv.kinds[i]!);
        }
      }
      this.queue.push({ position: p, rows, kinds, after: { bucket: p.bucket, phase: 'delta', snapshotId: id, emitted: 0 } });
    }
    return true;
  }

  private changelogMode: boolean | undefined;

  /** Which split reads a bucket (dynamic-bucket tables group their buckets, positions.ts). */
  private splitOf(table: FileStoreTable): (bucket: number) => number {
    const dynamic = table.options.dynamicBucket !== null;
    return (bucket) => splitOfBucket(dynamic, bucket);
  }

  /** A table with a changelog producer is streamed from its changelog files, as Java reads it. */
  private readsChangelog(table: FileStoreTable): boolean {
    return (this.changelogMode ??= changelogProducer(table.schema.options, table.primaryKey) !== 'none');
  }

  /** The changes of one snapshot from its changelog files: every record with its kind, in file order. */
  private async loadChangelog(table: FileStoreTable, s: Snapshot, group: BucketPosition[]): Promise<void> {
    const entries = await table.changelogEntries(s);
    const split = this.splitOf(table);
    for (const p of group) {
      const mine = entries
        .filter((e) => split(e.bucket) === p.bucket)
        .sort((a, b) => byPartitionAndBucket(a, b) || a.file.minSequenceNumber - b.file.minSequenceNumber);
      const rows: unknown[][] = [];
      const kinds: number[] = [];
      for (const e of mine) {
        const batch = await table.readDataFile(e);
        for (let i = 0; i < batch.rows.length; i++) {
          rows.push(batch.rows[i]!);
          kinds.push(batch.kinds[i] ?? 0);
        }
      }
      this.queue.push({ position: p, rows, kinds, after: { bucket: p.bucket, phase: 'delta', snapshotId: s.id, emitted: 0 } });
    }
  }

  snapshotState(checkpointId: number): LakeBucketSplit[] {
    // units in the queue keep their progress in `position`, which is the map's entry until done
    const splits = [...this.positions.values()].map(bucketSplit);
    if (this.progress) {
      const active = splits.filter((p) => p.phase !== 'done');
      this.progress.atCheckpoint(checkpointId, active.length === 0 ? null : Math.min(...active.map(nextSnapshotOf)));
    }
    return splits;
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    if (this.progress) await this.progress.checkpointCompleted(await this.ensureTable(), checkpointId);
  }
}

/** Deterministic read order within a split: by partition, then bucket (a restore skips rows by count). */
function byPartitionAndBucket(a: { partition: string; bucket: number }, b: { partition: string; bucket: number }): number {
  return a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : a.bucket - b.bucket;
}
