import { describe, expect, it } from 'vitest';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { OutputTag, type Operator, type OperatorContext } from '../../../operators/operator.ts';
import { keyGroupOf } from '../../../state/key-groups.ts';
import type { ValueState } from '../../../state/handles.ts';
import type { OperatorListState } from '../../../state/operator-state.ts';

const odd = new OutputTag<number>('odd');

/** Counts records per key (keyed state), remembers how many batches it saw (operator state), wakes up on processing time. */
class Probe implements Operator<number, string> {
  readonly name = 'probe';
  private ctx!: OperatorContext<string>;
  private counts!: ValueState<number>;
  private batches!: OperatorListState<number>;
  open(ctx: OperatorContext<string>): void {
    this.ctx = ctx;
    this.counts = ctx.keyedState!.getValueState<number>({ kind: 'value', name: 'count' });
    this.batches = ctx.operatorState.getListState<number>('batches');
  }
  processBatch(values: readonly number[], times: ArrayLike<number>): void {
    this.batches.update([(this.batches.get()[0] ?? 0) + 1]);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const key = v % 3;
      this.ctx.keyedState!.setCurrentKey(key, keyGroupOf(key, this.ctx.maxParallelism));
      const n = (this.counts.value() ?? 0) + 1;
      this.counts.update(n);
      this.ctx.output.emit(`${key}:${n}`, times[i]!);
      if (v % 2 === 1) this.ctx.sideOutput(odd).emit(v, times[i]!);
    }
    const at = this.ctx.processingTime.now() + 10;
    this.ctx.processingTime.schedule(at, () => this.ctx.output.emit(`tick@${this.ctx.processingTime.now()} batches=${this.batches.get()[0]}`, Number.NaN));
  }
}

describe.each(['heap', 'lmdb'] as const)('operator harness (%s)', (backend) => {
  it('captures output and side output, runs processing-time callbacks in order, restores keyed and operator state', async () => {
    const h = new OperatorHarness(() => new Probe(), { backend, processingTime: 100 });
    await h.open();
    await h.processElement(1, 5);
    await h.processElement(4, 6);
    expect(h.output()).toEqual([
      { value: '1:1', time: 5 },
      { value: '1:2', time: 6 },
    ]);
    expect(h.sideValues(odd)).toEqual([1]);
    expect(h.pendingProcessingTimeCallbacks()).toBe(2);
    await h.setProcessingTime(110);
    expect(h.values().slice(2)).toEqual(['tick@110 batches=2', 'tick@110 batches=2']);
    const snap = await h.snapshot();
    await h.close();

    const restored = new OperatorHarness(() => new Probe(), { backend: backend === 'heap' ? 'lmdb' : 'heap' });
    await restored.initializeState(snap);
    await restored.open();
    expect(restored.processingTime()).toBe(110);
    await restored.processElement(7, 7);
    expect(restored.values()).toEqual(['1:3']);
    await restored.setProcessingTime(120);
    expect(restored.values()[1]).toBe('tick@120 batches=3');
    await restored.close();
  });
});
