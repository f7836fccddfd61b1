/**
 * The final checkpoint of a bounded job (runtime/checkpoint/snapshot-kind.ts): operators have
 * finished, so it holds their operator state (the sink's pending commit) but no keyed state. A
 * failover after it completed (the final commit fails once) restores the keyed operator empty: its
 * input ends again at once and it emits nothing, so the committed output is exactly the failure-free
 * one. No job can start from it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import type { CheckpointMetadata } from '../../runtime/checkpoint/metadata.ts';
import { savepointFromPath } from '../../runtime/cluster/standalone-cluster.ts';
import { LocalCheckpointStorage } from '../../state/checkpoint-storage/local.ts';
import job from './jobs/keyed-final-commit.ts';
import { listPending, readCommitted } from '../harness/transactional-sink.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-final-checkpoint-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const COUNT = 3000;

function cluster(name: string): MiniCluster {
  return new MiniCluster({
    workers: 2,
    workDir: path.join(root, name, 'work'),
    // No periodic checkpoint during the run: the first checkpoint is the final one.
    checkpoints: { intervalMs: 600_000, storage: { kind: 'local', dir: path.join(root, name, 'checkpoints') } },
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 0 },
  });
}

/** What the job must commit: per key (i % 37) every record, then the key's sum. */
function expected(): string[] {
  const sums = new Map<number, number>();
  const out: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const k = i % 37;
    sums.set(k, (sums.get(k) ?? 0) + i);
    out.push(`${k}:${i}`);
  }
  for (const [k, s] of sums) out.push(`${k}:total:${s}`);
  return out.sort();
}

describe('the final checkpoint', () => {
  it('holds no keyed state; a failover after it commits exactly the failure-free output', async () => {
    const outDir = path.join(root, 'failover', 'out');
    const handle = await cluster('failover').submit(job, { params: { outDir, count: COUNT, failFirstCommit: true }, parallelism: 2 });
    await handle.result();
    expect(handle.restarts).toBe(1);
    expect(readCommitted<string>(outDir).sort()).toEqual(expected());
    expect(listPending(outDir)).toEqual([]);

    const finals = handle.checkpoints().filter((c) => c.status === 'completed');
    expect(finals.map((c) => c.kind)).toEqual(['final-checkpoint', 'final-checkpoint']);
    const storage = new LocalCheckpointStorage({ root: path.join(root, 'failover', 'checkpoints'), jobId: handle.jobId, retainedCheckpoints: 3 });
    const metadata = (await storage.readCompleted(finals[0]!.id)).metadata as CheckpointMetadata;
    expect(metadata.final).toBe(true);
    const sum = metadata.operators['running-sum']!;
    expect(sum.subtasks).toHaveLength(2);
    for (const s of sum.subtasks) {
      expect(s.finished).toBe(true);
      expect(s.keyed).toBeUndefined();
    }
    // The sink keeps its operator state: the pending commit the failover then committed.
    expect(metadata.operators['sink']!.subtasks.some((s) => s.operator !== undefined)).toBe(true);
  });

  it('no job starts from it: the error says why and what to use instead', async () => {
    const outDir = path.join(root, 'restore', 'out');
    const first = await cluster('restore').submit(job, { params: { outDir, count: COUNT, failFirstCommit: false }, parallelism: 2 });
    await first.result();
    const final = first.checkpoints().filter((c) => c.status === 'completed').at(-1)!;
    expect(final.kind).toBe('final-checkpoint');
    expect(readCommitted<string>(outDir).sort()).toEqual(expected());
    await expect(
      cluster('restore').submit(job, { params: { outDir: path.join(root, 'restore', 'out-2'), count: COUNT, failFirstCommit: false }, parallelism: 2, restoreFrom: savepointFromPath(final.location!) }),
    ).rejects.toThrow(/is the final checkpoint of job .*'running-sum'.*no job can start from it.*start from a savepoint/);
  });
});
