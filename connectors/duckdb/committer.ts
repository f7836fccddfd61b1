/**
 * The DuckDB sink's committer (a global committer: one per sink, the only opener of the database).
 * When checkpoint n completes it loads the writers' staged files of n and applies them in ONE
 * DuckDB transaction together with a row (commit user, table, n) in `_weir_commits`:
 *
 *     BEGIN
 *       n already in _weir_commits for this commit user?  -> ROLLBACK, done (a replay after a restore)
 *       CREATE TABLE IF NOT EXISTS ...
 *       per schema segment: append the staged rows to a temp stage table (appender), then
 *         DELETE the staged keys, INSERT the last row per key unless it is a delete
 *       ALTER TABLE for schema changes, in order
 *       INSERT INTO _weir_commits
 *     COMMIT
 *     delete staged files of checkpoints <= n; publish the read copy
 *
 * A crash before COMMIT leaves nothing (DuckDB rolls back on open); after it, the restored
 * committer finds n in `_weir_commits` and skips it. The commit user (random, kept in union state)
 * tells this job's checkpoints from another run's that starts counting at 1 again.
 *
 * Readers: DuckDB allows one process to open a database file for writing, and then no other
 * process may open it at all. So after each commit the committer checkpoints the database and
 * publishes a copy (`readCopy`: written beside it, fsynced, renamed into place): open that one
 * read-only from any process, as often as you like; it holds exactly the committed checkpoints.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ExternalError } from '../../runtime/errors.ts';
import type { Committer, CommitterContext } from '../../runtime/sink/contract.ts';
import { OlapMetrics } from '../olap/metrics.ts';
import type { OlapTableSchema } from '../olap/schema.ts';
import type { OlapCommittable } from '../olap/staged-writer.ts';
import { COMMITS_TABLE, appendToStage, applyStageSql, createCommitsSql, createStageSql, createTableSql, literal, schemaChangeSql, STAGE_TABLE } from './sql.ts';
import { readStaged, removeStagedUpTo } from './staging.ts';

export interface DuckDbCommitterSettings {
  dbPath: string;
  table: string;
  stagingDir: string;
  /** Where to publish the read-only copy after each commit; undefined: no copy. */
  readCopy: string | undefined;
  sink: string;
}

export class DuckDbCommitter implements Committer<OlapCommittable<string>> {
  private instance: DuckDBInstance | undefined;
  private conn!: DuckDBConnection;
  private commitUser!: string;
  private metrics!: OlapMetrics;

  constructor(private readonly settings: DuckDbCommitterSettings) {}

  async open(ctx: CommitterContext): Promise<void> {
    this.metrics = new OlapMetrics(ctx.metrics);
    const users = ctx.operatorState.getUnionListState<string>('duckdb-commit-user');
    this.commitUser = users.get()[0] ?? `weir-${randomUUID()}`;
    users.update([this.commitUser]);
    await mkdir(path.dirname(this.settings.dbPath), { recursive: true });
    try {
      this.instance = await DuckDBInstance.create(this.settings.dbPath);
    } catch (e) {
      throw new ExternalError(`${this.settings.sink} could not open DuckDB database '${this.settings.dbPath}': ${(e as Error).message} (another process may hold it: DuckDB allows one writer process; read the published copy instead)`, { cause: e });
    }
    this.conn = await this.instance.connect();
    await this.conn.run(createCommitsSql());
  }

  /** The highest checkpoint this job committed to the table (0: none). */
  async lastCommitted(): Promise<number> {
    const r = await this.conn.runAndReadAll(`SELECT coalesce(max(checkpoint_id), 0) FROM ${COMMITS_TABLE} WHERE commit_user = ${literal(this.commitUser)} AND table_name = ${literal(this.settings.table)}`);
    return Number(r.getRows()[0]![0]);
  }

  async commit(committables: readonly OlapCommittable<string>[], checkpointId: number): Promise<void> {
    const { stagingDir } = this.settings;
    await this.metrics.timeCommit(async () => {
      await this.conn.run('BEGIN TRANSACTION');
      try {
        if ((await this.lastCommitted()) >= checkpointId) {
          await this.conn.run('ROLLBACK');
          return;
        }
        let rows = 0;
        for (const c of [...committables].sort((a, b) => a.subtask - b.subtask)) rows += await this.apply(c);
        await this.conn.run(
          `INSERT INTO ${COMMITS_TABLE} VALUES (${literal(this.commitUser)}, ${literal(this.settings.table)}, ${checkpointId}, now()::TIMESTAMP, ${rows})`,
        );
        await this.conn.run('COMMIT');
      } catch (e) {
        await this.conn.run('ROLLBACK').catch(() => {});
        throw new ExternalError(`${this.settings.sink} could not commit checkpoint ${checkpointId} to DuckDB table '${this.settings.table}': ${(e as Error).message}`, { cause: e });
      }
    });
    await removeStagedUpTo(stagingDir, checkpointId);
    if (this.settings.readCopy) await this.publish(this.settings.readCopy);
  }

  /**
   * Applies one writer's items in order: rows in segments of one schema (each staged file appended
   * to the stage table as it is read, so memory holds one batch), schema changes between them.
   */
  private async apply(c: OlapCommittable<string>): Promise<number> {
    let schema: OlapTableSchema = c.schema;
    await this.conn.run(createTableSql(schema));
    let staging = false;
    let rows = 0;
    const endSegment = async (): Promise<void> => {
      if (!staging) return;
      for (const sql of applyStageSql(schema)) await this.conn.run(sql);
      await this.conn.run(`DROP TABLE ${STAGE_TABLE}`);
      staging = false;
    };
    for (const item of c.items) {
      if (item.kind === 'rows') {
        if (!staging) await this.conn.run(createStageSql(schema));
        staging = true;
        rows += await appendToStage(this.conn, schema, [await readStaged(this.settings.stagingDir, item.batch)]);
        continue;
      }
      await endSegment();
      await this.conn.run(schemaChangeSql(schema.table, item.change));
      schema = item.schema;
    }
    await endSegment();
    return rows;
  }

  /** Checkpoints the database (everything in the main file) and publishes a copy of it by rename. */
  private async publish(target: string): Promise<void> {
    await this.conn.run('CHECKPOINT');
    const tmp = `${target}.${process.pid}.tmp`;
    await copyFile(this.settings.dbPath, tmp);
    const f = await open(tmp, 'r+');
    try {
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(tmp, target);
  }

  async close(): Promise<void> {
    this.conn?.closeSync();
    this.instance?.closeSync();
    this.instance = undefined;
  }
}
