/**
 * Savepoints and rescaling: a job stopped with a savepoint at parallelism 2 and resumed at 4 (and
 * at 1) commits exactly what an uninterrupted run commits; state is matched by uid.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster, type SavepointRef } from 'weir';
import { readCommitted } from '../harness/transactional-sink.ts';
import job, { type ShopSecond } from './jobs/keyed-aggregation.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-rescale-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const params = { count: 18_000, ratePerSecond: 3_000, seed: 7 };

function canonical(rows: ShopSecond[]): string[] {
  return rows.map((r) => `${r.shop}@${r.second}:${r.orders}:${r.cents}`).sort();
}

function cluster(): MiniCluster {
  return new MiniCluster({
    workers: 2,
    workDir: path.join(root, 'work'),
    checkpoints: { intervalMs: 150, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } },
  });
}

/** Runs at parallelism 2 and stops with a savepoint once `checkpoints` checkpoints completed (mid-stream). */
async function stopWithSavepointAfter(checkpoints: number, outDir: string): Promise<SavepointRef> {
  const handle = await cluster().submit(job, { params: { ...params, outDir }, parallelism: 2 });
  await new Promise<void>((resolve) => {
    let n = 0;
    handle.on('checkpoint-completed', () => {
      if (++n === checkpoints) resolve();
    });
  });
  const savepoint = await handle.stopWithSavepoint();
  await handle.result();
  return savepoint;
}

describe('savepoints and rescaling', () => {
  let expected: string[] = [];

  it('an uninterrupted run at parallelism 2', async () => {
    const outDir = path.join(root, 'straight');
    await cluster().execute(job, { params: { ...params, outDir }, parallelism: 2 });
    const rows = readCommitted<ShopSecond>(outDir);
    expect(rows.reduce((a, r) => a + r.orders, 0)).toBe(params.count);
    expected = canonical(rows);
  });

  for (const parallelism of [4, 1]) {
    it(`stopped with a savepoint at 2 and resumed at ${parallelism} gives the same output`, async () => {
      const outDir = path.join(root, `rescaled-${parallelism}`);
      const savepoint = await stopWithSavepointAfter(1, outDir);
      const before = readCommitted<ShopSecond>(outDir).reduce((a, r) => a + r.orders, 0);
      expect(before).toBeLessThan(params.count);
      await cluster().execute(job, { params: { ...params, outDir }, parallelism, restoreFrom: savepoint });
      expect(canonical(readCommitted<ShopSecond>(outDir))).toEqual(expected);
      // Two rate-limited runs (18k records at 3k/s) and a restore: 10-25 s alone, and past the
      // default 60 s once under CI's parallel test load (seen at parallelism 1, same code before and
      // after issue 17's changes: 2.2 s to the first checkpoint, 7.6-14 s for the resumed run at load 4-10).
    }, 180_000);
  }

  it('state for an operator the job no longer has is an error unless dropping it is allowed', async () => {
    const outDir = path.join(root, 'renamed');
    const savepoint = await stopWithSavepointAfter(1, outDir);
    await expect(cluster().submit(job, { params: { ...params, outDir, aggregationUid: 'renamed' }, restoreFrom: savepoint })).rejects.toThrow(
      /state for operators this job does not have: 'sum-per-second'.*allowNonRestoredState/,
    );
    const handle = await cluster().submit(job, { params: { ...params, outDir, aggregationUid: 'renamed' }, restoreFrom: savepoint, allowNonRestoredState: true });
    await handle.result();
    expect(handle.status).toBe('finished');
  });
});
