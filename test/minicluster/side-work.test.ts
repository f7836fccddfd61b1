import { describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import job, { sums } from './jobs/side-work.ts';

describe('side work through the operator context', () => {
  it('runs an operator’s side work on a pool thread of its task manager', async () => {
    const count = 1000;
    const result = await new MiniCluster({ workers: 2 }).execute(job, { params: { count }, parallelism: 2 });
    const out = result.get(sums);
    expect(out.map((s) => s.subtask).sort()).toEqual([0, 1]);
    expect(out.reduce((a, s) => a + s.total, 0)).toBe((count * (count - 1)) / 2);
    for (const s of out) expect(s.sideThread).not.toBe(s.operatorThread);
  });
});
