/**
 * TableCommit: the commit half of a two-phase-commit sink. `commit(identifier, messages)` turns the
 * CommitMessages of one checkpoint into a new snapshot (APPEND, then COMPACT if the messages carry
 * compaction results), exactly once per (commitUser, identifier):
 *
 * - before each attempt it looks for a snapshot by this commitUser with this identifier or a newer
 *   one; if there is one, the commit has landed already (a retry after a failure) and nothing is done;
 * - the snapshot file is created only if its id is free (atomic create, or check-and-write under the
 *   table's CommitLock on S3); a writer that loses the race for an id rebuilds on the new latest
 *   snapshot and tries the next id, deleting the manifest lists of the lost attempt.
 *
 * A commit may carry the job's watermark: the snapshot records the larger of it and the previous
 * snapshot's (Java's `watermark` field, never going back). A checkpoint with no files but a higher
 * watermark still writes a snapshot (an empty APPEND), so that readers waiting for the watermark
 * (`weir lake wait`, automatic tags) see time pass while no data arrives.
 */
import { randomUUID } from 'node:crypto';
import { type FileIO, joinPath } from '../fs/file-io.ts';
import { CommitConflictError, ExternalError } from '../errors.ts';
import {
  type DataFileMeta, type ManifestEntry, type ManifestFileMeta, FILE_KIND_ADD, FILE_KIND_DELETE,
  encodeManifest, encodeManifestList, entryIdentifier, mergeEntries,
} from '../format/manifest.ts';
import type { CommitKind, Snapshot } from '../format/snapshot.ts';
import { type IndexManifestEntry, encodeIndexManifest } from '../format/deletion-vectors.ts';
import { HASH_INDEX } from '../format/hash-index.ts';
import { decodeSerializedRow, encodeSerializedRow } from '../format/binary-row.ts';
import { comparatorFor } from '../schema/values.ts';
import type { FileStoreTable } from './table.ts';
import type { CommitMessage } from './writer.ts';

export interface CommitExtras {
  /** The job's watermark at this checkpoint (ms); the snapshot records it (never lower than before). */
  watermark?: number;
}

interface IndexChanges {
  added: IndexManifestEntry[];
  deleted: IndexManifestEntry[];
}

export interface TableCommitOptions {
  /** How many times to retry after losing the race for a snapshot id. */
  maxRetries?: number;
}

export class TableCommit {
  private readonly filePrefix = randomUUID();
  private fileCounter = 0;
  /** How many times this committer lost the race for a snapshot id and retried on the next one. */
  lostRaces = 0;

  constructor(readonly table: FileStoreTable, readonly commitUser: string, private readonly opts: TableCommitOptions = {}) {}

  private get io(): FileIO {
    return this.table.io;
  }

  /** Snapshot ids up to this one have been searched for this commit user already (snapshots never change). */
  private scannedTo = 0;
  private lastMine: Snapshot | null = null;

  /** The newest snapshot written by this commit user at or before `from` (default the latest). */
  async latestSnapshotOfUser(from?: Snapshot | null): Promise<Snapshot | null> {
    const sm = this.table.snapshots;
    const latest = from === undefined ? await sm.latest() : from;
    if (!latest) return null;
    const earliest = (await sm.earliestId()) ?? latest.id;
    let found: Snapshot | null = null;
    for (let id = latest.id; id >= Math.max(earliest, this.scannedTo + 1); id--) {
      if (!(await sm.exists(id))) continue;
      const s = await sm.snapshot(id);
      if (s.commitUser === this.commitUser) { found = s; break; }
    }
    if (found && (!this.lastMine || found.id > this.lastMine.id)) this.lastMine = found;
    this.scannedTo = Math.max(this.scannedTo, latest.id);
    return this.lastMine;
  }

  /** The identifiers among these that have not been committed yet by this commit user. */
  async filterCommitted(identifiers: number[]): Promise<number[]> {
    const mine = await this.latestSnapshotOfUser();
    if (!mine) return identifiers;
    return identifiers.filter((i) => i > mine.commitIdentifier);
  }

