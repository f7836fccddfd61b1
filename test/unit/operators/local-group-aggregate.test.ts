/**
 * Group aggregate in two phases (operators/aggregate/local-group-aggregate.ts and
 * MergingGroupAggregateOperator): the local phase folds each batch into one partial per key; the
 * keyed phase's changelog, applied, equals the one-phase operator's.
 */
import { describe, expect, it } from 'vitest';
import { deletion, insert, type Change } from '../../../operators/changelog.ts';
import { GroupAggregateOperator, MergingGroupAggregateOperator, type ChangelogAggregateFunction, type GroupPartial } from '../../../operators/aggregate/group-aggregate.ts';
import { LocalGroupAggregateOperator } from '../../../operators/aggregate/local-group-aggregate.ts';
import { OperatorHarness } from '../../harness/operator-harness.ts';

interface Row {
  k: string;
  v: number;
}
const sum: ChangelogAggregateFunction<string, Row, number, { k: string; sum: number }> = {
  createAccumulator: () => 0,
  add: (r, a) => a + r.v,
  retract: (r, a) => a - r.v,
  merge: (a, b) => a + b,
  getResult: (a, k) => ({ k, sum: a }),
};

function applied(changes: readonly Change<{ k: string; sum: number }>[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of changes) {
    if (c.kind === '+I' || c.kind === '+U') m.set(c.row.k, c.row.sum);
    else m.delete(c.row.k);
  }
  return m;
}

describe('group aggregate with local pre-aggregation', () => {
  it('the local phase sends one partial per key and batch: rows added minus retracted, and their accumulator', async () => {
    const h = new OperatorHarness<Change<Row>, GroupPartial<string, number>>(() => new LocalGroupAggregateOperator('local', (c: Change<Row>) => c.row.k, sum), { backend: 'none' });
    await h.processBatch([insert({ k: 'a', v: 1 }), insert({ k: 'b', v: 5 }), insert({ k: 'a', v: 2 }), deletion({ k: 'a', v: 1 })], [1, 2, 3, 4]);
    expect(h.output()).toEqual([
      { value: { key: 'a', rows: 1, acc: 2 }, time: 4 },
      { value: { key: 'b', rows: 1, acc: 5 }, time: 2 },
    ]);
    h.clearOutput();
    await h.processBatch([deletion({ k: 'b', v: 5 })], [9]);
    expect(h.values()).toEqual([{ key: 'b', rows: -1, acc: -5 }]);
    await h.close();
  });

  it('both phases give the same final results as one phase, in fewer updates', async () => {
    const batches: Change<Row>[][] = [];
    for (let b = 0; b < 20; b++) {
      const batch: Change<Row>[] = [];
      for (let i = 0; i < 50; i++) batch.push(insert({ k: i % 7 === 0 ? `k${i % 3}` : 'hot', v: b * 100 + i }));
      if (b > 0) batch.push(deletion({ k: 'hot', v: (b - 1) * 100 + 1 }), deletion({ k: 'k0', v: (b - 1) * 100 }));
      batches.push(batch);
    }
    const one = new OperatorHarness<Change<Row>, Change<{ k: string; sum: number }>>(() => new GroupAggregateOperator('agg', (c: Change<Row>) => c.row.k, sum), { backend: 'heap' });
    const local = new OperatorHarness<Change<Row>, GroupPartial<string, number>>(() => new LocalGroupAggregateOperator('local', (c: Change<Row>) => c.row.k, sum), { backend: 'none' });
    const merging = new OperatorHarness<GroupPartial<string, number>, Change<{ k: string; sum: number }>>(
      () => new MergingGroupAggregateOperator<string, Row, number, { k: string; sum: number }>('agg', sum),
      { backend: 'lmdb' },
    );
    for (const batch of batches) {
      await one.processBatch(batch, batch.map(() => 0));
      await local.processBatch(batch, batch.map(() => 0));
      const partials = local.values();
      local.clearOutput();
      await merging.processBatch(partials, partials.map(() => 0));
    }
    expect(applied(merging.values())).toEqual(applied(one.values()));
    expect(merging.values().length).toBeLessThan(one.values().length / 10);
    await one.close();
    await local.close();
    await merging.close();
  });
});
