import { threadId } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { SideWorkPool } from '../../runtime/cluster/side-work-pool.ts';

const pool = new SideWorkPool({ maxThreads: 1 });
afterAll(() => pool.close());

describe('side-work pool', () => {
  it('runs a TypeScript module on another thread and returns its result', async () => {
    const out = await pool.run<number[], { total: number; threadId: number }>(new URL('./fixtures/side-work-sum.ts', import.meta.url), [1, 2, 3, 4]);
    expect(out.total).toBe(10);
    expect(out.threadId).not.toBe(threadId);
  });

  it('names the module and says what it lacks when it has no default function', async () => {
    const module = new URL('./fixtures/side-work-no-default.ts', import.meta.url);
    await expect(pool.run(module, 1)).rejects.toThrow(`side-work module ${module.href} must export a default function (input) => output`);
  });

  it('refuses work once closed, saying why', async () => {
    const closed = new SideWorkPool();
    await closed.run(new URL('./fixtures/side-work-sum.ts', import.meta.url), [1]);
    await closed.close();
    await expect(closed.run(new URL('./fixtures/side-work-sum.ts', import.meta.url), [1])).rejects.toThrow(/closed pool: the task manager has shut down/);
  });
});
