/**
 * Small files under a steady write load: with a flush per bucket at every checkpoint and compaction
 * at 3 sorted runs, no snapshot of the table ever holds more than `num-sorted-run.stop-trigger`
 * + 2 sorted runs in a bucket (the writer counts its own files that the snapshot does not show yet,
 * as Java's writer counts its own levels; the + 2 are flushes made while the last compaction waits
 * for its commit): when compaction falls behind, the writer waits for it at the barrier. And `full-compaction.delta-commits`
 * compacts on schedule. The jobs run for a number of completed checkpoints, not for a time, so a
 * loaded machine changes only how long they take.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import { FileStoreTable } from 'weir/lake';
import { mergeEntries } from '../../../connectors/lake/format/manifest.ts';
import { sortedRunCount } from '../../../connectors/lake/table/compact.ts';
import job, { type PkWritesParams } from './jobs/pk-writes.ts';

/** A compaction round runs in the side-work pool, whose threads start with the first round: on a loaded machine that takes many 50 ms checkpoints. */
const MAX_CHECKPOINTS = 400;

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-runs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * Runs the write job (endless input) until `checkpoints` checkpoints completed and `until` holds for
 * the table (checked after each later checkpoint, at most `MAX_CHECKPOINTS` in all), then stops it
 * with a savepoint.
 */
async function writeFor(name: string, checkpoints: number, extra: Partial<PkWritesParams>, until: (table: FileStoreTable) => Promise<boolean> = async () => true): Promise<FileStoreTable> {
  const tablePath = path.join(root, name, 'table');
  const params: PkWritesParams = { count: 1e9, keys: 500, seed: 13, path: tablePath, writers: 2, ratePerSecond: 2000, expireEvery: 0, ...extra };
  const handle = await new MiniCluster({
    workers: 2,
    workDir: path.join(root, name, 'work'),
    checkpoints: { intervalMs: 50, storage: { kind: 'local', dir: path.join(root, name, 'checkpoints') } },
  }).submit(job, { params, parallelism: 2 });
  let n = 0;
  let checking = false;
  await new Promise<void>((resolve, reject) => {
    const on = (): void => {
      if (++n < checkpoints || checking) return;
      checking = true;
      FileStoreTable.open(tablePath).then(until)
        .then((done) => {
          checking = false;
          if (!done && n < MAX_CHECKPOINTS) return;
          handle.off('checkpoint-completed', on);
          resolve();
        }, reject);
    };
    handle.on('checkpoint-completed', on);
  });
  await handle.stopWithSavepoint();
  await handle.result();
  return FileStoreTable.open(tablePath);
}

describe('sorted runs under a steady write load', () => {
  it('stay bounded by the stop trigger', async () => {
    const table = await writeFor('bounded', 24, { compactionTrigger: 3 });
    const stopTrigger = 3 + 3; // Paimon's default: compaction trigger + 3
    let maxRuns = 0;
    const ids = await table.snapshots.listIds();
    for (const id of ids) {
      const live = mergeEntries(await table.liveEntries(await table.snapshots.snapshot(id)));
      const byBucket = new Map<string, typeof live>();
      for (const e of live) byBucket.set(`${e.partition}|${e.bucket}`, [...(byBucket.get(`${e.partition}|${e.bucket}`) ?? []), e]);
      for (const files of byBucket.values()) maxRuns = Math.max(maxRuns, sortedRunCount(files.map((e) => e.file)));
    }
    expect(ids.length).toBeGreaterThan(stopTrigger + 2); // more flushes than the stop trigger: compaction had work to do
    expect(maxRuns).toBeGreaterThanOrEqual(3);
    expect(maxRuns).toBeLessThanOrEqual(stopTrigger + 2);
  });

  it('full-compaction.delta-commits merges every bucket fully on schedule', async () => {
    // the size trigger never fires (100 runs); only the schedule compacts
    const kinds = async (table: FileStoreTable): Promise<string[]> =>
      Promise.all((await table.snapshots.listIds()).map(async (id) => (await table.snapshots.snapshot(id)).commitKind));
    const table = await writeFor('full', 16, { compactionTrigger: 100, tableOptions: { 'full-compaction.delta-commits': '2' } }, async (t) => (await kinds(t)).includes('COMPACT'));
    expect(await kinds(table)).toContain('COMPACT');
  });
});
