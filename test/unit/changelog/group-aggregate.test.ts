import { describe, expect, it } from 'vitest';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { runScript, type Step } from '../../harness/script.ts';
import { GroupAggregateOperator, type ChangelogAggregateFunction } from '../../../operators/aggregate/group-aggregate.ts';
import type { Change } from '../../../operators/changelog.ts';
import { SeededRandom } from '../../../connectors/datagen/seeded-random.ts';
import { applyChangelog } from './helpers.ts';

interface Order {
  id: number;
  shop: string;
  amount: number;
}
interface Revenue {
  shop: string;
  revenue: number;
  orders: number;
}

const revenue: ChangelogAggregateFunction<string, Order, { sum: number; n: number }, Revenue> = {
  createAccumulator: () => ({ sum: 0, n: 0 }),
  add: (o, acc) => ({ sum: acc.sum + o.amount, n: acc.n + 1 }),
  retract: (o, acc) => ({ sum: acc.sum - o.amount, n: acc.n - 1 }),
  getResult: (acc, shop) => ({ shop, revenue: acc.sum, orders: acc.n }),
};

const create = (): GroupAggregateOperator<string, Order, { sum: number; n: number }, Revenue> => new GroupAggregateOperator('revenue', (c) => c.row.shop, revenue);
const fmt = (c: Change<Revenue>): string => `${c.kind} ${c.row.shop}:${c.row.revenue}/${c.row.orders}`;


describe.each(['heap', 'lmdb'] as const)('changelog group aggregate (%s)', (backend) => {
  it('+I first, -U/+U on change, nothing when unchanged, -D when the group empties', async () => {
    const h = new OperatorHarness(create, { backend });
    const o1 = { id: 1, shop: 's', amount: 5 };
    const o2 = { id: 2, shop: 's', amount: 7 };
    await h.processElement({ kind: '+I', row: o1 }, 1);
    await h.processElement({ kind: '+I', row: o2 }, 2);
    await h.processElement({ kind: '-U', row: o2 }, 3);
    await h.processElement({ kind: '+U', row: { ...o2, amount: 9 } }, 3);
    await h.processElement({ kind: '-D', row: o1 }, 4);
    await h.processElement({ kind: '-D', row: { ...o2, amount: 9 } }, 5);
    await h.processElement({ kind: '-D', row: o1 }, 6); // retraction of an empty group: ignored
    expect(h.values().map(fmt)).toEqual([
      '+I s:5/1',
      '-U s:5/1',
      '+U s:12/2',
      '-U s:12/2',
      '+U s:5/1',
      '-U s:5/1',
      '+U s:14/2',
      '-U s:14/2',
      '+U s:9/1',
      '-D s:9/1',
    ]);
    await h.close();
  });

  it('a random CDC stream: the applied output equals aggregating the final table; restore changes nothing', async () => {
    const r = new SeededRandom().reset(12, 0);
    const table = new Map<number, Order>();
    const steps: Step<Change<Order>>[] = [];
    for (let i = 0; i < 400; i++) {
      const id = r.int(60);
      const prev = table.get(id);
      const row = { id, shop: `s${id % 7}`, amount: 1 + r.int(100) };
      if (!prev) {
        table.set(id, row);
        steps.push({ element: { kind: '+I', row }, ts: i });
      } else if (r.int(3) === 0) {
        table.delete(id);
        steps.push({ element: { kind: '-D', row: prev }, ts: i });
      } else {
        table.set(id, row);
        steps.push({ element: { kind: '-U', row: prev }, ts: i }, { element: { kind: '+U', row }, ts: i });
      }
    }
    const expected = new Map<string, Revenue>();
    for (const o of table.values()) {
      const e = expected.get(o.shop) ?? { shop: o.shop, revenue: 0, orders: 0 };
      expected.set(o.shop, { shop: o.shop, revenue: e.revenue + o.amount, orders: e.orders + 1 });
    }
    const straight = await runScript(create, steps, { backend });
    expect(applyChangelog(straight.output.map((o) => o.value), (x) => x.shop)).toEqual(expected);
    const restored = await runScript(create, steps, { backend, restoreBackend: 'lmdb', restoreAt: 333, restoreInto: 2, keyOf: (c) => c.row.shop });
    expect(restored.output.map((o) => fmt(o.value)).sort()).toEqual(straight.output.map((o) => fmt(o.value)).sort());
  });
});
