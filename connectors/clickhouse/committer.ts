/**
 * The ClickHouse sink's committer (a global committer: one per sink). When checkpoint n completes it
 * copies the staged batches of n into the target table with versions n * 2^32 + seq
 * (`INSERT ... SELECT` on the server, one per run of batches with one schema), applies schema
 * changes in between, then drops the staging partitions of checkpoints <= n (committed, or left by
 * an attempt that failed before its checkpoint completed).
 *
 * Exactly-once without transactions: ClickHouse 18.16 has none and no insert deduplication outside
 * ReplicatedMergeTree (FACTS.md). A commit repeated after a restore copies the same rows with the
 * same versions again (or nothing, if the staging partition was already dropped), and the target's
 * ReplacingMergeTree keeps one row per key and version. What readers see is therefore the committed
 * checkpoints, each visible block by block while its INSERT runs, with duplicates until the
 * background merge: read with FINAL (or argMax by _weir_version) and skip _weir_deleted rows.
 */
import type { Committer, CommitterContext } from '../../runtime/sink/contract.ts';
import { OlapMetrics } from '../olap/metrics.ts';
import type { OlapTableSchema } from '../olap/schema.ts';
import type { OlapCommittable } from '../olap/staged-writer.ts';
import type { ClickHouseHttp } from './http.ts';
import { clickhouseType, copyStagedSql, createTargetSql, ident, literal, stagingTableOf } from './sql.ts';
import type { StagedBatch } from './staging.ts';

export class ClickHouseCommitter implements Committer<OlapCommittable<StagedBatch>> {
  private metrics!: OlapMetrics;
  private created = false;

  constructor(
    private readonly http: ClickHouseHttp,
    private readonly table: string,
    private readonly sink: string,
  ) {}

  open(ctx: CommitterContext): void {
    this.metrics = new OlapMetrics(ctx.metrics);
  }

  async commit(committables: readonly OlapCommittable<StagedBatch>[], checkpointId: number): Promise<void> {
    await this.metrics.timeCommit(async () => {
      for (const c of [...committables].sort((a, b) => a.subtask - b.subtask)) await this.apply(c, checkpointId);
    });
    await this.dropStagedUpTo(checkpointId);
  }

  private async apply(c: OlapCommittable<StagedBatch>, checkpointId: number): Promise<void> {
    let schema: OlapTableSchema = c.schema;
    if (!this.created) {
      await this.http.run(createTargetSql(schema, this.sink));
      this.created = true;
    }
    let batches: StagedBatch[] = [];
    const copy = async (): Promise<void> => {
      if (batches.length === 0) return;
      await this.http.run(copyStagedSql(schema, checkpointId, batches.map((b) => b.checkpoint), batches.map((b) => b.id)));
      batches = [];
    };
    for (const item of c.items) {
      if (item.kind === 'rows') {
        batches.push(item.batch);
        continue;
      }
      await copy();
      const change = item.change;
      const columns = await this.columnsOf(schema.table);
      if (change.kind === 'addColumn' && !columns.includes(change.column)) {
        const col = item.schema.columns.find((x) => x.name === change.column)!;
        await this.http.run(`ALTER TABLE ${ident(schema.table)} ADD COLUMN ${ident(col.name)} ${clickhouseType(col, this.sink)}`);
      } else if (change.kind === 'dropColumn' && columns.includes(change.column)) {
        await this.http.run(`ALTER TABLE ${ident(schema.table)} DROP COLUMN ${ident(change.column)}`);
      }
      schema = item.schema;
    }
    await copy();
  }

  private async columnsOf(table: string): Promise<string[]> {
    const rows = await this.http.select<{ name: string }>(`SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ${literal(table)}`);
    return rows.map((r) => r.name);
  }

  private async dropStagedUpTo(checkpointId: number): Promise<void> {
    const staging = stagingTableOf(this.table);
    const parts = await this.http.select<{ partition: string }>(
      `SELECT DISTINCT partition FROM system.parts WHERE database = currentDatabase() AND table = ${literal(staging)} AND active`,
    );
    for (const { partition } of parts) {
      if (Number(partition) <= checkpointId) await this.http.run(`ALTER TABLE ${ident(staging)} DROP PARTITION ${Number(partition)}`);
    }
  }
}