  /**
   * Commits the messages of one checkpoint. Returns the ids of the snapshots written (none if the
   * identifier was committed before, or the messages hold no files).
   */
  async commit(identifier: number, messages: CommitMessage[], opts: CommitExtras = {}): Promise<number[]> {
    const appended: ManifestEntry[] = [];
    const compactDeleted: ManifestEntry[] = [];
    const compactAdded: ManifestEntry[] = [];
    const changelog: ManifestEntry[] = [];
    const index: IndexChanges = { added: [], deleted: [] };
    const appendIndex: IndexChanges = { added: [], deleted: [] };
    for (const m of messages) {
      appendIndex.added.push(...(m.appendIndexFiles ?? []));
      index.added.push(...(m.newIndexFiles ?? []));
      index.deleted.push(...(m.deletedIndexFiles ?? []));
      const base = { partition: m.partition, bucket: m.bucket, totalBuckets: m.totalBuckets };
      for (const f of m.newFiles) appended.push({ ...base, kind: FILE_KIND_ADD, file: f });
      for (const f of m.changelogFiles ?? []) changelog.push({ ...base, kind: FILE_KIND_ADD, file: f });
      for (const f of m.compactBefore) compactDeleted.push({ ...base, kind: FILE_KIND_DELETE, file: f });
      for (const f of m.compactAfter) compactAdded.push({ ...base, kind: FILE_KIND_ADD, file: f });
    }
    const written: number[] = [];
    // exactly once: a snapshot of ours with this identifier (or a later one) means it landed before
    const mine = await this.latestSnapshotOfUser();
    if (mine && mine.commitIdentifier >= identifier) return written;
    const watermark = opts.watermark !== undefined && Number.isFinite(opts.watermark) ? Math.floor(opts.watermark) : undefined;
    const compacts = compactDeleted.length > 0 || compactAdded.length > 0 || index.added.length > 0 || index.deleted.length > 0;
    if (appended.length > 0 || changelog.length > 0 || appendIndex.added.length > 0 || (!compacts && watermark !== undefined && watermark > ((await this.table.snapshots.latest())?.watermark ?? -Infinity))) {
      written.push(await this.commitChanges(identifier, 'APPEND', appended, [], { watermark, changelog, index: appendIndex }));
    }
    if (compacts) written.push(await this.commitChanges(identifier, 'COMPACT', compactAdded, compactDeleted, { watermark, index }));
    return written;
  }

  /** Commits a compaction (files replaced by others); fails if another writer removed the inputs first. */
  async commitCompaction(identifier: number, messages: CommitMessage[]): Promise<number[]> {
    return this.commit(identifier, messages.map((m) => ({ ...m, newFiles: [] })));
  }

  /**
   * The index manifest of a new snapshot: the previous one when no index file changed, else a new
   * one listing the live index files after the change (as Java writes it: the whole list). An added
   * HASH file replaces its bucket's previous HASH file (Java's bucketed combiner; the last added
   * wins); deletion-vector files are replaced by naming the old ones (a conflict if they are gone).
   */
  private async indexManifestFor(latest: Snapshot | null, index: IndexChanges): Promise<{ name: string | null; written: boolean }> {
    const previous = latest?.indexManifest ?? null;
    if (index.added.length === 0 && index.deleted.length === 0) return { name: previous, written: false };
    const t = this.table;
    const id = (e: IndexManifestEntry) => `${e.partition}|${e.bucket}|${e.indexType}|${e.fileName}`;
    const live = latest ? await t.indexEntries(latest) : [];
    const liveIds = new Set(live.map(id));
    const gone = index.deleted.find((e) => !liveIds.has(id(e)));
    if (gone) {
      throw new CommitConflictError(`compaction of ${t.path} conflicts: deletion-vector index file ${gone.fileName} (bucket ${gone.bucket}) was replaced by another commit; run the compaction again`);
    }
    const drop = new Set(index.deleted.map(id));
    const hashBucket = (e: IndexManifestEntry) => `${e.partition}|${e.bucket}`;
    const newHash = new Map<string, IndexManifestEntry>();
    for (const e of index.added) if (e.indexType === HASH_INDEX) newHash.set(hashBucket(e), e);
    const kept = live.filter((e) => !drop.has(id(e)) && !(e.indexType === HASH_INDEX && newHash.has(hashBucket(e))));
    const next = [...kept, ...index.added.filter((e) => e.indexType !== HASH_INDEX), ...newHash.values()];
    if (next.length === 0) return { name: null, written: false };
    const name = this.newManifestName('index-manifest');
    await this.io.write(joinPath(t.path, 'manifest', name), encodeIndexManifest(next));
    return { name, written: true };
  }

