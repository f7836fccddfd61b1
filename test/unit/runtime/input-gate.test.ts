/**
 * The input gate and credit-based flow control, with the real data plane and output channels
 * (both ends in one task manager): a channel never holds more unprocessed batches than its
 * credits, the sender keeps the rest in its backlog until batches are processed, blocked
 * channels are skipped until unblocked, and channels are served earliest in event time first,
 * round robin among equal times.
 */
import { describe, expect, it } from 'vitest';
import { DataPlane } from '../../../runtime/exchange/data-plane.ts';
import { OutputChannel } from '../../../runtime/exchange/output-channel.ts';
import { InputGate, LOCAL_CREDITS, MAX_PASSED_OVER, type GateItem } from '../../../runtime/task/input-gate.ts';
import { inProcessLinks } from '../../../runtime/exchange/peer-link.ts';
import { batchDecodes } from '../../../runtime/exchange/batch-codec.ts';

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

/**
 * A gate in task manager 1 with two channels: 1 from a sender in the same task manager, 2 from one
 * in task manager 0, joined by an in-process link.
 */
function localAndRemote(onArrival: () => void) {
  const [a, b] = inProcessLinks();
  const here = new DataPlane(1);
  const there = new DataPlane(0);
  const routes = [
    { id: 1, senderWorker: 1, receiverWorker: 1 },
    { id: 2, senderWorker: 0, receiverWorker: 1 },
  ];
  here.addRoutes(routes);
  there.addRoutes(routes);
  here.connectPeer(0, b);
  there.connectPeer(1, a);
  const gate = new InputGate(
    [
      { id: 1, inputIndex: 0 },
      { id: 2, inputIndex: 0 },
    ],
    here,
    4,
    onArrival,
  );
  return { here, there, gate, local: new OutputChannel(1, here, () => {}), remote: new OutputChannel(2, there, () => {}) };
}

/** A batch of one record, `n`, at event time `t`. */
const batch = (n: number, t = 0): [unknown[], number[]] => [[n], [t]];

function describeItem(item: GateItem | undefined): string {
  if (item === undefined) return 'none';
  return item.kind === 'batch' ? `c${item.channel}:${String(item.values[0])}` : `c${item.channel}:${item.event.kind}`;
}

