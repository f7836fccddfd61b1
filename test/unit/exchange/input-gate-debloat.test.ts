import { describe, expect, it } from 'vitest';
import { debloatConfig } from '../../../runtime/exchange/buffer-debloater.ts';
import type { ChannelReceiver, DataPlane } from '../../../runtime/exchange/data-plane.ts';
import { InputGate } from '../../../runtime/task/input-gate.ts';

/** A data plane that records what the gate tells the senders. */
function recordingPlane() {
  const receivers = new Map<number, ChannelReceiver>();
  const credits: [number, number, number | undefined][] = [];
  const sizes: [number, number][] = [];
  const plane = {
    registerReceiver: (c: number, r: ChannelReceiver) => receivers.set(c, r),
    grantCredit: (c: number, n: number, consumed?: number) => credits.push([c, n, consumed]),
    announceBatchSize: (c: number, n: number) => sizes.push([c, n]),
    isLocal: () => false,
  } as unknown as DataPlane;
  return { plane, receivers, credits, sizes };
}

const batch = (n: number): unknown[] => Array.from({ length: n }, (_, i) => i);

describe('input gate with buffer debloating', () => {
  it('measures what the task takes and asks every sender for the debloated batch size', () => {
    const { plane, receivers, credits, sizes } = recordingPlane();
    let now = 0;
    const config = debloatConfig({ targetMs: 100, periodMs: 100, samples: 1, minBatchSize: 8 });
    const gate = new InputGate(
      [
        { id: 10, inputIndex: 0 },
        { id: 11, inputIndex: 0 },
      ],
      plane,
      4,
      () => {},
      { config, maxBatchSize: 1000, now: () => now },
    );
    gate.open();
    expect(credits).toEqual([
      [10, 4, undefined],
      [11, 4, undefined],
    ]);
    expect(gate.batchSize).toBe(1000);

    // 600 records taken over 100 ms: 6000 records/s, x 100 ms = 600 in flight over 2 x 4 batches = 75.
    receivers.get(10)!.onBatch(batch(300), new Array(300).fill(0));
    receivers.get(11)!.onBatch(batch(200), new Array(200).fill(0));
    receivers.get(10)!.onBatch(batch(100), new Array(100).fill(0));
    now = 10;
    expect(gate.poll()?.channel).toBe(0);
    gate.processed(0);
    expect(gate.poll()?.channel).toBe(1);
    gate.processed(1);
    expect(sizes).toEqual([]);
    now = 100;
    expect(gate.poll()?.channel).toBe(0);
    gate.processed(0);
    expect(sizes).toEqual([
      [10, 75],
      [11, 75],
    ]);
    expect(gate.batchSize).toBe(75);
    // Each credit carries the records processed from its channel so far.
    expect(credits.slice(2)).toEqual([
      [10, 1, 300],
      [11, 1, 200],
      [10, 1, 400],
    ]);
  });

  it('does not count time with nothing to take', () => {
    const { plane, receivers, sizes } = recordingPlane();
    let now = 0;
    const config = debloatConfig({ targetMs: 100, periodMs: 100, samples: 1, minBatchSize: 8 });
    const gate = new InputGate([{ id: 1, inputIndex: 0 }], plane, 2, () => {}, { config, maxBatchSize: 1000, now: () => now });
    gate.open();
    receivers.get(1)!.onBatch(batch(100), new Array(100).fill(0));
    now = 10;
    gate.poll();
    gate.processed(0);
    // Nothing to take from 20 until the next batch is taken at 100.
    now = 20;
    expect(gate.poll()).toBeUndefined();
    receivers.get(1)!.onBatch(batch(100), new Array(100).fill(0));
    now = 100;
    gate.poll();
    // 200 records over 100 - 80 = 20 ms of activity: 10k records/s, x 100 ms = 1000 in flight over
    // 1 channel x 2 credits = 500 per batch.
    expect(sizes).toEqual([[1, 500]]);
  });

  it('without debloating asks for nothing and reports no batch size', () => {
    const { plane, receivers, sizes } = recordingPlane();
    const gate = new InputGate([{ id: 1, inputIndex: 0 }], plane, 2, () => {}, { config: debloatConfig(false), maxBatchSize: 1000 });
    gate.open();
    receivers.get(1)!.onBatch(batch(100), new Array(100).fill(0));
    gate.poll();
    gate.processed(0);
    expect(sizes).toEqual([]);
    expect(gate.batchSize).toBeUndefined();
  });
});