  private newManifestName(kind: 'manifest' | 'manifest-list' | 'index-manifest'): string {
    return `${kind}-${this.filePrefix}-${this.fileCounter++}`;
  }

  private async writeManifest(entries: ManifestEntry[]): Promise<ManifestFileMeta> {
    const name = this.newManifestName('manifest');
    const bytes = encodeManifest(entries);
    await this.io.write(joinPath(this.table.path, 'manifest', name), bytes);
    return this.manifestMeta(name, bytes.length, entries);
  }

  private manifestMeta(name: string, size: number, entries: ManifestEntry[]): ManifestFileMeta {
    const t = this.table;
    const types = t.partitionTypes;
    const cmps = types.map(comparatorFor);
    const mins: unknown[] = types.map(() => null);
    const maxs: unknown[] = types.map(() => null);
    const nulls = types.map(() => 0);
    let minBucket = Number.MAX_SAFE_INTEGER;
    let maxBucket = Number.MIN_SAFE_INTEGER;
    let minLevel = Number.MAX_SAFE_INTEGER;
    let maxLevel = Number.MIN_SAFE_INTEGER;
    let added = 0;
    let deleted = 0;
    const seen = new Set<string>();
    for (const e of entries) {
      if (e.kind === FILE_KIND_ADD) added++;
      else deleted++;
      minBucket = Math.min(minBucket, e.bucket);
      maxBucket = Math.max(maxBucket, e.bucket);
      minLevel = Math.min(minLevel, e.file.level);
      maxLevel = Math.max(maxLevel, e.file.level);
      if (seen.has(e.partition)) continue;
      seen.add(e.partition);
      const values = decodeSerializedRow(types, Buffer.from(e.partition, 'base64'));
      values.forEach((v, i) => {
        if (v === null) { nulls[i]!++; return; }
        if (mins[i] === null || cmps[i]!(v, mins[i]) < 0) mins[i] = v;
        if (maxs[i] === null || cmps[i]!(v, maxs[i]) > 0) maxs[i] = v;
      });
    }
    const empty = entries.length === 0;
    return {
      fileName: name,
      fileSize: size,
      numAddedFiles: added,
      numDeletedFiles: deleted,
      partitionStats: {
        minValues: Buffer.from(encodeSerializedRow(types, mins)).toString('base64'),
        maxValues: Buffer.from(encodeSerializedRow(types, maxs)).toString('base64'),
        nullCounts: nulls,
      },
      schemaId: t.schema.id,
      minBucket: empty ? null : minBucket,
      maxBucket: empty ? null : maxBucket,
      minLevel: empty ? null : minLevel,
      maxLevel: empty ? null : maxLevel,
    };
  }

  private async writeManifestList(metas: ManifestFileMeta[]): Promise<{ name: string; size: number }> {
    const name = this.newManifestName('manifest-list');
    const bytes = encodeManifestList(metas);
    await this.io.write(joinPath(this.table.path, 'manifest', name), bytes);
    return { name, size: bytes.length };
  }

  /** Base manifests for a new snapshot: the previous base + delta, merged into one when there are many. */
  private async baseManifests(latest: Snapshot | null): Promise<{ metas: ManifestFileMeta[]; written: string[] }> {
    if (!latest) return { metas: [], written: [] };
    const metas = await this.table.dataManifests(latest);
    if (metas.length < this.table.options.manifestMergeMinCount) return { metas, written: [] };
    const live = await this.table.liveEntries(latest);
    if (live.length === 0) return { metas: [], written: [] };
    const merged = await this.writeManifest(live);
    return { metas: [merged], written: [merged.fileName] };
  }

