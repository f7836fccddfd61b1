import { describe, expect, it } from 'vitest';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { runScript, type Step } from '../../harness/script.ts';
import { DeduplicateOperator, type DeduplicateOptions } from '../../../operators/dedup/deduplicate.ts';
import type { Change } from '../../../operators/changelog.ts';

interface Click {
  user: string;
  n: number;
}
const create = (o: DeduplicateOptions) => (): DeduplicateOperator<string, Click> => new DeduplicateOperator('dedup', (c: Click) => c.user, o);
const fmt = (c: Change<Click>): string => `${c.kind} ${c.row.user}${c.row.n}`;

describe.each(['heap', 'lmdb'] as const)('deduplicate (%s)', (backend) => {
  it('keep first by arrival emits only the first row per key', async () => {
    const h = new OperatorHarness(create({ keep: 'first' }), { backend });
    for (const [user, n] of [['a', 1], ['a', 2], ['b', 3], ['a', 4]] as const) await h.processElement({ user, n }, n);
    expect(h.values().map(fmt)).toEqual(['+I a1', '+I b3']);
    await h.close();
  });

  it('keep last by arrival retracts the replaced row', async () => {
    const h = new OperatorHarness(create({ keep: 'last' }), { backend });
    for (const [user, n] of [['a', 1], ['a', 2], ['b', 3], ['a', 4]] as const) await h.processElement({ user, n }, n);
    expect(h.values().map(fmt)).toEqual(['+I a1', '-U a1', '+U a2', '+I b3', '-U a2', '+U a4']);
    await h.close();
  });

  it('by event time, out-of-order rows win by timestamp', async () => {
    const first = new OperatorHarness(create({ keep: 'first', order: 'event-time' }), { backend });
    const last = new OperatorHarness(create({ keep: 'last', order: 'event-time' }), { backend });
    for (const h of [first, last]) for (const [n, ts] of [[1, 50], [2, 30], [3, 70], [4, 60]]) await h.processElement({ user: 'a', n: n! }, ts);
    expect(first.values().map(fmt)).toEqual(['+I a1', '-U a1', '+U a2']);
    expect(last.values().map(fmt)).toEqual(['+I a1', '-U a1', '+U a3']);
    await first.close();
    await last.close();
  });

  it('state TTL: a key is new again after its state expired', async () => {
    const h = new OperatorHarness(create({ keep: 'first', stateTtlMs: 1000 }), { backend, processingTime: 0 });
    await h.processElement({ user: 'a', n: 1 }, 1);
    await h.setProcessingTime(999);
    await h.processElement({ user: 'a', n: 2 }, 2);
    await h.setProcessingTime(1000);
    await h.processElement({ user: 'a', n: 3 }, 3);
    expect(h.values().map(fmt)).toEqual(['+I a1', '+I a3']);
    await h.close();
  });

  for (const keep of ['first', 'last'] as const) {
    it(`keep ${keep}: restore (and rescale) in the middle gives the same changelog`, async () => {
      const steps: Step<Click>[] = Array.from({ length: 120 }, (_, i) => ({ element: { user: `u${(i * 7) % 13}`, n: i }, ts: (i * 37) % 101 }));
      const c = create({ keep, order: 'event-time' });
      const straight = await runScript(c, steps, { backend });
      const restored = await runScript(c, steps, { backend, restoreBackend: backend === 'heap' ? 'lmdb' : 'heap', restoreAt: 60, restoreInto: 3, keyOf: (x) => x.user });
      expect(restored.output.map((o) => fmt(o.value)).sort()).toEqual(straight.output.map((o) => fmt(o.value)).sort());
    });
  }
});
