/**
 * The ClickHouse sink's writers stage batches into the staging table (one INSERT ... FORMAT
 * JSONEachRow per batch, in the partition of the provisional checkpoint), where they wait, durable
 * and invisible to readers of the target table, until their checkpoint completes. A batch id names
 * the writer, its attempt, the checkpoint and the batch index, so the committer copies exactly the
 * batches a completed checkpoint's committables list. A retried INSERT that landed twice stages the
 * same rows twice with the same sequence numbers: their copies collapse in the target.
 */
import { randomBytes } from 'node:crypto';
import type { FoldedBatch } from '../olap/changes.ts';
import type { OlapSchemaChange } from '../olap/schema-change.ts';
import type { OlapTableSchema } from '../olap/schema.ts';
import type { StageContext, Stager } from '../olap/staged-writer.ts';
import { ConfigError } from '../../runtime/errors.ts';
import type { ClickHouseHttp } from './http.ts';
import { clickhouseType, createStagingSql, ident, stagedRowsJson, stagingTableOf } from './sql.ts';

/** A committable's batch: where it is staged. */
export interface StagedBatch {
  id: string;
  checkpoint: number;
}

export class ClickHouseStager implements Stager<StagedBatch> {
  private readonly attempt = randomBytes(4).toString('hex');
  private created = false;

  constructor(
    private readonly http: ClickHouseHttp,
    private readonly sink: string,
  ) {}

  async stage(batch: FoldedBatch, ctx: StageContext): Promise<StagedBatch> {
    if (!this.created) {
      await this.http.run(createStagingSql(batch.schema, this.sink));
      this.created = true;
    }
    const id = `${ctx.subtask}-${this.attempt}-${ctx.provisionalCheckpoint}-${ctx.index}`;
    const body = stagedRowsJson(batch.schema.columns, batch.rows, batch.deleted, { checkpoint: ctx.provisionalCheckpoint, batch: id, writer: ctx.subtask, firstSeq: batch.firstSeq });
    const cols = [...batch.schema.columns.map((c) => ident(c.name)), '_weir_checkpoint', '_weir_batch', '_weir_writer', '_weir_seq', '_weir_deleted'];
    await this.http.run(`INSERT INTO ${ident(stagingTableOf(batch.schema.table))} (${cols.join(', ')}) FORMAT JSONEachRow`, body);
    return { id, checkpoint: ctx.provisionalCheckpoint };
  }

  /** New columns go into the staging table at once (rows after the change carry them); drops wait for the commit. */
  async schemaChanged(change: OlapSchemaChange, schema: OlapTableSchema): Promise<void> {
    if (change.kind === 'renameColumn') {
      throw new ConfigError(`${this.sink} schema change`, `ClickHouse 18.16 cannot rename column '${change.from}' (no RENAME COLUMN); add a new column and drop the old one instead`);
    }
    if (change.kind !== 'addColumn') return;
    const staging = stagingTableOf(schema.table);
    await this.http.run(createStagingSql(schema, this.sink));
    this.created = true;
    const has = await this.http.select<{ name: string }>(`SELECT name FROM system.columns WHERE database = currentDatabase() AND table = '${staging}' AND name = '${change.column}'`);
    const col = schema.columns.find((c) => c.name === change.column)!;
    if (has.length === 0) await this.http.run(`ALTER TABLE ${ident(staging)} ADD COLUMN ${ident(col.name)} ${clickhouseType(col, this.sink)}`);
  }
}