describe('input gate and credits', () => {
  it('sends nothing before open; then at most LOCAL_CREDITS batches on a channel within the task manager, one more per processed batch', () => {
    const { gate, senders, arrivals, writable } = setup(1, 4);
    const s = senders[0]!;
    for (let i = 0; i < 5; i++) s.sendBatch(...batch(i));
    expect(gate.poll()).toBeUndefined();
    expect(s.hasBacklog).toBe(true);
    gate.open();
    expect(arrivals()).toBe(LOCAL_CREDITS);
    expect(s.hasBacklog).toBe(true);
    let next = 0;
    for (; next < LOCAL_CREDITS; next++) expect(describeItem(gate.poll())).toBe(`c0:${next}`);
    expect(gate.poll()).toBeUndefined(); // the next batch waits for a credit
    while (next < 5) {
      gate.processed(0);
      expect(describeItem(gate.poll())).toBe(`c0:${next++}`);
    }
    expect(s.hasBacklog).toBe(false);
    expect(writable()).toBe(1); // the backlog drained once
    expect(gate.maxQueuedBatches).toBe(LOCAL_CREDITS);
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

  it('serves channels of equal times round robin and skips a blocked channel until unblockAll, keeping its order', () => {
    const { gate, senders } = setup(3, 10);
    gate.open();
    for (let i = 0; i < 3; i++) for (const [c, s] of senders.entries()) s.sendBatch(...batch(c * 10 + i));
    // Each batch taken is processed at once (a local channel holds LOCAL_CREDITS batches, the rest wait in the sender's backlog).
    const take = (): string => {
      const item = gate.poll();
      if (item?.kind === 'batch') gate.processed(item.channel);
      return describeItem(item);
    };
    expect([take(), take(), take()]).toEqual(['c0:0', 'c1:10', 'c2:20']);
    gate.block(1);
    expect([take(), take(), take(), take(), take()]).toEqual(['c0:1', 'c2:21', 'c0:2', 'c2:22', 'none']);
    expect(gate.hasAvailable).toBe(false);
    gate.unblockAll();
    expect(gate.hasAvailable).toBe(true);
    expect([take(), take(), take()]).toEqual(['c1:11', 'c1:12', 'none']);
    expect([0, 1, 2].map((c) => gate.inputIndexOf(c))).toEqual([0, 1, 0]);
  });

  it('a channel from the same task manager gets at most LOCAL_CREDITS credits; one from another gets all', async () => {
    const { here, there, gate, local, remote } = localAndRemote(() => {});
    gate.open();
    for (let i = 0; i < 6; i++) {
      local.sendBatch(...batch(i));
      remote.sendBatch(...batch(10 + i));
    }
    await until(() => gate.channels[1]!.batchesQueued === 4);
    expect(gate.channels[0]!.batchesQueued).toBe(LOCAL_CREDITS);
    expect(local.hasBacklog).toBe(true);
    expect(remote.hasBacklog).toBe(true);
    here.close();
    there.close();
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

  it('batches from another task manager wait encoded and are decoded one at a time, when the task takes them', async () => {
    // Two task managers joined by an in-process link: channel 3 goes from worker 0 to worker 1.
    const [a, b] = inProcessLinks();
    const sender = new DataPlane(0);
    const receiver = new DataPlane(1);
    for (const plane of [sender, receiver]) plane.addRoutes([{ id: 3, senderWorker: 0, receiverWorker: 1 }]);
    sender.connectPeer(1, a);
    receiver.connectPeer(0, b);
    let arrivals = 0;
    const gate = new InputGate([{ id: 3, inputIndex: 0 }], receiver, 4, () => arrivals++);
    const s = new OutputChannel(3, sender, () => {});
    gate.open();
    const before = batchDecodes.count;
    for (let i = 0; i < 3; i++) s.sendBatch([{ key: `k${i}`, v: i }, { key: `k${i}`, v: i + 1 }], [i, i], [i, i], [-i, -i]);
    await until(() => arrivals === 3);
    // Queued batches are bytes: nothing decoded ahead of the task (the scavenger copies no queued records).
    expect(batchDecodes.count - before).toBe(0);
    const taken: GateItem[] = [];
    for (let i = 0; i < 3; i++) {
      taken.push(gate.poll()!);
      expect(batchDecodes.count - before).toBe(i + 1);
    }
    expect(gate.poll()).toBeUndefined();
    expect(taken.map((t) => (t.kind === 'batch' ? [t.values, Array.from(t.times), Array.from(t.keyGroups!), Array.from(t.keyHashes!)] : t.kind))).toEqual([
      [[{ key: 'k0', v: 0 }, { key: 'k0', v: 1 }], [0, 0], [0, 0], [0, 0]],
      [[{ key: 'k1', v: 1 }, { key: 'k1', v: 2 }], [1, 1], [1, 1], [-1, -1]],
      [[{ key: 'k2', v: 2 }, { key: 'k2', v: 3 }], [2, 2], [2, 2], [-2, -2]],
    ]);
    expect(gate.channels[0]!.recordsTaken).toBe(6);
    sender.close();
    receiver.close();
  });
});

describe('input gate: channels by event time', () => {
  /** Polls once; a batch taken is processed at once (its sender may send the next). */
  const taker = (gate: InputGate) => (): string => {
    const item = gate.poll();
    if (item?.kind === 'batch') gate.processed(item.channel);
    return describeItem(item);
  };

  it("takes the channel whose head batch is earliest in event time; events and batches without times go first", () => {
    const { gate, senders } = setup(3, 10);
    gate.open();
    const [s0, s1, s2] = senders as [OutputChannel, OutputChannel, OutputChannel];
    s0.sendBatch(...batch(1, 300));
    s0.sendBatch(...batch(2, 310));
    s1.sendBatch(...batch(3, 100));
    s1.sendBatch(...batch(4, 305));
    s2.sendBatch(...batch(5, 200));
    s2.sendEvent({ kind: 'watermark', time: 250 });
    const take = taker(gate);
    expect([take(), take(), take(), take(), take(), take(), take()]).toEqual(['c1:3', 'c2:5', 'c2:watermark', 'c0:1', 'c1:4', 'c0:2', 'none']);
    s0.sendBatch(...batch(6, 50));
    s1.sendBatch([7], [Number.NaN]);
    expect([take(), take()]).toEqual(['c1:7', 'c0:6']);
  });

  it(`takes a channel passed over ${MAX_PASSED_OVER} times in a row although another is earlier`, () => {
    const { gate, senders } = setup(2, 10);
    gate.open();
    const [late, early] = senders as [OutputChannel, OutputChannel];
    late.sendBatch(...batch(-1, 1e12));
    for (let i = 0; i < 2 * MAX_PASSED_OVER + 2; i++) early.sendBatch(...batch(i, i));
    const take = taker(gate);
    const order = Array.from({ length: MAX_PASSED_OVER + 2 }, take);
    expect(order.indexOf('c0:-1')).toBe(MAX_PASSED_OVER);
    expect(order.filter((o) => o.startsWith('c1')).length).toBe(MAX_PASSED_OVER + 1);
  });

  it('reads the time of a batch from another task manager without decoding it', async () => {
    let arrivals = 0;
    const { here, there, gate, local, remote } = localAndRemote(() => arrivals++);
    gate.open();
    local.sendBatch([{ v: 'local' }], [2000]);
    remote.sendBatch([{ v: 'remote-1' }, { v: 'remote-2' }], [1000, 3000]);
    remote.sendBatch([{ v: 'remote-3' }], [2500]);
    await until(() => arrivals === 3);
    const before = batchDecodes.count;
    const first = gate.poll();
    expect(batchDecodes.count - before).toBe(1); // only the batch taken was decoded
    const rest = [gate.poll(), gate.poll()];
    expect([first, ...rest].map((item) => (item?.kind === 'batch' ? (item.values[0] as { v: string }).v : 'none'))).toEqual(['remote-1', 'local', 'remote-3']);
    here.close();
    there.close();
  });
});

/** Waits (turns of the event loop, no timer) until `done` holds. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setImmediate(r));
  expect(done()).toBe(true);
}
