/**
 * Snapshots (`snapshot/snapshot-N`, JSON version 3) and the EARLIEST / LATEST hint files (decimal id,
 * no newline). Hints may be stale or missing: readers check them and fall back to listing.
 */
import { type FileIO, joinPath, baseName } from '../fs/file-io.ts';
import { LakeFormatError } from '../errors.ts';

export type CommitKind = 'APPEND' | 'COMPACT' | 'OVERWRITE' | 'ANALYZE';

export interface Snapshot {
  version: number;
  id: number;
  schemaId: number;
  baseManifestList: string;
  baseManifestListSize?: number | null;
  deltaManifestList: string;
  deltaManifestListSize?: number | null;
  changelogManifestList: string | null;
  changelogManifestListSize?: number | null;
  indexManifest?: string | null;
  commitUser: string;
  /** A Java long (Flink's checkpoint id, or Long.MAX_VALUE for batch commits): kept exact as a bigint. */
  commitIdentifier: bigint;
  commitKind: CommitKind;
  timeMillis: number;
  logOffsets?: Record<string, number>;
  totalRecordCount: number | null;
  deltaRecordCount: number | null;
  changelogRecordCount: number | null;
  watermark?: number | null;
  statistics?: string | null;
  properties?: Record<string, string> | null;
  nextRowId?: number | null;
}

/** JSON in the field order Java writes; absent optional fields are left out. */
/** Marker replaced by the exact decimal digits of a bigint after JSON.stringify. */
const BIG = '\u0000big:';

export function snapshotToJson(s: Snapshot): string {
  const o: Record<string, unknown> = {
    version: s.version,
    id: s.id,
    schemaId: s.schemaId,
    baseManifestList: s.baseManifestList,
    baseManifestListSize: s.baseManifestListSize ?? null,
    deltaManifestList: s.deltaManifestList,
    deltaManifestListSize: s.deltaManifestListSize ?? null,
    changelogManifestList: s.changelogManifestList,
  };
  if (s.changelogManifestListSize != null) o.changelogManifestListSize = s.changelogManifestListSize;
  if (s.indexManifest != null) o.indexManifest = s.indexManifest;
  Object.assign(o, {
    commitUser: s.commitUser,
    commitIdentifier: `${BIG}${BigInt(s.commitIdentifier).toString()}`,
    commitKind: s.commitKind,
    timeMillis: s.timeMillis,
    logOffsets: s.logOffsets ?? {},
    totalRecordCount: s.totalRecordCount,
    deltaRecordCount: s.deltaRecordCount,
    changelogRecordCount: s.changelogRecordCount,
  });
  if (s.watermark != null) o.watermark = s.watermark;
  if (s.statistics != null) o.statistics = s.statistics;
  if (s.properties != null) o.properties = s.properties;
  return JSON.stringify(o, null, 2).replace(/"\\u0000big:(-?\d+)"/g, '$1');
}

export function snapshotFromJson(text: string, where: string): Snapshot {
  try {
    // commitIdentifier is a Java long: read its digits as text so ids past 2^53 keep every digit
    const safe = text.replace(/("commitIdentifier"\s*:\s*)(-?\d+)/, '$1"$2"');
    const s = JSON.parse(safe) as Omit<Snapshot, 'commitIdentifier'> & { commitIdentifier: string };
    return { ...s, commitIdentifier: BigInt(s.commitIdentifier) };
  } catch (e) {
    throw new LakeFormatError(`snapshot file ${where} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

export class SnapshotManager {
  private readonly cache = new Map<number, Snapshot>();

  constructor(readonly io: FileIO, readonly tablePath: string) {}

  get dir(): string {
    return joinPath(this.tablePath, 'snapshot');
  }

  snapshotPath(id: number): string {
    return joinPath(this.dir, `snapshot-${id}`);
  }

  async listIds(): Promise<number[]> {
    const files = await this.io.list(this.dir);
    return files
      .map((f) => /^snapshot-(\d+)$/.exec(baseName(f.path)))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  private async readHint(name: 'EARLIEST' | 'LATEST'): Promise<number | null> {
    const p = joinPath(this.dir, name);
    try {
      if (!(await this.io.exists(p))) return null;
      const n = Number(new TextDecoder().decode(await this.io.read(p)).trim());
      return Number.isInteger(n) ? n : null;
    } catch {
      return null;
    }
  }

  /** Latest snapshot id: the LATEST hint if it checks out (and nothing newer exists), else a listing. */
  async latestId(): Promise<number | null> {
    const hint = await this.readHint('LATEST');
    if (hint !== null && (await this.io.exists(this.snapshotPath(hint)))) {
      let id = hint;
      while (await this.io.exists(this.snapshotPath(id + 1))) id++;
      return id;
    }
    const ids = await this.listIds();
    return ids.length === 0 ? null : ids[ids.length - 1]!;
  }

  async earliestId(): Promise<number | null> {
    const hint = await this.readHint('EARLIEST');
    if (hint !== null && (await this.io.exists(this.snapshotPath(hint))) && !(await this.io.exists(this.snapshotPath(hint - 1)))) return hint;
    const ids = await this.listIds();
    return ids.length === 0 ? null : ids[0]!;
  }

  async exists(id: number): Promise<boolean> {
    return this.cache.has(id) || this.io.exists(this.snapshotPath(id));
  }

  async snapshot(id: number): Promise<Snapshot> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const p = this.snapshotPath(id);
    if (!(await this.io.exists(p))) throw new LakeFormatError(`snapshot ${id} does not exist at ${p} (expired, or never written)`);
    const s = snapshotFromJson(new TextDecoder().decode(await this.io.read(p)), p);
    this.cache.set(id, s);
    return s;
  }

  async latest(): Promise<Snapshot | null> {
    const id = await this.latestId();
    return id === null ? null : this.snapshot(id);
  }

  /** Writes snapshot-N if no such file exists; false when another writer took that id. */
  async tryCommit(s: Snapshot): Promise<boolean> {
    const ok = await this.io.writeIfAbsent(this.snapshotPath(s.id), snapshotToJson(s));
    if (ok) this.cache.set(s.id, s);
    return ok;
  }

  async writeHints(latest: number, earliest?: number): Promise<void> {
    await this.io.write(joinPath(this.dir, 'LATEST'), String(latest)).catch(() => undefined);
    if (earliest !== undefined) await this.io.write(joinPath(this.dir, 'EARLIEST'), String(earliest)).catch(() => undefined);
  }

  async deleteSnapshot(id: number): Promise<void> {
    this.cache.delete(id);
    await this.io.delete(this.snapshotPath(id));
  }
}
