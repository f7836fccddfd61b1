import { describe, expect, it } from 'vitest';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { runScript, type Step } from '../../harness/script.ts';
import { TopNOperator, type RankedRow } from '../../../operators/rank/top-n.ts';
import { topNAggregate } from '../../../operators/rank/window-top-n.ts';
import type { Change } from '../../../operators/changelog.ts';
import { SeededRandom } from '../../../connectors/datagen/seeded-random.ts';
import { applyChangelog } from './helpers.ts';

interface Room {
  cat: string;
  room: string;
  score: number;
}
const compare = (a: Room, b: Room): number => b.score - a.score || a.room.localeCompare(b.room);
const create = (n: number) => (): TopNOperator<string, Room, string> => new TopNOperator('top', (c: Change<Room>) => c.row.cat, { n, compare, rowKey: (r) => r.room });
const fmt = (c: Change<RankedRow<string, Room>>): string => `${c.kind} #${c.row.rank} ${c.row.row.room}=${c.row.row.score}`;

describe('window top-N aggregate', () => {
  it('keeps the best N, merges', () => {
    const agg = topNAggregate<number>(3, (a, b) => b - a);
    let a = agg.createAccumulator();
    for (const x of [5, 1, 9, 7, 3]) a = agg.add(x, a);
    expect(agg.getResult(a)).toEqual([9, 7, 5]);
    let b = agg.createAccumulator();
    for (const x of [8, 6]) b = agg.add(x, b);
    expect(agg.merge!(a, b)).toEqual([9, 8, 7]);
  });
});

describe.each(['heap', 'lmdb'] as const)('continuous top-N over a changelog (%s)', (backend) => {
  it('emits rank changes as -U/+U, +I for a new rank, -D for a lost one', async () => {
    const h = new OperatorHarness(create(2), { backend });
    const put = (kind: Change<Room>['kind'], room: string, score: number): Promise<void> => h.processElement({ kind, row: { cat: 'c', room, score } }, 0);
    await put('+I', 'a', 10);
    await put('+I', 'b', 20);
    await put('+I', 'c', 5); // outside the top 2: nothing
    // An update pair in one batch is one update (a moves to #1 without c flickering in).
    await h.processBatch([{ kind: '-U', row: { cat: 'c', room: 'a', score: 10 } }, { kind: '+U', row: { cat: 'c', room: 'a', score: 30 } }], [0, 0]);
    await put('-D', 'b', 20); // c comes back in at #2
    await put('-D', 'a', 30);
    await put('-D', 'c', 5);
    expect(h.values().map(fmt)).toEqual([
      '+I #1 a=10',
      '-U #1 a=10',
      '+U #1 b=20',
      '+I #2 a=10',
      '-U #1 b=20',
      '+U #1 a=30',
      '-U #2 a=10',
      '+U #2 b=20',
      '-U #2 b=20',
      '+U #2 c=5',
      '-U #1 a=30',
      '+U #1 c=5',
      '-D #2 c=5',
      '-D #1 c=5',
    ]);
    await h.close();
  });

  it('random updates: the applied output is the top N of the final table; restore changes nothing', async () => {
    const r = new SeededRandom().reset(3, 0);
    const table = new Map<string, Room>();
    const steps: Step<Change<Room>>[] = [];
    for (let i = 0; i < 500; i++) {
      const room = `r${r.int(40)}`;
      const prev = table.get(room);
      const row = { cat: `c${Number(room.slice(1)) % 3}`, room, score: r.int(1000) };
      if (!prev) {
        table.set(room, row);
        steps.push({ element: { kind: '+I', row }, ts: i });
      } else if (r.int(4) === 0) {
        table.delete(room);
        steps.push({ element: { kind: '-D', row: prev }, ts: i });
      } else {
        table.set(room, row);
        steps.push({ element: { kind: '-U', row: prev }, ts: i }, { element: { kind: '+U', row }, ts: i });
      }
    }
    const expected = new Map<string, RankedRow<string, Room>>();
    for (const cat of ['c0', 'c1', 'c2']) {
      const rows = [...table.values()].filter((x) => x.cat === cat).sort(compare).slice(0, 3);
      rows.forEach((row, i) => expected.set(`${cat}#${i + 1}`, { key: cat, rank: i + 1, row }));
    }
    const straight = await runScript(create(3), steps, { backend });
    expect(applyChangelog(straight.output.map((o) => o.value), (x) => `${x.key}#${x.rank}`)).toEqual(expected);
    const restored = await runScript(create(3), steps, { backend, restoreBackend: 'lmdb', restoreAt: 301, restoreInto: 2, keyOf: (c) => c.row.cat });
    expect(restored.output.map((o) => fmt(o.value)).sort()).toEqual(straight.output.map((o) => fmt(o.value)).sort());
  });
});
