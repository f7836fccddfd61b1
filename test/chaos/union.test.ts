/** A union of six sources of different parallelism, with worker kills: every record committed exactly once. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster, SeededRandom } from 'weir';
import { listPending, readCommitted } from '../harness/transactional-sink.ts';
import job, { missingAndDuplicates, SOURCES, type Tagged } from '../minicluster/jobs/union-many.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-chaos-union-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('union under failover', () => {
  for (const runNo of [1, 2]) {
    it(`run ${runNo}: kills in the middle lose nothing and duplicate nothing`, async () => {
      const dir = path.join(root, `run-${runNo}`);
      const outDir = path.join(dir, 'out');
      const handle = await new MiniCluster({
        workers: 2,
        batchSize: 256,
        workDir: path.join(dir, 'work'),
        checkpoints: { intervalMs: 200, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } },
        restartStrategy: { kind: 'fixed-delay', attempts: 5, delayMs: 50 },
      }).submit(job, { params: { ratePerSecond: 5000, outDir, sinkParallelism: 2 }, parallelism: 2 });
      const random = new SeededRandom(runNo);
      const first = 300 + random.int(400);
      for (const at of [first, first + 300 + random.int(300)]) {
        setTimeout(() => {
          if (handle.status === 'running' && handle.liveTaskManagers === 2) handle.killTaskManager(random.int(2));
        }, at);
      }
      await handle.result();
      expect(handle.restarts).toBeGreaterThanOrEqual(1);
      expect(listPending(outDir)).toEqual([]);
      const total = SOURCES.reduce((a, s) => a + s.count, 0);
      expect(missingAndDuplicates(readCommitted<Tagged>(outDir))).toEqual({ missing: 0, duplicates: 0, total });
    });
  }
});
