/**
 * Barrier alignment in a running job: a checkpoint whose barrier cannot reach a task on one input is
 * declined once `alignmentTimeoutMs` runs out, with a message naming that input, and the held input is
 * released (the job goes on and, once the stuck input moves again, finishes with every record).
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { MiniCluster } from '../../runtime/api/index.ts';
import job, { all, releaseStuckSource } from './jobs/stuck-input.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-alignment-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('barrier alignment timeout', () => {
  it('declines a checkpoint that cannot align, naming the blocked input, and releases what it held', async () => {
    const count = 3000;
    const handle = await new MiniCluster({
      workers: 0,
      workDir: path.join(root, 'work'),
      stateBackend: 'heap',
      checkpoints: { intervalMs: 100, alignmentTimeoutMs: 200, timeoutMs: 600_000, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } },
    }).submit(job, { params: { count }, parallelism: 1 });
    await vi.waitFor(() => expect(handle.checkpoints().some((c) => c.status === 'aborted')).toBe(true), { timeout: 60_000, interval: 50 });
    const declined = handle.checkpoints().find((c) => c.status === 'aborted')!;
    expect(declined.reason).toMatch(
      new RegExp(
        `declined: 'merge' \\(subtask 0\\) could not align the barriers of checkpoint ${declined.id} within alignmentTimeoutMs = 200 ms: ` +
          `still waiting for the barrier on input channel \\d \\(from 'stuck' subtask 0\\) \\(1 of 2 inputs were held\\)`,
      ),
    );
    expect(handle.checkpoints().some((c) => c.status === 'completed')).toBe(false);
    releaseStuckSource();
    const result = await handle.result();
    expect(result.get(all)).toHaveLength(count + 1);
    expect(handle.checkpoints().some((c) => c.status === 'completed')).toBe(true);
  });
});
