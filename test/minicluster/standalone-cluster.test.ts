/**
 * The standalone cluster's slots, in process: jobs share the task managers' slots, a job asking for
 * more than are free is refused or waits in line by option and starts when a job ends, and one
 * asking for more than the cluster has is refused even when it would wait.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { NotEnoughSlotsError } from '../../runtime/cluster/slot-pool.ts';
import { StandaloneCluster } from '../../runtime/cluster/standalone-cluster.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-standalone-'));
const cluster = new StandaloneCluster({ dir, taskManagers: 2, slotsPerTaskManager: 1, stateBackend: 'heap' });
afterAll(async () => {
  await cluster.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

const FAILING = 'test/minicluster/jobs/failing.ts';
const WORDS = 'test/minicluster/jobs/word-count.ts';

describe('standalone cluster slots', () => {
  it('refuses or queues a job that needs more slots than are free, and starts it when slots free up', async () => {
    await cluster.ready();
    const unbounded = await cluster.submit({ module: FAILING, params: { failAt: -1, unbounded: true }, parallelism: 1 });
    expect(unbounded.status).toBe('running');
    expect(cluster.pool.freeSlots).toBe(1);
    const tooBig = cluster.submit({ module: WORDS, params: { lines: 100, seed: 1 }, parallelism: 2 });
    await expect(tooBig).rejects.toBeInstanceOf(NotEnoughSlotsError);
    await expect(cluster.submit({ module: WORDS, params: { lines: 100, seed: 1 }, parallelism: 3, waitForSlots: true })).rejects.toThrow(/needs 3 slots .* 1 of the cluster's 2 are free/);

    const waiting = await cluster.submit({ module: WORDS, params: { lines: 100, seed: 1 }, parallelism: 2, waitForSlots: true });
    expect(waiting.status).toBe('waiting');
    const alsoWaiting = await cluster.submit({ module: WORDS, params: { lines: 100, seed: 1 }, parallelism: 2, waitForSlots: true });
    await cluster.cancel(alsoWaiting.id);
    expect(alsoWaiting.status).toBe('canceled');

    await cluster.cancel(unbounded.id);
    await vi.waitFor(() => expect(waiting.status).toBe('finished'), { timeout: 30_000, interval: 20 });
    expect(waiting.handle!.collectedCounts()['word-counts']).toBeGreaterThan(0);
    expect(alsoWaiting.handle).toBeUndefined();
    expect(cluster.pool.freeSlots).toBe(2);
    expect(cluster.logOf(waiting.id)).toMatch(/waiting for 2 free slots[\s\S]*running[\s\S]*finished/);
  });
});

describe('standalone cluster placement', () => {
  it('plans a job over the task managers its free slots fit on when the even split does not', async () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'weir-standalone-frag-'));
    const c = new StandaloneCluster({ dir: d, taskManagers: 2, slotsPerTaskManager: 4, stateBackend: 'heap' });
    try {
      await c.ready();
      // one-slot jobs go to the task manager with the most free slots: 0, 1, 0, 1
      const jobs = [];
      for (let i = 0; i < 4; i++) jobs.push(await c.submit({ module: FAILING, params: { failAt: -1, unbounded: true }, parallelism: 1 }));
      expect(c.taskManagers().map((t) => t.freeSlots)).toEqual([2, 2]);
      await c.cancel(jobs[1]!.id);
      await c.cancel(jobs[3]!.id);
      expect(c.taskManagers().map((t) => t.freeSlots)).toEqual([2, 4]);
      // six subtasks: 3 + 3 does not fit on 2 + 4, nor 6 on one; three task managers of two slots do
      const words = await c.submit({ module: WORDS, params: { lines: 500, seed: 2 }, parallelism: 6 });
      expect(words.handle!.plan.workers).toBe(3);
      await words.handle!.result();
      expect(words.status).toBe('finished');
      for (const j of [jobs[0]!, jobs[2]!]) await c.cancel(j.id);
    } finally {
      await c.shutdown();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
