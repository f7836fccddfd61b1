/**
 * The DuckDB sink's committer (a global committer: one per sink, the only writer of the database,
 * through its writer process, writer-process.ts). When checkpoint n completes it applies the
 * writers' staged files of n in ONE DuckDB transaction together with a row (commit user, table, n)
 * in `_weir_commits`:
 *
 *     BEGIN
 *       n already in _weir_commits for this commit user?  -> ROLLBACK, done (a replay after a restore)
 *       CREATE TABLE IF NOT EXISTS ...
 *       per schema segment: append the staged files to a temp stage table (appender), then
 *         DELETE the staged keys, INSERT the last row per key unless it is a delete
 *       ALTER TABLE for schema changes, in order
 *       INSERT INTO _weir_commits
 *     COMMIT
 *     delete staged files of checkpoints <= n; publish the read copy
 *
 * A crash before COMMIT leaves nothing (DuckDB rolls back on open); after it, the restored
 * committer finds the commit's key in `_weir_commits` and skips it. The key is a digest of the
 * staged batches' names, which carry each writer's random attempt id: the same committables (a
 * replay) have the same key, any other commit another one, also in a later run whose checkpoint
 * ids start again at 1 or that was restored from an older savepoint. The commit user (random, kept
 * in union state) and the checkpoint id are recorded with it, for readers.
 *
 * Readers: DuckDB allows one process to open a database file for writing, and then no other
 * process may open it. So after each commit the writer process checkpoints the database and
 * publishes a copy (`readCopy`: written beside it, fsynced, renamed into place): open that one
 * read-only from any process; it holds exactly the committed checkpoints.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir } from '../../runtime/worker-safe-fs.ts';
import path from 'node:path';
import type { Committer, CommitterContext } from '../../runtime/sink/contract.ts';
import { OlapMetrics } from '../olap/metrics.ts';
import type { OlapTableSchema } from '../olap/schema.ts';
import type { OlapCommittable } from '../olap/staged-writer.ts';
import { COMMITS_TABLE, applyStageSql, createCommitsSql, createStageSql, createTableSql, literal, schemaChangeSql, STAGE_TABLE } from './sql.ts';
import { removeStagedUpTo } from './staging.ts';
import { DuckDbWriterProcess } from './writer-process.ts';

export interface DuckDbCommitterSettings {
  dbPath: string;
  table: string;
  stagingDir: string;
  /** Where to publish the read-only copy after each commit; undefined: no copy. */
  readCopy: string | undefined;
  /** Close the file after each commit, so that other sinks' writer processes can open it. */
  sharedFile?: boolean;
  sink: string;
}

type Step = { sql: string } | { append: { dir: string; file: string; table: string; types: string[]; direct: boolean; columns?: string[] } };

export class DuckDbCommitter implements Committer<OlapCommittable<string>> {
  private db!: DuckDbWriterProcess;
  private commitUser!: string;
  private metrics!: OlapMetrics;
  private ready = false;

  constructor(private readonly settings: DuckDbCommitterSettings) {}

  async open(ctx: CommitterContext): Promise<void> {
    this.metrics = new OlapMetrics(ctx.metrics);
    const users = ctx.operatorState.getUnionListState<string>('duckdb-commit-user');
    this.commitUser = users.get()[0] ?? `weir-${randomUUID()}`;
    users.update([this.commitUser]);
    await mkdir(path.dirname(this.settings.dbPath), { recursive: true });
    this.db = new DuckDbWriterProcess(this.settings.dbPath, this.settings.sink);
  }

