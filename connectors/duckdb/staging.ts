/**
 * Where a DuckDB sink's rows live between the barrier and the commit: staged files next to the
 * database (`<db>.staging/<table>/`), one per batch a writer staged. DuckDB allows one writer
 * process (and in Weir one opener per file), so the writers, which run in any task manager, never
 * open the database: they write files; the committer alone loads them.
 *
 * A file is written to a temporary name, fsynced and renamed, so a staged file is whole or absent.
 * Its name starts with the provisional checkpoint (`<checkpoint>-<subtask>-<attempt>-<index>.batch`):
 * after the committer committed checkpoint n, every file whose checkpoint is <= n is either committed
 * (and deleted) or left by an attempt that failed before its checkpoint completed (garbage), so the
 * committer deletes them all (see `removeStagedUpTo`).
 */
import { randomBytes } from 'node:crypto';
import { close, fsync, mkdir, open, readdir, rename, rm, writeFile } from '../../runtime/worker-safe-fs.ts';
import path from 'node:path';
import { serialize } from 'node:v8';
import type { FoldedBatch } from '../olap/changes.ts';
import type { StageContext, Stager } from '../olap/staged-writer.ts';

/**
 * A staged batch as stored: one array per column (typed arrays for numbers, so that the writer
 * process deserializes it about ten times faster than row arrays), a null mask per column that has
 * nulls, delete flags, and the sequence number of the first row.
 */
export interface StagedColumns {
  count: number;
  columns: unknown[];
  nulls: (Uint8Array | null)[];
  deleted: Uint8Array;
  firstSeq: number;
}

/** Columns of converted values (connectors/olap/schema.ts) by column type. */
export function toColumns(batch: FoldedBatch): StagedColumns {
  const n = batch.rows.length;
  const types = batch.schema.columns.map((c) => c.type);
  const columns: unknown[] = [];
  const nulls: (Uint8Array | null)[] = [];
  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    const col: { [k: number]: unknown; length: number } =
      t === 'INTEGER' ? new Int32Array(n) : t === 'DOUBLE' || t === 'TIMESTAMP' ? new Float64Array(n) : t === 'BIGINT' ? new BigInt64Array(n) : t === 'BOOLEAN' ? new Uint8Array(n) : new Array<unknown>(n);
    let mask: Uint8Array | null = null;
    for (let r = 0; r < n; r++) {
      const v = batch.rows[r]![i];
      if (v === null || v === undefined) {
        (mask ??= new Uint8Array(n))[r] = 1;
        continue;
      }
      col[r] = t === 'TIMESTAMP' ? (v as Date).getTime() : t === 'BOOLEAN' ? (v ? 1 : 0) : v;
    }
    columns.push(col);
    nulls.push(mask);
  }
  return { count: n, columns, nulls, deleted: batch.deleted, firstSeq: batch.firstSeq };
}

export function stagingDirOf(dbPath: string, table: string, stagingDir?: string): string {
  return path.join(stagingDir ?? `${dbPath}.staging`, table);
}

export class FileStager implements Stager<string> {
  /** Distinguishes this writer's files from those of an earlier attempt of the same subtask. */
  private readonly attempt = randomBytes(4).toString('hex');
  private made = false;

  constructor(private readonly dir: string) {}

  async stage(batch: FoldedBatch, ctx: StageContext): Promise<string> {
    if (!this.made) {
      await mkdir(this.dir, { recursive: true });
      this.made = true;
    }
    const name = `${ctx.provisionalCheckpoint}-${ctx.subtask}-${this.attempt}-${ctx.index}.batch`;
    const staged = toColumns(batch);
    const tmp = path.join(this.dir, `.${name}.tmp`);
    const fd = await open(tmp, 'w');
    try {
      await writeFile(fd, serialize(staged));
      await fsync(fd);
    } finally {
      await close(fd);
    }
    await rename(tmp, path.join(this.dir, name));
    return name;
  }
}

/** Deletes staged files of checkpoints <= `checkpointId` (committed, or garbage of a failed attempt). */
export async function removeStagedUpTo(dir: string, checkpointId: number): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const provisional = Number(name.startsWith('.') ? name.slice(1).split('-')[0] : name.split('-')[0]);
    if (Number.isInteger(provisional) && provisional <= checkpointId) {
      await rm(path.join(dir, name), { force: true });
      removed++;
    }
  }
  return removed;
}
