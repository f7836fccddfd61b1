/**
 * A sink whose pre-commit fails at a barrier fails its task (the job restarts from the last completed
 * checkpoint) instead of declining the checkpoint and carrying on without the failed transaction's
 * records: the committed output holds every record exactly once.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import job from './jobs/failing-precommit.ts';
import { readCommitted } from '../harness/transactional-sink.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-precommit-failure-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a failing pre-commit', () => {
  it('fails the task and the job replays, so nothing is lost or repeated', async () => {
    const outDir = path.join(root, 'out');
    const count = 4000;
    const handle = await new MiniCluster({
      workers: 2,
      workDir: path.join(root, 'work'),
      checkpoints: { intervalMs: 100, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } },
      restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 0 },
    }).submit(job, { params: { outDir, count, failAfter: 500 }, parallelism: 2 });
    await handle.result();
    expect(existsSync(path.join(outDir, 'failed-once'))).toBe(true);
    expect(handle.restarts).toBe(1);
    const got = readCommitted<number>(outDir).sort((a, b) => a - b);
    expect(got).toEqual(Array.from({ length: count }, (_, i) => i));
  });
});
