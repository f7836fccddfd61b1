/**
 * Snapshot expiration and orphan file cleanup.
 *
 * Expiration keeps at least `retainMin` snapshots, at most `retainMax`, and drops older ones whose
 * time is past `olderThanMs`. A data or manifest file is deleted only if an expired snapshot used
 * it and no retained snapshot does, so files of commits in flight are never touched.
 *
 * Orphan cleanup deletes files under the table (data files, manifests) that no snapshot uses and
 * that are older than `olderThanMs` (default one day): leftovers of failed or lost commits.
 *
 * Tags (table/tags.ts) count as retained snapshots in both: a tagged snapshot's files stay as long
 * as the tag does, even after the snapshot itself expired. Consumers (table/consumers.ts) stop
 * expiration at the least snapshot a live consumer still needs.
 */
import { joinPath, baseName } from '../fs/file-io.ts';
import type { Snapshot } from '../format/snapshot.ts';
import type { FileStoreTable } from './table.ts';
import { TagManager } from './tags.ts';
import { ConsumerManager, consumerExpiration } from './consumers.ts';

async function tagSnapshots(table: FileStoreTable): Promise<Snapshot[]> {
  return (await new TagManager(table.io, table.path).list()).map((t) => t.snapshot);
}

export interface ExpireOptions {
  retainMin?: number;
  retainMax?: number;
  /** Snapshots with timeMillis before now - this are candidates (default the table's snapshot.time-retained). */
  olderThanMs?: number;
  now?: number;
}

interface SnapshotFiles {
  manifests: Set<string>;
  dataFiles: Set<string>;
}

async function filesOf(table: FileStoreTable, s: Snapshot): Promise<SnapshotFiles> {
  const manifests = new Set<string>([s.baseManifestList, s.deltaManifestList]);
  if (s.changelogManifestList) manifests.add(s.changelogManifestList);
  if (s.indexManifest) manifests.add(s.indexManifest);
  const dataFiles = new Set<string>();
  // deletion-vector index files count as data files of the snapshot (deleted with it when unused)
  for (const e of await table.indexEntries(s)) dataFiles.add(joinPath(table.path, 'index', e.fileName));
  for (const m of await table.dataManifests(s)) manifests.add(m.fileName);
  for (const e of await table.liveEntries(s)) dataFiles.add(table.dataFilePath(e.partition, e.bucket, e.file.fileName));
  // files removed by this snapshot's own delta are still referenced by it (the previous snapshot uses them)
  for (const e of await table.deltaEntries(s)) dataFiles.add(table.dataFilePath(e.partition, e.bucket, e.file.fileName));
  // changelog files belong to their snapshot alone and go when it expires
  if (s.changelogManifestList) {
    for (const m of await table.manifestList(s.changelogManifestList)) manifests.add(m.fileName);
    for (const e of await table.changelogEntries(s)) dataFiles.add(table.dataFilePath(e.partition, e.bucket, e.file.fileName));
  }
  return { manifests, dataFiles };
}

/** Expires old snapshots; returns the ids deleted. */
export async function expireSnapshots(table: FileStoreTable, opts: ExpireOptions = {}): Promise<number[]> {
  const sm = table.snapshots;
  const ids = await sm.listIds();
  if (ids.length === 0) return [];
  const retainMin = Math.max(1, opts.retainMin ?? table.options.snapshotRetainMin);
  const retainMax = opts.retainMax ?? table.options.snapshotRetainMax;
  const cutoff = (opts.now ?? Date.now()) - (opts.olderThanMs ?? table.options.snapshotTimeRetainedMs);
  const consumers = new ConsumerManager(table.io, table.path);
  const needed = await consumers.minNextSnapshot({ expirationMs: consumerExpiration(table.schema.options), now: opts.now ?? Date.now() });
  const expire: number[] = [];
  for (let i = 0; i < ids.length - retainMin; i++) {
    const id = ids[i]!;
    if (needed !== null && id >= needed) break; // a consumer still reads this one
    const remaining = ids.length - i;
    const s = await sm.snapshot(id);
    if (remaining > retainMax || s.timeMillis < cutoff) expire.push(id);
    else break;
  }
  if (expire.length === 0) return [];
  const retained = ids.filter((id) => !expire.includes(id));
  const keepManifests = new Set<string>();
  const keepData = new Set<string>();
  const kept = [...(await Promise.all(retained.map((id) => sm.snapshot(id)))), ...(await tagSnapshots(table))];
  for (const snapshot of kept) {
    const f = await filesOf(table, snapshot);
    f.manifests.forEach((m) => keepManifests.add(m));
    f.dataFiles.forEach((d) => keepData.add(d));
  }
  const dropManifests = new Set<string>();
  const dropData = new Set<string>();
  for (const id of expire) {
    const f = await filesOf(table, await sm.snapshot(id));
    f.manifests.forEach((m) => { if (!keepManifests.has(m)) dropManifests.add(m); });
    f.dataFiles.forEach((d) => { if (!keepData.has(d)) dropData.add(d); });
  }
  // hint first, so readers never chase a deleted snapshot; then snapshots, then their files
  await sm.writeHints((await sm.latestId()) ?? retained[retained.length - 1]!, retained[0]!);
  for (const id of expire) await sm.deleteSnapshot(id);
  for (const d of dropData) await table.io.delete(d);
  for (const m of dropManifests) await table.io.delete(joinPath(table.path, 'manifest', m));
  return expire;
}

/** Deletes files no snapshot uses, older than `olderThanMs` (default 1 day); returns their paths. */
export async function removeOrphanFiles(table: FileStoreTable, opts: { olderThanMs?: number; now?: number } = {}): Promise<string[]> {
  const cutoff = (opts.now ?? Date.now()) - (opts.olderThanMs ?? 86_400_000);
  const used = new Set<string>();
  const usedManifests = new Set<string>();
  const snapshots = await Promise.all((await table.snapshots.listIds()).map((id) => table.snapshots.snapshot(id)));
  for (const snapshot of [...snapshots, ...(await tagSnapshots(table))]) {
    const f = await filesOf(table, snapshot);
    f.dataFiles.forEach((d) => used.add(d));
    f.manifests.forEach((m) => usedManifests.add(m));
  }
  const removed: string[] = [];
  for (const file of await table.io.listRecursive(table.path)) {
    const rel = file.path.slice(table.path.length + 1);
    if (rel.startsWith('schema/') || rel.startsWith('snapshot/') || rel.startsWith('index/') || rel.startsWith('statistics/')) continue;
    if (file.modifiedMs > cutoff) continue;
    const name = baseName(file.path);
    const orphan = rel.startsWith('manifest/') ? !usedManifests.has(name) : /(^|\/)bucket-\d+\//.test(rel) && !used.has(file.path);
    if (!orphan) continue;
    await table.io.delete(file.path);
    removed.push(file.path);
  }
  return removed;
}
