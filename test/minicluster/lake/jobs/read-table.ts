/**
 * Jobs reading a Paimon table with the lake source: `batch` collects the rows of a snapshot;
 * `copy` streams the table's changes into another table through the lake sink.
 */
import { collectSink, defineJob } from '../../../../runtime/api/index.ts';
import { lakeSource } from '../../../../connectors/lake/source/index.ts';
import { lakeSink } from '../../../../connectors/lake/sink/index.ts';
import { accountSchema, type Account } from './pk-writes.ts';

export const rows = collectSink<Account>('lake-rows');

export type ReadParams = {
  kind: 'batch' | 'copy';
  path: string;
  snapshotId?: number;
  copyTo?: string;
  pollIntervalMs?: number;
};

export default defineJob(import.meta.url, (env, params: ReadParams) => {
  if (params.kind === 'batch') {
    env
      .fromSource(lakeSource<Account>({ path: params.path, mode: 'batch', ...(params.snapshotId !== undefined ? { snapshotId: params.snapshotId } : {}) }), { uid: 'lake-batch' })
      .sinkTo(rows);
    return;
  }
  env
    .fromSource(lakeSource<Account>({ path: params.path, mode: 'streaming', pollIntervalMs: params.pollIntervalMs ?? 100 }), { uid: 'lake-stream' })
    .sinkTo(lakeSink<Account>({ path: params.copyTo!, schema: accountSchema() }), { uid: 'copy-lake' });
});
