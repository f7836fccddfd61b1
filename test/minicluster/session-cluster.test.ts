/**
 * A MiniCluster with `reuseTaskManagers` is a session: its task manager threads run job after job
 * until close(), and the jobs' results are the same as on threads of their own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import wordCount, { counts } from './jobs/word-count.ts';
import threadIds, { seen } from './jobs/thread-ids.ts';
import shopJob, { type ShopSecond } from '../chaos/jobs/keyed-aggregation.ts';
import { listPending, readCommitted } from '../harness/transactional-sink.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-session-cluster-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const threadsOf = async (cluster: MiniCluster): Promise<Set<number>> => {
  const result = await cluster.execute(threadIds, { params: { keys: 64 }, parallelism: 2 });
  const rows = result.get(seen);
  // every key reported once, from the thread its subtask ran on
  expect(rows.map((r) => r.key).sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i));
  return new Set(rows.map((r) => r.thread));
};

const finalCounts = (rows: { word: string; count: number }[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const r of rows) m.set(r.word, Math.max(m.get(r.word) ?? 0, r.count));
  return m;
};

describe('MiniCluster session (reuseTaskManagers)', () => {
  it('runs job after job on the same two task manager threads', async () => {
    const cluster = new MiniCluster({ workers: 2, stateBackend: 'lmdb', reuseTaskManagers: true });
    try {
      const first = await threadsOf(cluster);
      const second = await threadsOf(cluster);
      expect(first.size).toBe(2);
      expect(second).toEqual(first);
    } finally {
      await cluster.close();
    }
  });

  it('without it, every job gets new threads', async () => {
    const cluster = new MiniCluster({ workers: 2, stateBackend: 'heap' });
    const first = await threadsOf(cluster);
    const second = await threadsOf(cluster);
    expect([...second].some((t) => first.has(t))).toBe(false);
  });

  it('gives the same results as threads per job, also for jobs side by side and at a parallelism above the thread count', async () => {
    const params = { lines: 5000, seed: 3 };
    const expected = finalCounts((await new MiniCluster({ workers: 2, stateBackend: 'heap' }).execute(wordCount, { params, parallelism: 2 })).get(counts));
    const cluster = new MiniCluster({ workers: 2, stateBackend: 'heap', reuseTaskManagers: true });
    try {
      const [a, b] = await Promise.all([cluster.execute(wordCount, { params, parallelism: 2 }), cluster.execute(wordCount, { params, parallelism: 4 })]);
      expect(finalCounts(a.get(counts))).toEqual(expected);
      expect(finalCounts(b.get(counts))).toEqual(expected);
    } finally {
      await cluster.close();
    }
  });

  it('a task manager killed under a checkpointed job: the job ends with the failure-free output, the session replaces the thread and runs the next job', async () => {
    const canonical = (rows: ShopSecond[]): string[] => rows.map((r) => `${r.shop}@${r.second}:${r.orders}:${r.cents}`).sort();
    const params = (outDir: string) => ({ count: 20_000, ratePerSecond: 15_000, seed: 7, outDir });
    const cluster = new MiniCluster({
      workers: 2,
      stateBackend: 'lmdb',
      workDir: path.join(root, 'work'),
      checkpoints: { intervalMs: 100, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } },
      restartStrategy: { kind: 'fixed-delay', attempts: 5, delayMs: 100 },
      reuseTaskManagers: true,
    });
    try {
      const clean = path.join(root, 'clean');
      await cluster.execute(shopJob, { params: params(clean), parallelism: 2 });
      const before = await threadsOf(cluster);

      const killedOut = path.join(root, 'killed');
      const handle = await cluster.submit(shopJob, { params: params(killedOut), parallelism: 2 });
      let killed = false;
      handle.on('checkpoint-completed', () => {
        if (killed) return;
        killed = true;
        handle.killTaskManager(1);
      });
      await handle.result();
      expect(killed).toBe(true);
      expect(handle.restarts).toBeGreaterThanOrEqual(1);
      expect(canonical(readCommitted<ShopSecond>(killedOut))).toEqual(canonical(readCommitted<ShopSecond>(clean)));
      expect(listPending(killedOut)).toEqual([]);

      // The next job runs on two threads again: one of the old ones and the replacement.
      const after = await threadsOf(cluster);
      expect(after.size).toBe(2);
      expect([...after].filter((t) => before.has(t))).toHaveLength(1);
    } finally {
      await cluster.close();
    }
  });

  it('refuses a session without worker threads, saying what it needs', () => {
    expect(() => new MiniCluster({ workers: 0, reuseTaskManagers: true })).toThrow(/reuseTaskManagers .* needs workers >= 1/);
    expect(() => new MiniCluster({ workers: 2, transport: 'in-process', reuseTaskManagers: true })).toThrow(/'worker-threads' transport/);
  });
});
