/**
 * Incremental (streaming) reads: the changes each new snapshot brought, after a given snapshot.
 * Only APPEND snapshots carry changes (COMPACT ones rewrite files without changing the table). The
 * records of a snapshot's new files are returned with their row kinds, merged per key within the
 * snapshot for primary-key tables (as Paimon reads deltas without a changelog producer).
 */
import { ConfigError } from '../errors.ts';
import type { Snapshot } from '../format/snapshot.ts';
import { FILE_KIND_ADD } from '../format/manifest.ts';
import type { FileStoreTable } from './table.ts';
import { concatBatches, mergeByKey } from './merge-reader.ts';

export interface ChangeBatch {
  snapshotId: number;
  commitUser: string;
  commitIdentifier: bigint;
  rows: unknown[][];
  /** row kind per row: 0 +I, 1 -U, 2 +U, 3 -D */
  kinds: number[];
}

export class IncrementalReader {
  private cursor: number;

  /** Starts after snapshot `afterSnapshotId` (0 reads from the first snapshot). */
  constructor(readonly table: FileStoreTable, afterSnapshotId: number) {
    this.cursor = afterSnapshotId;
  }

  /** The last snapshot id consumed; store it in checkpoint state to resume. */
  get position(): number {
    return this.cursor;
  }

  /** Changes of the next snapshot with changes, or null if there is none yet. */
  async next(): Promise<ChangeBatch | null> {
    const sm = this.table.snapshots;
    for (;;) {
      const latest = await sm.latestId();
      if (latest === null || latest <= this.cursor) return null;
      const id = this.cursor + 1;
      if (!(await sm.exists(id))) {
        const earliest = await sm.earliestId();
        if (earliest !== null && earliest > id) {
          throw new ConfigError('snapshot', `snapshot ${id} of ${this.table.path} has expired before it was read; raise snapshot.num-retained.min or restart from snapshot ${earliest}`);
        }
        return null;
      }
      const s = await sm.snapshot(id);
      this.cursor = id;
      if (s.commitKind !== 'APPEND') continue;
      return this.changesOf(s);
    }
  }

  private async changesOf(s: Snapshot): Promise<ChangeBatch> {
    const t = this.table;
    const added = (await t.deltaEntries(s)).filter((e) => e.kind === FILE_KIND_ADD);
    const byBucket = new Map<string, typeof added>();
    for (const e of added) {
      const k = `${e.partition}|${e.bucket}`;
      byBucket.set(k, [...(byBucket.get(k) ?? []), e]);
    }
    const rows: unknown[][] = [];
    const kinds: number[] = [];
    for (const entries of byBucket.values()) {
      const batches = await Promise.all(entries.map((e) => t.readDataFile(e)));
      let kv = concatBatches(batches);
      if (t.primaryKey) kv = mergeByKey(t, kv, { ignoreDelete: t.options.ignoreDelete, keepRetractions: true });
      for (let i = 0; i < kv.rows.length; i++) { rows.push(kv.rows[i]!); kinds.push(kv.kinds[i]!); }
    }
    return { snapshotId: s.id, commitUser: s.commitUser, commitIdentifier: s.commitIdentifier, rows, kinds };
  }
}
