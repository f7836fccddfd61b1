/**
 * The runtime's source driver: per-split watermarks, finished (released) splits stop holding the
 * watermark back, and many short splits (CDC chunks) do not pile up watermark slots.
 */
import { describe, expect, it } from 'vitest';
import { SourceDriver } from '../../../runtime/task/source-driver.ts';
import { WatermarkStrategy } from '../../../runtime/graph/watermark-strategy.ts';
import { OperatorStateStore } from '../../../state/operator-state.ts';
import type { PollStatus, ReaderOutput, Source, SourceReader, SourceSplit } from '../../../runtime/source/contract.ts';

interface TsSplit extends SourceSplit {
  ts: number;
}

/** Each poll: every held split emits one record at its `ts`; splits other than 'slow' then finish. */
class OneShotReader implements SourceReader<number, TsSplit> {
  held: TsSplit[] = [];
  addSplits(splits: readonly TsSplit[]): void {
    this.held.push(...splits);
  }
  notifyNoMoreSplits(): void {}
  poll(output: ReaderOutput<number>): PollStatus {
    for (const s of this.held) output.forSplit(s.id).collect(s.ts, s.ts);
    for (const s of this.held) if (s.id !== 'slow') output.releaseSplit(s.id);
    this.held = this.held.filter((s) => s.id === 'slow');
    return 'more';
  }
  available(): Promise<void> {
    return Promise.resolve();
  }
  snapshotState(): TsSplit[] {
    return this.held;
  }
}

describe('source driver', () => {
  it('takes finished splits out of the watermark and keeps its slots bounded', () => {
    const reader = new OneShotReader();
    const source = { name: 's', bounded: false, createReader: () => reader } as unknown as Source<number, SourceSplit, unknown>;
    const emitted: number[] = [];
    const driver = new SourceDriver<number>(source, WatermarkStrategy.forBoundedOutOfOrderness<number>(0), { emit: (v) => void emitted.push(v) }, 's');
    driver.open({ subtaskIndex: 0, parallelism: 1, operatorState: new OperatorStateStore('s', 0), sendToEnumerator: () => {} });
    driver.handle({ type: 'add-splits', splits: [{ id: 'slow', ts: 5 } as TsSplit] });
    driver.poll(10);
    expect(driver.watermarkUpdate().watermark).toBe(4);
    for (let round = 0; round < 50; round++) {
      // 10 short splits far ahead in time, finished at once: they never hold the watermark, the slow split does
      driver.handle({ type: 'add-splits', splits: Array.from({ length: 10 }, (_, i) => ({ id: `chunk-${round}-${i}`, ts: 10_000 + round })) });
      driver.poll(10);
      expect(driver.watermarkUpdate().watermark).toBeUndefined();
    }
    const slots = (driver as unknown as { watermarks: { maxTs: number[] } }).watermarks.maxTs.length;
    expect(slots).toBeLessThan(100); // 501 splits seen
    reader.held[0]!.ts = 3_000;
    driver.poll(10);
    expect(driver.watermarkUpdate().watermark).toBe(2_999);
    expect(emitted.length).toBe(1 + 500 + 50 + 1);
  });
});
