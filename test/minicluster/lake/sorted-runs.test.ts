/**
 * Small files under a steady write load: with 50 ms checkpoints (a flush per bucket each) and
 * compaction at 3 sorted runs, no snapshot of the table ever holds more than
 * `num-sorted-run.stop-trigger` (+1 for the checkpoint whose commit carries the compaction) sorted
 * runs in a bucket: when compaction falls behind, the writer waits for it at the barrier.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import { FileStoreTable } from 'weir/lake';
import { mergeEntries } from '../../../connectors/lake/format/manifest.ts';
import { sortedRunCount } from '../../../connectors/lake/table/compact.ts';
import job from './jobs/pk-writes.ts';
import { expectedRows, tableText } from './model.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-runs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sorted runs under a steady write load', () => {
  it('stay bounded by the stop trigger', async () => {
    const tablePath = path.join(root, 'table');
    const params = { count: 9000, keys: 700, seed: 13, path: tablePath, writers: 2, ratePerSecond: 3000, compactionTrigger: 3, expireEvery: 0 };
    const handle = await new MiniCluster({
      workers: 2,
      workDir: path.join(root, 'work'),
      checkpoints: { intervalMs: 50, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } },
    }).submit(job, { params, parallelism: 2 });
    await handle.result();
    const table = await FileStoreTable.open(tablePath);
    expect(await tableText(table)).toEqual(expectedRows(params.count, params.keys, params.seed));
    const stopTrigger = 3 + 3; // Paimon's default: compaction trigger + 3
    let maxRuns = 0;
    let snapshots = 0;
    for (const id of await table.snapshots.listIds()) {
      const live = mergeEntries(await table.liveEntries(await table.snapshots.snapshot(id)));
      const byBucket = new Map<string, typeof live>();
      for (const e of live) byBucket.set(`${e.partition}|${e.bucket}`, [...(byBucket.get(`${e.partition}|${e.bucket}`) ?? []), e]);
      for (const files of byBucket.values()) maxRuns = Math.max(maxRuns, sortedRunCount(files.map((e) => e.file)));
      snapshots++;
    }
    expect(snapshots).toBeGreaterThan(3 + 3 + 2); // more flushes than the stop trigger: compaction had work to do
    expect(maxRuns).toBeGreaterThanOrEqual(3);
    expect(maxRuns).toBeLessThanOrEqual(stopTrigger + 1);
  });
});
