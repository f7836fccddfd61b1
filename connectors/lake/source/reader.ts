/**
 * A lake source reader: the buckets `b % parallelism == subtask` of one table. Batch: the rows of
 * one snapshot (the given one, or the latest when the reader starts), then the end. Streaming: the
 * full content of the latest snapshot as +I (or nothing, from `latest`), then the changes of each
 * new APPEND snapshot as Change records, polling for new snapshots every `pollIntervalMs`.
 *
 * Work goes in units of one bucket and one snapshot, in snapshot order per bucket; the position of
 * every owned bucket is written into operator state at each checkpoint.
 */
import { rowKindOfByte, type Change } from '../../../operators/changelog.ts';
import type { SourceOutput, SourceReader, SourceReaderContext, PollStatus } from '../../source.ts';
import type { OperatorListState } from '../../../state/operator-state.ts';
import { ConfigError } from '../errors.ts';
import { FILE_KIND_ADD } from '../format/manifest.ts';
import { planSplits, readSplit } from '../table/read.ts';
import { concatBatches, mergeByKey } from '../table/merge-reader.ts';
import type { FileStoreTable } from '../table/table.ts';
import { SchemaManager } from '../schema/schema-manager.ts';
import { fileIOFor } from '../fs/index.ts';
import { openLakeTable, type LakeTableLocation } from '../sink/table-access.ts';
import { compareProgress, nextSnapshotOf, ownedBuckets, ownsBucket, type BucketPosition } from './positions.ts';

export interface LakeReadSettings {
  location: LakeTableLocation;
  bounded: boolean;
  /** Batch: the snapshot to read (default the latest at start). Streaming: start with the changes after this snapshot. */
  snapshotId: number | undefined;
  /** Streaming: 'initial' emits the latest snapshot's content first, 'latest' only the changes after it. */
  startFrom: 'initial' | 'latest';
  pollIntervalMs: number;
}

interface Unit {
  position: BucketPosition;
  rows: unknown[][];
  kinds: number[] | null;
  /** Where the position goes once every row is emitted. */
  after: BucketPosition;
}

export class LakeSourceReader<T> implements SourceReader<T | Change<T>> {
  private table: FileStoreTable | undefined;
  private positions = new Map<number, BucketPosition>();
  private readonly state: OperatorListState<BucketPosition>;
  private queue: Unit[] = [];
  private names: string[] = [];

  /** Positions from the checkpoint, most advanced per bucket (a bucket may appear in several subtasks' lists). */
  private readonly restored = new Map<number, BucketPosition>();

  constructor(private readonly settings: LakeReadSettings, private readonly ctx: SourceReaderContext) {
    this.state = ctx.operatorState.getUnionListState<BucketPosition>('lake-source-positions');
    for (const p of this.state.get()) {
      const seen = this.restored.get(p.bucket);
      if (!seen || compareProgress(p, seen) > 0) this.restored.set(p.bucket, p);
    }
  }

  /** Opens the table; a streaming reader waits for a table that does not exist yet. */
  private async ensureTable(): Promise<FileStoreTable | undefined> {
    if (this.table) return this.table;
    const loc = this.settings.location;
    if (!this.settings.bounded) {
      const schemas = new SchemaManager(fileIOFor(loc.path, loc.s3), loc.path.replace(/\/+$/, ''));
      if ((await schemas.latest()) === null) return undefined;
    }
    const table = await openLakeTable(loc);
    this.names = table.schema.fields.map((f) => f.name);
    const restored = this.restored;
    const latest = await table.snapshots.latestId();
    for (const b of ownedBuckets(table.totalBuckets, this.ctx.subtaskIndex, this.ctx.parallelism)) {
      const r = restored.get(b);
      if (r) this.positions.set(b, { ...r });
      else this.positions.set(b, this.startPosition(b, latest));
    }
    this.table = table;
    return table;
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

  async poll(output: SourceOutput<T | Change<T>>, max: number): Promise<PollStatus> {
    if (this.queue.length === 0 && !(await this.load())) {
      if (this.settings.bounded && this.table && [...this.positions.values()].every((p) => p.phase === 'done')) return 'end';
      return 'wait';
    }
    let n = 0;
    while (n < max && this.queue.length > 0) {
      const unit = this.queue[0]!;
      const pos = unit.position;
      while (n < max && pos.emitted < unit.rows.length) {
        const i = pos.emitted++;
        output.collect(this.valueOf(unit.rows[i]!, unit.kinds?.[i] ?? null));
        n++;
      }
      if (pos.emitted >= unit.rows.length) {
        this.positions.set(pos.bucket, unit.after);
        this.queue.shift();
      }
    }
    return 'more';
  }

  private valueOf(row: unknown[], kind: number | null): T | Change<T> {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < this.names.length; i++) o[this.names[i]!] = row[i];
    return kind === null ? (o as T) : { kind: rowKindOfByte(kind), row: o as T };
  }

  /** Queues the next units of work: the owned buckets whose next snapshot is the lowest. */
  private async load(): Promise<boolean> {
    const table = await this.ensureTable();
    if (!table) return false;
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
    const { splits } = await planSplits(table, { snapshotId: id });
    const mine = splits.filter((s) => buckets.has(s.bucket)).sort((a, b) => (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0));
    for (const p of group) {
      const rows: unknown[][] = [];
      for (const s of mine) if (s.bucket === p.bucket) for (const r of await readSplit(table, s)) rows.push(r);
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
    const added = s.commitKind === 'APPEND' ? (await table.deltaEntries(s)).filter((e) => e.kind === FILE_KIND_ADD && buckets.has(e.bucket)) : [];
    for (const p of group) {
      const entries = added.filter((e) => e.bucket === p.bucket).sort((a, b) => (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0));
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

  available(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.settings.pollIntervalMs));
  }

  snapshotState(): void {
    if (!this.table) {
      // not started yet (e.g. a checkpoint right after a restore): keep the restored positions of our buckets
      this.state.update([...this.restored.values()].filter((p) => ownsBucket(p.bucket, this.ctx.subtaskIndex, this.ctx.parallelism)));
      return;
    }
    // units in the queue keep their progress in `position`, which is the map's entry until done
    this.state.update([...this.positions.values()].map((p) => ({ ...p })));
  }
}