  private async commitChanges(
    identifier: number, kind: CommitKind, added: ManifestEntry[], deleted: ManifestEntry[],
    extras: { watermark?: number | undefined; changelog?: ManifestEntry[]; index?: IndexChanges } = {},
  ): Promise<number> {
    const watermark = extras.watermark;
    const changelog = extras.changelog ?? [];
    const index = extras.index ?? { added: [], deleted: [] };
    const t = this.table;
    const sm = t.snapshots;
    const deltaManifest = await this.writeManifest([...deleted, ...added]);
    const changelogManifest = changelog.length > 0 ? await this.writeManifest(changelog) : null;
    const changelogRows = changelog.reduce((s, e) => s + e.file.rowCount, 0);
    const maxRetries = this.opts.maxRetries ?? 100;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      const latest = await sm.latest();
      if (deleted.length > 0) {
        const live = new Set((latest ? await t.liveEntries(latest) : []).map(entryIdentifier));
        const missing = deleted.find((e) => !live.has(entryIdentifier({ ...e, kind: FILE_KIND_ADD })));
        if (missing) {
          throw new CommitConflictError(`compaction of ${t.path} conflicts: file ${missing.file.fileName} (bucket ${missing.bucket}) was removed by another commit; run the compaction again`);
        }
      }
      const indexManifest = await this.indexManifestFor(latest, index);
      const base = await this.baseManifests(latest);
      const baseList = await this.writeManifestList(base.metas);
      const deltaList = await this.writeManifestList([deltaManifest]);
      const changelogList = changelogManifest ? await this.writeManifestList([changelogManifest]) : null;
      const addedRows = added.reduce((s, e) => s + e.file.rowCount, 0);
      const deletedRows = deleted.reduce((s, e) => s + e.file.rowCount, 0);
      const snapshot: Snapshot = {
        version: 3,
        id: (latest?.id ?? 0) + 1,
        schemaId: t.schema.id,
        baseManifestList: baseList.name,
        baseManifestListSize: baseList.size,
        deltaManifestList: deltaList.name,
        deltaManifestListSize: deltaList.size,
        changelogManifestList: changelogList?.name ?? null,
        ...(changelogList ? { changelogManifestListSize: changelogList.size } : {}),
        ...(indexManifest.name ? { indexManifest: indexManifest.name } : {}),
        commitUser: this.commitUser,
        commitIdentifier: BigInt(identifier),
        commitKind: kind,
        timeMillis: Date.now(),
        logOffsets: {},
        totalRecordCount: (latest?.totalRecordCount ?? 0) + addedRows - deletedRows,
        deltaRecordCount: addedRows - deletedRows,
        changelogRecordCount: changelogRows,
      };
      const previousWatermark = latest?.watermark ?? undefined;
      const newWatermark = watermark === undefined ? previousWatermark : previousWatermark === undefined ? watermark : Math.max(previousWatermark, watermark);
      if (newWatermark !== undefined) snapshot.watermark = newWatermark;
      const ok = await t.lock.withLock(t.path, () => sm.tryCommit(snapshot));
      if (ok) {
        const earliest = latest === null ? snapshot.id : undefined;
        await sm.writeHints(snapshot.id, earliest);
        return snapshot.id;
      }
      // lost the race for this id: drop this attempt's lists and build on the new latest snapshot
      this.lostRaces++;
      await this.io.delete(joinPath(t.path, 'manifest', baseList.name));
      await this.io.delete(joinPath(t.path, 'manifest', deltaList.name));
      if (changelogList) await this.io.delete(joinPath(t.path, 'manifest', changelogList.name));
      for (const w of base.written) await this.io.delete(joinPath(t.path, 'manifest', w));
      if (indexManifest.written && indexManifest.name) await this.io.delete(joinPath(t.path, 'manifest', indexManifest.name));
    }
    throw new ExternalError(`commit ${identifier} to ${t.path} lost the race for a snapshot id ${maxRetries + 1} times; too many concurrent writers`, { retriable: true });
  }
}

/** Live files of the latest snapshot, grouped by partition and bucket. */
/** `partition|bucket` -> that bucket's live files. */
export type LiveFilesByBucket = Map<string, { partition: string; bucket: number; files: DataFileMeta[] }>;

export async function liveFilesByBucket(table: FileStoreTable): Promise<LiveFilesByBucket> {
  const latest = await table.snapshots.latest();
  const out = new Map<string, { partition: string; bucket: number; files: DataFileMeta[] }>();
  if (!latest) return out;
  for (const e of mergeEntries(await table.liveEntries(latest))) {
    const key = `${e.partition}|${e.bucket}`;
    let g = out.get(key);
    if (!g) { g = { partition: e.partition, bucket: e.bucket, files: [] }; out.set(key, g); }
    g.files.push(e.file);
  }
  return out;
}
