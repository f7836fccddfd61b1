/**
 * The committer of the exactly-once StarRocks sink (beside each writer): commits the prepared
 * transactions of a completed checkpoint, and after a restore those the restored checkpoint lists.
 * Idempotent: a commit that does not answer OK is judged by the label's state (labels.ts
 * `commitOutcome`): COMMITTED or VISIBLE is done (an earlier commit went through before a crash or a
 * lost answer), PREPARED is retried (the runtime backs off), ABORTED or UNKNOWN is data lost and
 * fails the job with StarRocks' answer.
 */
import type { Committer, CommitterContext } from '../../runtime/sink/contract.ts';
import { StarRocksError } from './errors.ts';
import type { StreamLoadClient } from './http-client.ts';
import { commitOutcome } from './labels.ts';
import type { StarRocksCommittable } from './exactly-once-writer.ts';

export class StarRocksCommitter implements Committer<StarRocksCommittable> {
  private ctx: CommitterContext | undefined;

  constructor(private readonly client: StreamLoadClient) {}

  open(ctx: CommitterContext): void {
    this.ctx = ctx;
  }

  async commit(committables: readonly StarRocksCommittable[]): Promise<void> {
    for (const c of committables) {
      const started = Date.now();
      const answer = await this.client.transaction('commit', { label: c.label, db: c.database, table: c.table });
      if (answer.Status !== 'OK') {
        const state = await this.client.labelState(c.database, c.label);
        const outcome = commitOutcome(state);
        if (outcome === 'retry') throw new StarRocksError('transaction commit', c.label, answer, `label state '${state}'; retrying`, { retriable: true });
        if (outcome === 'lost') {
          throw new StarRocksError('transaction commit', c.label, answer, `label state '${state}': the prepared transaction of checkpoint ${c.checkpointId} (${c.rows} rows) is gone, most likely its prepared_timeout passed before the commit; raise preparedTimeoutS and restore from an earlier savepoint`, { retriable: false });
        }
      }
      this.ctx?.metrics.count('starrocks-commits');
      this.ctx?.metrics.count('starrocks-commit-ms', Date.now() - started);
    }
  }
}
