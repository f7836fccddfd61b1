/**
 * The window and changelog operators under failover: a worker is killed in the middle of the job
 * (test/chaos/jobs/windows.ts); it restarts from its latest checkpoint (window panes, sessions,
 * timers, dedup/aggregate/top-N/distinct state in LMDB) and the exactly-once sink's committed
 * output equals a failure-free run's: the same window results (early firings included), and
 * changelogs with the same net rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type JobHandle, MiniCluster, SeededRandom } from 'weir';
import { listPending, readCommitted } from '../harness/transactional-sink.ts';
import job, { type Line, type Pipeline } from './jobs/windows.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-chaos-windows-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const params = { count: 6000, seed: 5, keys: 5, ratePerSecond: 3000 };

async function run(name: string, pipeline: Pipeline, kill: (handle: JobHandle) => void): Promise<{ out: Line[]; restarts: number; pending: string[] }> {
  const dir = path.join(root, name);
  const outDir = path.join(dir, 'out');
  const handle = await new MiniCluster({
    workers: 2,
    batchSize: 256,
    stateBackend: 'lmdb',
    workDir: path.join(dir, 'work'),
    checkpoints: { intervalMs: 200, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } },
    restartStrategy: { kind: 'fixed-delay', attempts: 5, delayMs: 50 },
  }).submit(job, { params: { ...params, pipeline, outDir }, parallelism: 3 });
  kill(handle);
  await handle.result();
  return { out: readCommitted<Line>(outDir), restarts: handle.restarts, pending: listPending(outDir) };
}

/**
 * On-time window results, and the net rows of changelogs. Early firings show what had arrived when
 * the watermark passed their time, which depends on timing even without failures: only their
 * presence is compared.
 */
function canonical(out: Line[]): { windows: string[]; net: [string, number][]; early: boolean } {
  const windows: string[] = [];
  const net = new Map<string, number>();
  let early = false;
  for (const l of out) {
    if (l.kind === 'window') {
      if (l.text.includes('|early|')) early = true;
      else windows.push(l.text);
    }
    else {
      const k = JSON.stringify(l.change.row);
      const n = (net.get(k) ?? 0) + (l.change.kind === '+I' || l.change.kind === '+U' ? 1 : -1);
      if (n === 0) net.delete(k);
      else net.set(k, n);
    }
  }
  return { windows: windows.sort(), net: [...net].sort(([a], [b]) => a.localeCompare(b)), early };
}

const PIPELINES: { pipeline: Pipeline; min: number }[] = [
  { pipeline: 'tumbling', min: 1000 },
  { pipeline: 'tumbling-held', min: 100 },
  { pipeline: 'sliding', min: 1000 },
  { pipeline: 'session', min: 1000 },
  { pipeline: 'changelog', min: 20 },
  { pipeline: 'distinct', min: 1000 },
];

describe('windows and changelog operators under failover: a worker killed in the middle commits the failure-free output', () => {
  PIPELINES.forEach(({ pipeline, min }, n) => {
    it(pipeline, async () => {
      const reference = await run(`${pipeline}-reference`, pipeline, () => {});
      expect(reference.restarts).toBe(0);
      const ref = canonical(reference.out);
      expect(reference.out.length).toBeGreaterThan(min);
      expect(ref.early).toBe(pipeline === 'tumbling');
      const random = new SeededRandom(n + 3);
      const failed = await run(`${pipeline}-killed`, pipeline, (handle) => {
        setTimeout(() => {
          if (handle.status === 'running') handle.killTaskManager(random.int(2));
        }, 700 + random.int(400));
      });
      expect(failed.restarts).toBeGreaterThanOrEqual(1);
      expect(failed.pending).toEqual([]);
      expect(canonical(failed.out)).toEqual(ref);
    }, 180_000); // two jobs with checkpoints and a restart: about 40 s each on a shared 2-core machine
  });
});
