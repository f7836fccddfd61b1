/**
 * The randomized join jobs (test/minicluster/jobs/joins.ts) with a worker killed in the middle:
 * the job restarts from its latest checkpoint (join state in LMDB, the temporal join's dimension
 * table included) and the exactly-once sink's committed output equals that of a failure-free run.
 * Inputs are out of order only within the watermark bound, so no record is late and the output
 * does not depend on timing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Change, type JobHandle, MiniCluster, SeededRandom } from 'weir';
import { listPending, readCommitted } from '../harness/transactional-sink.ts';
import job, { type JoinParams, type Pair, type Row } from '../minicluster/jobs/joins.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-chaos-joins-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Joined = Change<{ l: Row | null; r: Row | null }>;

async function run(name: string, p: JoinParams, kill: (handle: JobHandle) => void): Promise<{ out: unknown[]; restarts: number; pending: string[] }> {
  const dir = path.join(root, name);
  const outDir = path.join(dir, 'out');
  const handle = await new MiniCluster({
    workers: 2,
    batchSize: 256,
    stateBackend: 'lmdb',
    workDir: path.join(dir, 'work'),
    checkpoints: { intervalMs: 200, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } },
    restartStrategy: { kind: 'fixed-delay', attempts: 5, delayMs: 50 },
  }).submit(job, { params: { ...p, outDir }, parallelism: 3 });
  kill(handle);
  await handle.result();
  return { out: readCommitted<unknown>(outDir), restarts: handle.restarts, pending: listPending(outDir) };
}

function pairsOf(out: unknown[]): string[] {
  return (out as Pair[]).map((p) => `${p.l}-${p.r}${p.w === undefined ? '' : `@${p.w}`}`).sort();
}

/** Net multiplicity of each joined row (committed files come in no particular order). */
function netChanges(out: unknown[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of out as Joined[]) {
    const k = JSON.stringify(c.row);
    const n = (m.get(k) ?? 0) + (c.kind === '+I' || c.kind === '+U' ? 1 : -1);
    if (n === 0) m.delete(k);
    else m.set(k, n);
  }
  return m;
}

/** The first rows whose net multiplicity differs, with both counts: says whether rows are duplicated, missing or not retracted. */
function netDiff(failed: Map<string, number>, reference: Map<string, number>, limit = 10): string[] {
  const out: string[] = [];
  for (const k of new Set([...failed.keys(), ...reference.keys()])) {
    if (failed.get(k) !== reference.get(k)) out.push(`${k}: ${failed.get(k) ?? 0} after the kill, ${reference.get(k) ?? 0} without`);
    if (out.length === limit) break;
  }
  return out;
}

const base: JoinParams = { join: 'interval', count: 3000, seed: 11, keys: 8, stepMs: 5, disorder: 40, bound: 50, lateShare: 0, lateByMs: 0, ratePerSecond: 2500 };

const cases: { name: string; p: JoinParams; canonical: (out: unknown[]) => unknown }[] = [
  { name: 'interval join', p: { ...base, join: 'interval' }, canonical: pairsOf },
  { name: 'tumbling window join', p: { ...base, join: 'tumbling' }, canonical: pairsOf },
  { name: 'sliding window join', p: { ...base, join: 'sliding' }, canonical: pairsOf },
  { name: 'temporal join', p: { ...base, join: 'temporal', kind: 'left' }, canonical: pairsOf },
  { name: 'full outer join of changelogs', p: { ...base, join: 'regular', kind: 'full', count: 2000, keys: 12, ratePerSecond: 1500 }, canonical: netChanges },
];

describe('joins under failover: a kill in the middle commits the failure-free output', () => {
  cases.forEach(({ name, p, canonical }, n) => {
    it(name, async () => {
      const reference = await run(`${n}-reference`, p, () => {});
      expect(reference.restarts).toBe(0);
      expect(reference.out.length).toBeGreaterThan(1000);
      const random = new SeededRandom(n + 1);
      const failed = await run(`${n}-killed`, p, (handle) => {
        setTimeout(() => {
          if (handle.status === 'running') handle.killTaskManager(random.int(2));
        }, 500 + random.int(400));
      });
      expect(failed.restarts).toBeGreaterThanOrEqual(1);
      expect(failed.pending).toEqual([]);
      if (canonical === netChanges) expect(netDiff(netChanges(failed.out), netChanges(reference.out))).toEqual([]);
      expect(canonical(failed.out)).toEqual(canonical(reference.out));
      // Two rate-limited runs and a restart: longer than the default timeout on a loaded 2-core machine.
    }, 180_000);
  });
});
