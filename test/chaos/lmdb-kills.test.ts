/**
 * Task managers killed while they write LMDB state (issue 9): a keyed running count over 300k keys,
 * with LMDB keyed state larger than its cache, checkpoints every 200 ms and three kills per run at
 * seeded random times. Killing a thread mid-write must never hang the job (each failover is
 * recorded and recovers), and the committed output must equal a failure-free run's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster, SeededRandom, type JobHandle } from '../../runtime/api/index.ts';
import { listPending, readCommitted } from '../harness/transactional-sink.ts';
import job, { type KeyCount } from './jobs/running-count.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-lmdb-kills-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const COUNT = 400_000;
const KEYS = 200_000;
const RATE = 150_000;
const RUNS = 3;
const KILLS = 3;

function canonical(rows: KeyCount[]): string[] {
  return rows.map((r) => `${r.key}:${r.n}`).sort();
}

async function run(name: string, kills: (handle: JobHandle) => void): Promise<{ rows: KeyCount[]; handle: JobHandle; pending: string[] }> {
  const dir = path.join(root, name);
  const outDir = path.join(dir, 'out');
  const handle = await new MiniCluster({
    workers: 2,
    stateBackend: 'lmdb',
    // A small heap keeps the LMDB cache (a fraction of the heap) below the keys each subtask owns,
    // so values are evicted and written to LMDB all the time, not only at checkpoints.
    workerHeapMb: 384,
    workDir: path.join(dir, 'work'),
    checkpoints: { intervalMs: 200, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } },
    restartStrategy: { kind: 'fixed-delay', attempts: 20, delayMs: 0 },
  }).submit(job, { params: { count: COUNT, keys: KEYS, ratePerSecond: RATE, outDir }, parallelism: 2 });
  kills(handle);
  await handle.result();
  return { rows: readCommitted<KeyCount>(outDir), handle, pending: listPending(outDir) };
}

describe('killing task managers under sustained LMDB writes', () => {
  let expected: string[] = [];

  it('a failure-free run commits every (key, count) once', async () => {
    const { rows, handle } = await run('reference', () => {});
    expect(handle.failovers()).toEqual([]);
    expect(rows).toHaveLength(COUNT);
    expected = canonical(rows);
    expect(new Set(expected).size).toBe(COUNT);
  }, 180_000);

  for (let runNo = 1; runNo <= RUNS; runNo++) {
    it(`run ${runNo}: ${KILLS} kills mid-write, no hang, the same committed output`, async () => {
      const random = new SeededRandom(1000 + runNo);
      const { rows, handle, pending } = await run(`kills-${runNo}`, (h) => {
        // Each kill waits until the job has recovered from the previous one and written for a while.
        let done = 0;
        const next = (): void => {
          if (done >= KILLS) return;
          setTimeout(() => {
            if (h.status !== 'running') return;
            const last = h.failovers().at(-1);
            if (h.liveTaskManagers === 2 && (last === undefined || last.recoveredAt !== undefined)) {
              h.killTaskManager(random.int(2));
              done++;
            }
            next();
          }, 400 + random.int(900));
        };
        next();
      });
      expect(handle.restarts).toBeGreaterThanOrEqual(1);
      const failovers = handle.failovers();
      expect(failovers).toHaveLength(handle.restarts);
      for (const f of failovers) {
        expect(f, JSON.stringify(f)).toMatchObject({ restarted: true, cause: { message: expect.stringMatching(/task manager \d died/) } });
        expect(f.recoveredAt).toBeDefined();
      }
      expect(canonical(rows)).toEqual(expected);
      expect(pending).toEqual([]);
    }, 180_000);
  }
});