  async commit(committables: readonly OlapCommittable<string>[], checkpointId: number): Promise<void> {
    if (!this.ready) {
      await this.db.request({ op: 'run', sql: createCommitsSql() });
      this.ready = true;
    }
    const steps: Step[] = [];
    for (const c of [...committables].sort((a, b) => a.subtask - b.subtask)) this.plan(c, steps);
    const key = commitKey(this.settings.table, committables);
    const rows = committables.reduce((n, c) => n + c.items.reduce((m, i) => m + (i.kind === 'rows' ? i.rows : 0), 0), 0);
    steps.push({ sql: `INSERT INTO ${COMMITS_TABLE} VALUES (${literal(this.commitUser)}, ${literal(this.settings.table)}, ${checkpointId}, ${literal(key)}, now()::TIMESTAMP, ${rows})` });
    const guardSql = `SELECT count(*) FROM ${COMMITS_TABLE} WHERE commit_key = ${literal(key)}`;
    await this.metrics.timeCommit(() => this.db.request({ op: 'commit', guardSql, steps }));
    await removeStagedUpTo(this.settings.stagingDir, checkpointId);
    if (this.settings.readCopy) await this.db.request({ op: 'publish', target: this.settings.readCopy });
    if (this.settings.sharedFile) await this.db.request({ op: 'release' });
  }

  /**
   * One writer's items in order: rows in segments of one schema, schema changes between them.
   * DuckDB cannot commit a transaction that alters a table after changing its rows ("another
   * transaction has altered this table"), so the schema changes run first, in order, and each
   * segment's rows are applied after them under the names its columns have by then (a column
   * renamed later is written under its new name, one dropped later is left out, one added later
   * is NULL in the rows before it): the same table as applying them in stream order.
   */
  private plan(c: OlapCommittable<string>, steps: Step[]): void {
    let schema: OlapTableSchema = c.schema;
    steps.push({ sql: createTableSql(schema) });
    const changes = c.items.flatMap((item, at) => (item.kind === 'schema' ? [{ at, change: item.change }] : []));
    for (const { change } of changes) steps.push({ sql: schemaChangeSql(schema.table, change) });
    /** The name a column of the schema at item `at` has after every change. */
    const finalName = (at: number) => (column: string): string | null => {
      let name: string | null = column;
      for (const ch of changes) {
        if (ch.at < at || name === null) continue;
        if (ch.change.kind === 'renameColumn' && ch.change.from === name) name = ch.change.to;
        else if (ch.change.kind === 'dropColumn' && ch.change.column === name) name = null;
      }
      return name;
    };
    let staging = false;
    let segmentStart = 0;
    const endSegment = (): void => {
      if (!staging) return;
      for (const sql of applyStageSql(schema, finalName(segmentStart))) steps.push({ sql });
      steps.push({ sql: `DROP TABLE ${STAGE_TABLE}` });
      staging = false;
    };
    for (const [at, item] of c.items.entries()) {
      if (item.kind === 'rows') {
        const types = schema.columns.map((col) => col.type);
        if (changes.length === 0 && schema.primaryKey.length === 0 && !types.includes('DATE')) {
          // append-only: rows go straight into the table (nothing to fold or delete)
          steps.push({ append: { dir: this.settings.stagingDir, file: item.batch, table: schema.table, types, direct: true, columns: schema.columns.map((col) => col.name) } });
          continue;
        }
        if (!staging) {
          steps.push({ sql: createStageSql(schema) });
          segmentStart = at;
        }
        staging = true;
        steps.push({ append: { dir: this.settings.stagingDir, file: item.batch, table: STAGE_TABLE, types, direct: false } });
        continue;
      }
      endSegment();
      schema = item.schema;
    }
    endSegment();
  }

  async close(): Promise<void> {
    await this.db?.close();
  }
}

/** What identifies a commit: the table and the names of its staged batches (unique per writer attempt). */
export function commitKey(table: string, committables: readonly OlapCommittable<string>[]): string {
  const names = committables.flatMap((c) => c.items.map((i) => (i.kind === 'rows' ? i.batch : `schema:${JSON.stringify(i.change)}@${c.subtask}`)));
  return createHash('sha256').update(JSON.stringify([table, names.sort()])).digest('hex');
}
