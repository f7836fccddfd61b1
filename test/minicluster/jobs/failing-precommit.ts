/**
 * A job whose exactly-once sink fails its pre-commit once (at the first checkpoint after `failAfter`
 * records were written): the buffered transaction is gone, so the task must fail and the job
 * restart from the last completed checkpoint, replaying those records.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { datagen, defineJob, twoPhaseCommitSink } from 'weir';
import { FileTransactions } from '../../harness/transactional-sink.ts';

class FailingOncePreCommit extends FileTransactions<number> {
  private written = 0;

  constructor(private readonly outDir: string, private readonly failAfter: number) {
    super(outDir);
  }

  override write(txn: { name: string }, values: readonly number[]): void {
    this.written += values.length;
    super.write(txn, values);
  }

  override async preCommit(txn: { name: string }): Promise<void> {
    const marker = path.join(this.outDir, 'failed-once');
    if (this.written >= this.failAfter && !existsSync(marker)) {
      writeFileSync(marker, txn.name);
      await super.abort(txn); // the transaction's rows are gone with it
      throw new Error(`injected pre-commit failure of ${txn.name}`);
    }
    await super.preCommit(txn);
  }
}

export default defineJob(import.meta.url, (env, p: { outDir: string; count: number; failAfter: number }) => {
  env
    .fromSource(datagen({ name: 'numbers', count: p.count, ratePerSecond: 4000, generate: (i) => i }), { uid: 'numbers' })
    .sinkTo(twoPhaseCommitSink<number, { name: string }>('failing-precommit-sink', () => new FailingOncePreCommit(p.outDir, p.failAfter)), { uid: 'sink' });
});
