/**
 * The committer of the exactly-once StarRocks sink (beside each writer): commits the prepared
 * transactions of a completed checkpoint, and after a restore those the restored checkpoint lists.
 * Idempotent: a commit that does not answer OK is judged by the label's state (labels.ts
 * `commitOutcome`): COMMITTED or VISIBLE is done (an earlier commit went through before a crash or a
 * lost answer), PREPARED is retried (the runtime backs off), ABORTED or UNKNOWN is data lost and
 * fails the job with StarRocks' answer.
 */
import type { Committer, CommitterContext } from '../../runtime/sink/contract.ts';
import { OlapMetrics } from '../olap/metrics.ts';
import { StarRocksError } from './errors.ts';
import type { StreamLoadClient } from './http-client.ts';
import { commitOutcome } from './labels.ts';
import type { StarRocksCommittable } from './exactly-once-writer.ts';

export class StarRocksCommitter implements Committer<StarRocksCommittable> {
  private metrics: OlapMetrics | undefined;

  constructor(private readonly client: StreamLoadClient) {}

  open(ctx: CommitterContext): void {
    this.metrics = new OlapMetrics(ctx.metrics);
  }

  async commit(committables: readonly StarRocksCommittable[]): Promise<void> {
    for (const c of committables) {
      const commit = (): Promise<void> => this.commitOne(c);
      await (this.metrics ? this.metrics.timeCommit(commit) : commit());
    }
  }

  private async commitOne(c: StarRocksCommittable): Promise<void> {
    const answer = await this.client.transaction('commit', { label: c.label, db: c.database, table: c.table });
    if (answer.Status === 'OK') return;
    const state = await this.client.labelState(c.database, c.label);
    const outcome = commitOutcome(state);
    if (outcome === 'committed') return;
    if (outcome === 'retry') throw new StarRocksError('transaction commit', c.label, answer, `label state '${state}'; retrying`, { retriable: true });
    throw new StarRocksError(
      'transaction commit',
      c.label,
      answer,
      `label state '${state}': the prepared transaction of checkpoint ${c.checkpointId} (${c.rows} rows) is gone, most likely its prepared_timeout passed before the commit; raise preparedTimeoutS and restore from an earlier savepoint`,
      { retriable: false },
    );
  }
}
