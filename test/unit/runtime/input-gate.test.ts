/**
 * The input gate and credit-based flow control, with the real data plane and output channels
 * (both ends in one task manager): a channel never holds more unprocessed batches than its
 * credits, the sender keeps the rest in its backlog until batches are processed, blocked
 * channels are skipped until unblocked, and channels are served round robin in arrival order.
 */
import { describe, expect, it } from 'vitest';
import { DataPlane } from '../../../runtime/exchange/data-plane.ts';
import { OutputChannel } from '../../../runtime/exchange/output-channel.ts';
import { InputGate, type GateItem } from '../../../runtime/task/input-gate.ts';

function setup(channels: number, credits: number) {
  const plane = new DataPlane(0);
  plane.addRoutes(Array.from({ length: channels }, (_, id) => ({ id, senderWorker: 0, receiverWorker: 0 })));
  let arrivals = 0;
  const gate = new InputGate(
    Array.from({ length: channels }, (_, id) => ({ id, inputIndex: (id % 2) as 0 | 1 })),
    plane,
    credits,
    () => arrivals++,
  );
  let writable = 0;
  const senders = Array.from({ length: channels }, (_, id) => new OutputChannel(id, plane, () => writable++));
  return { plane, gate, senders, arrivals: () => arrivals, writable: () => writable };
}

const batch = (n: number): [unknown[], number[]] => [[n], [n]];

function describeItem(item: GateItem | undefined): string {
  if (item === undefined) return 'none';
  return item.kind === 'batch' ? `c${item.channel}:${String(item.values[0])}` : `c${item.channel}:${item.event.kind}`;
}

describe('input gate and credits', () => {
  it('sends nothing before open; then at most `credits` batches per channel, one more per processed batch', () => {
    const { gate, senders, arrivals, writable } = setup(1, 2);
    const s = senders[0]!;
    for (let i = 0; i < 5; i++) s.sendBatch(...batch(i));
    expect(gate.poll()).toBeUndefined();
    expect(s.hasBacklog).toBe(true);
    gate.open();
    expect(arrivals()).toBe(2);
    expect(s.hasBacklog).toBe(true);
    const first = gate.poll();
    expect(describeItem(first)).toBe('c0:0');
    expect(describeItem(gate.poll())).toBe('c0:1');
    expect(gate.poll()).toBeUndefined(); // batch 2 waits for a credit
    gate.processed(0);
    expect(describeItem(gate.poll())).toBe('c0:2');
    gate.processed(0);
    gate.processed(0);
    expect(describeItem(gate.poll())).toBe('c0:3');
    expect(describeItem(gate.poll())).toBe('c0:4');
    expect(s.hasBacklog).toBe(false);
    expect(writable()).toBe(1); // the backlog drained once
    expect(gate.maxQueuedBatches).toBeLessThanOrEqual(2);
  });

  it('events wait behind batches in the backlog, in order, and need no credit', () => {
    const { gate, senders } = setup(1, 1);
    const s = senders[0]!;
    gate.open();
    s.sendBatch(...batch(1));
    s.sendBatch(...batch(2));
    s.sendEvent({ kind: 'watermark', time: 5 });
    s.sendEvent({ kind: 'end' });
    expect(describeItem(gate.poll())).toBe('c0:1');
    expect(gate.poll()).toBeUndefined();
    gate.processed(0);
    expect([gate.poll(), gate.poll(), gate.poll(), gate.poll()].map(describeItem)).toEqual(['c0:2', 'c0:watermark', 'c0:end', 'none']);
  });

  it('serves channels round robin and skips a blocked channel until unblockAll, keeping its order', () => {
    const { gate, senders } = setup(3, 10);
    gate.open();
    for (let i = 0; i < 3; i++) for (const [c, s] of senders.entries()) s.sendBatch(...batch(c * 10 + i));
    expect([gate.poll(), gate.poll(), gate.poll()].map(describeItem)).toEqual(['c0:0', 'c1:10', 'c2:20']);
    gate.block(1);
    expect([gate.poll(), gate.poll(), gate.poll(), gate.poll(), gate.poll()].map(describeItem)).toEqual(['c0:1', 'c2:21', 'c0:2', 'c2:22', 'none']);
    expect(gate.hasAvailable).toBe(false);
    gate.unblockAll();
    expect(gate.hasAvailable).toBe(true);
    expect([gate.poll(), gate.poll(), gate.poll()].map(describeItem)).toEqual(['c1:11', 'c1:12', 'none']);
    expect([0, 1, 2].map((c) => gate.inputIndexOf(c))).toEqual([0, 1, 0]);
  });

  it('a batch sent before the gate opens waits in the sender backlog until the initial credits arrive', () => {
    const plane = new DataPlane(0);
    plane.addRoutes([{ id: 7, senderWorker: 0, receiverWorker: 0 }]);
    const s = new OutputChannel(7, plane, () => {});
    const gate = new InputGate([{ id: 7, inputIndex: 0 }], plane, 4, () => {});
    s.sendBatch(...batch(1)); // no credit yet: backlog
    gate.open();
    expect(describeItem(gate.poll())).toBe('c0:1');
  });
});
