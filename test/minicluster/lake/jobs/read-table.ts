/**
 * Jobs reading a Paimon table with the lake source: `batch` collects the rows of a snapshot;
 * `copy` streams the table's changes into another table through the lake sink.
 */
import { collectSink, defineJob } from 'weir';
import { lakeSink, lakeSource } from 'weir/lake';
import { accountSchema, type Account } from './pk-writes.ts';
import { transactionalFileSink } from '../../../harness/transactional-sink.ts';

export const rows = collectSink<Account>('lake-rows');

export type ReadParams = {
  kind: 'batch' | 'copy' | 'changes-to-files';
  path: string;
  snapshotId?: number;
  copyTo?: string;
  pollIntervalMs?: number;
  /** changes-to-files: the exactly-once file sink's directory */
  outDir?: string;
  /** streaming: record the position as this consumer of the table */
  consumerId?: string;
  /** changes-to-files: busy time per change (default 0.1 ms) */
  busyMs?: number;
};

export default defineJob(import.meta.url, (env, params: ReadParams) => {
  if (params.kind === 'batch') {
    env
      .fromSource(lakeSource<Account>({ path: params.path, mode: 'batch', ...(params.snapshotId !== undefined ? { snapshotId: params.snapshotId } : {}) }), { uid: 'lake-batch' })
      .sinkTo(rows);
    return;
  }
  const changes = env.fromSource(
    lakeSource<Account>({
      path: params.path,
      mode: 'streaming',
      pollIntervalMs: params.pollIntervalMs ?? 100,
      ...(params.kind === 'changes-to-files' ? { afterSnapshotId: 0 } : {}),
      ...(params.consumerId !== undefined ? { consumerId: params.consumerId } : {}),
    }),
    { uid: 'lake-stream' },
  );
  if (params.kind === 'changes-to-files') {
    changes
      .map((c) => {
        // about 100 us a change, so that the read spans many checkpoints and kills land in the middle
        const until = performance.now() + (params.busyMs ?? 0.1);
        while (performance.now() < until);
        return `${c.kind}|${c.row.id}|${c.row.version}|${c.row.balance}|${c.row.owner}`;
      })
      .sinkTo(transactionalFileSink<string>(params.outDir!), { uid: 'changes-files' });
    return;
  }
  changes.sinkTo(lakeSink<Account>({ path: params.copyTo!, schema: accountSchema() }), { uid: 'copy-lake' });
});
