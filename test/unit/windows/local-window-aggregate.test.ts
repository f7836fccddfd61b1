/**
 * The first phase of two-phase window aggregation (operators/window/local-window-aggregate.ts):
 * what it sends per key and pane, when, how much it holds, and that what it holds survives a
 * restart. The whole path (both phases equal the one-phase results) is in
 * test/minicluster/windows/windows.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { AggregateFunction } from '../../../state/descriptors.ts';
import { LocalWindowAggregateOperator, type WindowPartial } from '../../../operators/window/local-window-aggregate.ts';
import { StreamEnv } from '../../../runtime/api/environment.ts';
import { ConfigError, datagen, eventTimeSessionWindows, OutputTag, tumblingEventTimeWindows, WatermarkStrategy } from 'weir';
import { OperatorHarness } from '../../harness/operator-harness.ts';

interface Ev {
  k: string;
  v: number;
}
const sum: AggregateFunction<Ev, number, number> = { createAccumulator: () => 0, add: (e, a) => a + e.v, merge: (a, b) => a + b, getResult: (a) => a };
const local = (maxEntries = 100) => () => new LocalWindowAggregateOperator<string, Ev, number, number>('local', (e) => e.k, sum, 1000, 0, maxEntries);

describe('local window pre-aggregation', () => {
  it('works out a pane once per run of records in it, and looks a key up once per run of it (work counted)', async () => {
    const h = new OperatorHarness<Ev, WindowPartial<string, number>>(local(), { backend: 'none' });
    await h.open();
    const op = (h as unknown as { operator: LocalWindowAggregateOperator<string, Ev, number, number> }).operator;
    // 'b' then nine 'a's, ten times, over two panes: 20 runs of one key, 2 of one pane.
    const evs = Array.from({ length: 100 }, (_, i) => ({ k: i % 10 === 0 ? 'b' : 'a', v: i }));
    await h.processBatch(evs, evs.map((_, i) => (i < 50 ? 100 + i : 1100 + i)));
    expect(op.paneRuns).toBe(2);
    expect(op.lookups).toBe(20);
    await h.processWatermark(Infinity);
    const total = (k: string, lo: number, hi: number): number => evs.slice(lo, hi).filter((e) => e.k === k).reduce((a, e) => a + e.v, 0);
    expect(h.output().map((o) => `${o.value.key}@${o.time}=${o.value.acc}`).sort()).toEqual(
      [`a@999=${total('a', 0, 50)}`, `b@999=${total('b', 0, 50)}`, `a@1999=${total('a', 50, 100)}`, `b@1999=${total('b', 50, 100)}`].sort(),
    );
    await h.close();
  });

  it('sends one partial per key and pane once the watermark passes the pane, timestamped at its end', async () => {
    const h = new OperatorHarness<Ev, WindowPartial<string, number>>(local(), { backend: 'none' });
    // a hot key 'a' (90 records) and a cold 'b', in two panes
    const evs: Ev[] = [];
    const ts: number[] = [];
    for (let i = 0; i < 100; i++) {
      evs.push({ k: i % 10 === 0 ? 'b' : 'a', v: 1 });
      ts.push(i < 50 ? 100 + i : 1100 + i);
    }
    await h.processBatch(evs, ts);
    expect(h.output()).toEqual([]);
    await h.processWatermark(999);
    expect(h.output()).toEqual([
      { value: { key: 'b', acc: 5 }, time: 999 },
      { value: { key: 'a', acc: 45 }, time: 999 },
    ]);
    h.clearOutput();
    // a late record (behind the watermark) goes on at once
    await h.processBatch([{ k: 'a', v: 7 }], [10]);
    expect(h.output()).toEqual([{ value: { key: 'a', acc: 7 }, time: 999 }]);
    h.clearOutput();
    await h.processWatermark(Infinity);
    expect(h.output()).toEqual([
      { value: { key: 'b', acc: 5 }, time: 1999 },
      { value: { key: 'a', acc: 45 }, time: 1999 },
    ]);
    await h.close();
  });

  it('holds at most maxEntries (key, pane) accumulators: the oldest pane goes on early', async () => {
    const h = new OperatorHarness<Ev, WindowPartial<string, number>>(local(3), { backend: 'none' });
    await h.processBatch([{ k: 'a', v: 1 }, { k: 'b', v: 1 }, { k: 'a', v: 1 }], [0, 1, 2]);
    expect(h.values()).toEqual([]);
    await h.processBatch([{ k: 'c', v: 1 }, { k: 'd', v: 1 }], [1500, 1501]);
    expect(h.values()).toEqual([
      { key: 'a', acc: 2 },
      { key: 'b', acc: 1 },
    ]);
    await h.close();
  });

  it('partials not yet sent survive a restart from a snapshot', async () => {
    const h = new OperatorHarness<Ev, WindowPartial<string, number>>(local(), { backend: 'none' });
    await h.processBatch([{ k: 'a', v: 2 }, { k: 'a', v: 3 }], [5, 6]);
    const snap = await h.snapshot();
    await h.close();
    const r = new OperatorHarness<Ev, WindowPartial<string, number>>(local(), { backend: 'none' });
    await r.initializeState(snap);
    await r.processBatch([{ k: 'a', v: 4 }], [7]);
    await r.processWatermark(Infinity);
    expect(r.output()).toEqual([{ value: { key: 'a', acc: 9 }, time: 999 }]);
    await r.close();
  });
});

describe('localAggregation() on a windowed stream', () => {
  let env = new StreamEnv({ parallelism: 2, maxParallelism: 128 });
  const keyed = () =>
    (env = new StreamEnv({ parallelism: 2, maxParallelism: 128 }))
      .fromSource(datagen({ count: 10, generate: (i) => ({ k: `k${i % 2}`, v: i }) }), { watermarks: WatermarkStrategy.forMonotonousTimestamps<Ev>(() => 0) })
      .keyBy((e) => e.k);

  it('adds the local phase before the exchange', () => {
    const out = keyed().window(tumblingEventTimeWindows(1000)).localAggregation().aggregate(sum, undefined, { uid: 'w' });
    expect(out.node.name).toBe('window-aggregate(tumbling)');
    const edge = out.node.inputs[0]!;
    expect(edge.partitioning.kind).toBe('hash');
    const local = env.graph.nodes.find((n) => n.id === edge.source)!;
    expect(local.name).toBe('window-aggregate(tumbling)-local');
    expect(local.uid).toBe('w-local');
    expect(local.keyed).toBe(false);
  });

  it('refuses what it cannot do, saying so', () => {
    expect(() => keyed().window(eventTimeSessionWindows(10)).localAggregation()).toThrow(ConfigError);
    const noMerge: AggregateFunction<Ev, number, number> = { createAccumulator: () => 0, add: (e, a) => a + e.v, getResult: (a) => a };
    expect(() => keyed().window(tumblingEventTimeWindows(1000)).localAggregation().aggregate(noMerge)).toThrow(/merge/);
    expect(() => keyed().window(tumblingEventTimeWindows(1000)).sideOutputLateData(new OutputTag<Ev>('late')).localAggregation().aggregate(sum)).toThrow(/sideOutputLateData/);
    expect(() => keyed().window(tumblingEventTimeWindows(1000)).localAggregation().reduce((a) => a)).toThrow(/reduce/);
    expect(() => keyed().window(tumblingEventTimeWindows(1000)).localAggregation({ maxEntries: 0 })).toThrow(ConfigError);
  });
});
