import { describe, expect, it } from 'vitest';
import { StreamEnv } from '../../runtime/api/environment.ts';
import { defineJob } from '../../runtime/api/job.ts';
import { validateParams } from '../../runtime/graph/job-definition.ts';
import { collectSink, datagen, JobValidationError, MiniCluster } from 'weir';
import { planExecution, runsKeyedOperators } from '../../runtime/graph/execution-plan.ts';
import { validateGraph } from '../../runtime/graph/validate.ts';
import { MapOperator } from '../../operators/map.ts';

function env(parallelism = 2, maxParallelism = 128): StreamEnv {
  return new StreamEnv({ parallelism, maxParallelism });
}

const numbers = () => datagen({ count: 10, generate: (i) => i });

function problems(e: StreamEnv): string {
  try {
    validateGraph(e.graph);
    return '';
  } catch (err) {
    expect(err).toBeInstanceOf(JobValidationError);
    return (err as Error).message;
  }
}

describe('graph validation', () => {
  it('accepts a well-formed job', () => {
    const e = env();
    e.fromSource(numbers()).map((x) => x + 1).keyBy((x) => x % 3).reduce((a, b) => a + b, { uid: 'sum' }).sinkTo(collectSink('out'));
    expect(problems(e)).toBe('');
  });

  it('warns about sources and keyed operators without a uid, saying why; a sink takes its uid from its name', () => {
    const e = env();
    e.fromSource(numbers()).map((x) => x + 1).keyBy((x) => x % 3).reduce((a, b) => a + b, { name: 'sum' }).sinkTo(collectSink('out'));
    const warnings = validateGraph(e.graph);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^source '.*' \(#0\) has no uid: its read position is saved under the derived uid 'source-0-.*', which changes when operators are added or removed before it.*\{ uid: '\.\.\.' \}/);
    expect(warnings[1]).toMatch(/^keyed operator 'sum' \(#\d+\) has no uid: its keyed state and timers/);
    // Sink V2 topologies name their writer and committers after the sink (runtime/api/sink.ts): stable uids.
    expect(e.graph.nodes.filter((n) => n.kind === 'sink').map((n) => n.uid)).toEqual(['collect:out']);
  });

  it('no warnings when every stateful operator has a uid (stateless ones need none)', () => {
    const e = env();
    e.fromSource(numbers(), { uid: 'numbers' }).map((x) => x + 1).keyBy((x) => x % 3).reduce((a, b) => a + b, { uid: 'sum' }).sinkTo(collectSink('out'), { uid: 'out' });
    expect(validateGraph(e.graph)).toEqual([]);
  });

  it('names a keyed operator whose input is not keyed, and the fix', () => {
    const e = env();
    const s = e.fromSource(numbers());
    const node = e.graph.addNode({ kind: 'operator', name: 'sessionize', uid: undefined, parallelism: undefined, keyed: true, createOperator: () => new MapOperator('m', (x: unknown) => x), chainable: true });
    e.graph.connect((s as unknown as { producers: { node: typeof node }[] }).producers[0]!.node, node, null, { kind: 'rebalance' }, 0);
    const sink = e.graph.addNode({ kind: 'sink', name: 'out', uid: undefined, parallelism: undefined, keyed: false, createOperator: () => new MapOperator('m', (x: unknown) => x), chainable: true });
    e.graph.connect(node, sink, null, { kind: 'auto' }, 0);
    expect(problems(e)).toMatch(/operator 'sessionize' .* input is not keyed: call keyBy\(\.\.\.\) before it/);
  });

  it('names an operator whose parallelism exceeds the max parallelism', () => {
    const e = env(2, 8);
    e.fromSource(numbers()).map((x) => x, { name: 'wide', parallelism: 16 }).sinkTo(collectSink('out'));
    expect(problems(e)).toMatch(/operator 'wide' .* parallelism 16 above the max parallelism 8/);
  });

  it('names duplicate uids', () => {
    const e = env();
    e.fromSource(numbers()).map((x) => x, { name: 'a', uid: 'same' }).map((x) => x, { name: 'b', uid: 'same' }).sinkTo(collectSink('out'));
    expect(problems(e)).toMatch(/uid 'same' is used by both 'a' and 'b'/);
  });

  it('finds a cycle', () => {
    const e = env();
    const m = e.fromSource(numbers()).map((x) => x, { name: 'loop-a' });
    const b = m.map((x) => x, { name: 'loop-b' });
    b.sinkTo(collectSink('out'));
    e.graph.connect(b.node, m.node, null, { kind: 'rebalance' }, 1);
    expect(problems(e)).toMatch(/cycle: 'loop-a' -> 'loop-b' -> 'loop-a'/);
  });

  it('requires a sink and equal parallelism on forward edges', () => {
    const e = env();
    e.fromSource(numbers()).forward().map((x) => x, { name: 'narrow', parallelism: 1 });
    const msg = problems(e);
    expect(msg).toMatch(/no sink/);
    expect(msg).toMatch(/forward edge from 'datagen' \(parallelism 2\) to 'narrow' \(parallelism 1\)/);
  });

  it('rejects parameters that cannot cross threads, naming where they are', () => {
    expect(() => validateParams({ a: [1, { f: () => 1 }] })).toThrow(/params\.a\[1\]\.f is a function/);
    expect(() => validateParams({ when: new Date() })).toThrow(/params\.when is a Date instance/);
    expect(() => validateParams({ n: 1n })).toThrow(/params\.n is a bigint/);
    expect(() => validateParams({ ok: [1, 'x', null, { y: true }] })).not.toThrow();
  });

  it('submission validates before any worker starts', async () => {
    const job = defineJob(import.meta.url, (e) => {
      e.fromSource(numbers()).map((x) => x);
    });
    await expect(new MiniCluster({ workers: 2 }).submit(job, { params: undefined })).rejects.toThrow(/no sink/);
  });
});

describe('execution plan', () => {
  it('chains forward edges of equal parallelism and cuts at keyBy and rebalance', () => {
    const e = env(2);
    e.fromSource(numbers())
      .map((x) => x, { name: 'm1' })
      .filter(() => true, { name: 'f1' })
      .keyBy((x) => x)
      .reduce((a, b) => a + b, { name: 'sum' })
      .map((x) => x, { name: 'm2' })
      .rebalance()
      .sinkTo(collectSink('out'));
    const plan = planExecution(e.graph, 2);
    const names = plan.chains.map((c) => c.nodeIds.map((id) => e.graph.node(id).name));
    expect(names).toEqual([['datagen', 'm1', 'f1'], ['sum', 'm2'], ['collect:out']]);
    expect(plan.tasks).toHaveLength(6);
    // keyBy: all-to-all; rebalance at equal parallelism: all-to-all as well.
    expect(plan.channels).toHaveLength(8);
    // Subtask i of every chain on worker i: forward edges never cross workers.
    for (const t of plan.tasks) expect(t.worker).toBe(t.subtask % 2);
  });

  it('says which task managers run keyed operators (only those start the LMDB writer thread)', () => {
    const stateless = env(1);
    stateless.fromSource(numbers()).map((x) => x).sinkTo(collectSink('out'));
    const plain = planExecution(stateless.graph, 2);
    expect([runsKeyedOperators(stateless.graph, plain), runsKeyedOperators(stateless.graph, plain, 0), runsKeyedOperators(stateless.graph, plain, 1)]).toEqual([false, false, false]);

    const keyed = env(1);
    keyed.fromSource(numbers()).keyBy((x) => x).reduce((a, b) => a + b).sinkTo(collectSink('out'));
    const plan = planExecution(keyed.graph, 2);
    const keyedWorkers = new Set(plan.tasks.filter((t) => plan.chains[t.chainId]!.nodeIds.some((id) => keyed.graph.node(id).keyed)).map((t) => t.worker));
    expect(keyedWorkers.size).toBe(1);
    expect(runsKeyedOperators(keyed.graph, plan)).toBe(true);
    for (const w of [0, 1]) expect(runsKeyedOperators(keyed.graph, plan, w)).toBe(keyedWorkers.has(w));
  });
});
