import { threadId } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSideWorkPool, runSideWork } from '../../runtime/cluster/side-work-pool.ts';

afterAll(() => closeSideWorkPool());

describe('side-work pool', () => {
  it('runs a TypeScript module on another thread and returns its result', async () => {
    const out = await runSideWork<number[], { total: number; threadId: number }>(new URL('./fixtures/side-work-sum.ts', import.meta.url), [1, 2, 3, 4]);
    expect(out.total).toBe(10);
    expect(out.threadId).not.toBe(threadId);
  });

  it('says what a module lacks', async () => {
    await expect(runSideWork(new URL('./fixtures/side-work-pool-nothing.ts', import.meta.url), 1)).rejects.toThrow();
  });
});
