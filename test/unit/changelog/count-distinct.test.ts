import { describe, expect, it } from 'vitest';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { runScript, type Step } from '../../harness/script.ts';
import { CountDistinctOperator, type DistinctCount } from '../../../operators/aggregate/count-distinct.ts';
import { ApproxCountDistinctOperator, hllAggregate } from '../../../operators/aggregate/approx-count-distinct.ts';
import { createSketch, sketchAdd, sketchEstimate, sketchMerge } from '../../../operators/aggregate/hyperloglog.ts';
import type { Change } from '../../../operators/changelog.ts';

interface Visit {
  day: string;
  user: string;
}
const exact = (): CountDistinctOperator<string, Visit, string> => new CountDistinctOperator('dau', (v: Visit) => v.day, (v) => v.user);
const approx = (): ApproxCountDistinctOperator<string, Visit, string> => new ApproxCountDistinctOperator('dau~', (v: Visit) => v.day, (v) => v.user);
const fmt = (c: Change<DistinctCount<string>>): string => `${c.kind} ${c.row.key}=${c.row.count}`;
const last = (out: { value: Change<DistinctCount<string>> }[]): Record<string, number> => {
  const m: Record<string, number> = {};
  for (const { value: c } of out) if (c.kind !== '-U') m[c.row.key] = c.row.count;
  return m;
};

describe('HyperLogLog sketch', () => {
  it('estimates within 3 % and merges like a union', () => {
    const a = createSketch();
    const b = createSketch();
    for (let i = 0; i < 30_000; i++) sketchAdd(a, `u${i}`);
    for (let i = 20_000; i < 50_000; i++) sketchAdd(b, `u${i}`);
    expect(Math.abs(sketchEstimate(a) / 30_000 - 1)).toBeLessThan(0.03);
    expect(Math.abs(sketchEstimate(sketchMerge(a, b)) / 50_000 - 1)).toBeLessThan(0.03);
    const agg = hllAggregate<number>((x) => x);
    let acc = agg.createAccumulator();
    for (let i = 0; i < 100; i++) acc = agg.add(i % 10, acc);
    expect(agg.getResult(acc)).toBe(10);
  });
});

describe.each(['heap', 'lmdb'] as const)('count distinct (%s)', (backend) => {
  it('exact: +I then -U/+U per new value; repeats emit nothing', async () => {
    const h = new OperatorHarness(exact, { backend });
    for (const u of ['a', 'b', 'a', 'c']) await h.processElement({ day: 'd1', user: u }, 0);
    expect(h.values().map(fmt)).toEqual(['+I d1=1', '-U d1=1', '+U d1=2', '-U d1=2', '+U d1=3']);
    await h.close();
  });

  it('exact and approximate: restore into two halves in the middle; approximate within 3 %', async () => {
    const steps: Step<Visit>[] = Array.from({ length: 1200 }, (_, i) => ({ element: { day: `d${i % 3}`, user: `u${(i * 7919) % 800}` }, ts: i }));
    const truth: Record<string, number> = {};
    for (const d of ['d0', 'd1', 'd2']) truth[d] = new Set(steps.filter((s) => 'element' in s && s.element.day === d).map((s) => ('element' in s ? s.element.user : ''))).size;
    const e1 = await runScript(exact, steps, { backend });
    const e2 = await runScript(exact, steps, { backend, restoreBackend: 'lmdb', restoreAt: 500, restoreInto: 2, keyOf: (v) => v.day });
    expect(last(e1.output)).toEqual(truth);
    expect(last(e2.output)).toEqual(truth);
    const a1 = await runScript(approx, steps, { backend });
    const a2 = await runScript(approx, steps, { backend, restoreBackend: 'heap', restoreAt: 500, restoreInto: 2, keyOf: (v) => v.day });
    expect(last(a2.output)).toEqual(last(a1.output));
    for (const [d, n] of Object.entries(last(a1.output))) expect(Math.abs(n / truth[d]! - 1)).toBeLessThan(0.03);
  });

  it('exact with TTL forgets a key after it expires', async () => {
    const h = new OperatorHarness(() => new CountDistinctOperator('dau', (v: Visit) => v.day, (v) => v.user, { stateTtlMs: 100 }), { backend });
    await h.processElement({ day: 'd', user: 'a' }, 0);
    await h.setProcessingTime(100);
    await h.processElement({ day: 'd', user: 'a' }, 0);
    expect(h.values().map(fmt)).toEqual(['+I d=1', '+I d=1']);
    await h.close();
  });
});
