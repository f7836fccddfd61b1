/**
 * Tags (`tag/tag-<name>`): named, immutable snapshots that outlive snapshot expiration, as Java
 * Paimon keeps them. A tag file is the snapshot's JSON plus `tagCreateTime` (a LocalDateTime, which
 * Java's Jackson writes as an array [year, month, day, hour, minute, second, nanos]) and, when the tag
 * has a time to live, `tagTimeRetained` (seconds). Expiration keeps every file a tag uses
 * (table/maintenance.ts), so a T+1 batch job reads a complete, immutable day from its tag.
 */
import { type FileIO, joinPath, baseName } from '../fs/file-io.ts';
import { ConfigError } from '../errors.ts';
import { type Snapshot, snapshotFromJson, snapshotToJson } from '../format/snapshot.ts';
import type { FileStoreTable } from './table.ts';

export interface Tag {
  name: string;
  snapshot: Snapshot;
  /** When the tag was created (epoch ms), if the file says. */
  createdMillis: number | null;
  /** How long the tag is kept, if it has a time to live. */
  timeRetainedMs: number | null;
}

const TAG_NAME = /^[^/\\\s][^/\\]*$/;

export class TagManager {
  constructor(readonly io: FileIO, readonly tablePath: string) {}

  get dir(): string {
    return joinPath(this.tablePath, 'tag');
  }

  tagPath(name: string): string {
    return joinPath(this.dir, `tag-${name}`);
  }

  /** Every tag, ordered by snapshot id (then name). */
  async list(): Promise<Tag[]> {
    if (!(await this.io.exists(this.dir))) return [];
    const names = (await this.io.list(this.dir))
      .map((f) => /^tag-(.+)$/.exec(baseName(f.path))?.[1])
      .filter((n): n is string => n !== undefined);
    const tags = await Promise.all(names.map((n) => this.get(n)));
    return tags.filter((t): t is Tag => t !== null).sort((a, b) => a.snapshot.id - b.snapshot.id || a.name.localeCompare(b.name));
  }

  async exists(name: string): Promise<boolean> {
    return this.io.exists(this.tagPath(name));
  }

  async get(name: string): Promise<Tag | null> {
    const p = this.tagPath(name);
    if (!(await this.io.exists(p))) return null;
    const text = new TextDecoder().decode(await this.io.read(p));
    const snapshot = snapshotFromJson(text, p);
    const raw = snapshot as Snapshot & { tagCreateTime?: unknown; tagTimeRetained?: unknown };
    const created = localDateTimeToMillis(raw.tagCreateTime);
    const retained = typeof raw.tagTimeRetained === 'number' ? raw.tagTimeRetained * 1000 : null;
    delete raw.tagCreateTime;
    delete raw.tagTimeRetained;
    return { name, snapshot, createdMillis: created, timeRetainedMs: retained };
  }

  /** Creates a tag on `snapshot`; false if a tag of that name exists already (tags are immutable). */
  async create(snapshot: Snapshot, name: string, opts: { timeRetainedMs?: number; now?: number } = {}): Promise<boolean> {
    if (!TAG_NAME.test(name)) throw new ConfigError('tag name', `'${name}' is not a valid tag name (no slashes, not blank)`);
    const o = JSON.parse(snapshotToJson(snapshot)) as Record<string, unknown>;
    o.tagCreateTime = millisToLocalDateTime(opts.now ?? Date.now());
    if (opts.timeRetainedMs !== undefined) o.tagTimeRetained = opts.timeRetainedMs / 1000;
    return this.io.writeIfAbsent(this.tagPath(name), JSON.stringify(o, null, 2));
  }

  async delete(name: string): Promise<void> {
    await this.io.delete(this.tagPath(name));
  }
}

/** Epoch ms -> Java LocalDateTime array in this process's time zone (Java uses the JVM's). */
function millisToLocalDateTime(ms: number): number[] {
  const d = new Date(ms);
  return [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds() * 1_000_000];
}

function localDateTimeToMillis(v: unknown): number | null {
  if (Array.isArray(v) && v.length >= 3) {
    const [y, mo, d, h = 0, mi = 0, s = 0, nanos = 0] = v as number[];
    return new Date(y!, mo! - 1, d!, h, mi, s, Math.floor(nanos / 1_000_000)).getTime();
  }
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

/** The snapshot a tag names (for reading the table as of the tag); a ConfigError lists the tags there are. */
export async function tagSnapshot(table: FileStoreTable, name: string): Promise<Snapshot> {
  const tags = new TagManager(table.io, table.path);
  const tag = await tags.get(name);
  if (tag) return tag.snapshot;
  const names = (await tags.list()).map((t) => t.name);
  throw new ConfigError('tag', `${table.path} has no tag '${name}'; ${names.length > 0 ? `its tags: ${names.join(', ')}` : 'it has no tags'}`);
}
