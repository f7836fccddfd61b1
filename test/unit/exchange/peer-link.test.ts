import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { DataPlane } from '../../../runtime/exchange/data-plane.ts';
import { inProcessLinks, portLink, type PeerLink } from '../../../runtime/exchange/peer-link.ts';

const planes: DataPlane[] = [];
afterEach(() => {
  for (const p of planes.splice(0)) p.close();
});

/** Two data planes (task managers 0 and 1) over a pair of links; channel 0 goes from 0 to 1. */
function pair(links: [PeerLink, PeerLink]) {
  const a = new DataPlane(0);
  const b = new DataPlane(1);
  planes.push(a, b);
  const routes = [{ id: 0, senderWorker: 0, receiverWorker: 1 }];
  a.addRoutes(routes);
  b.addRoutes(routes);
  a.connectPeer(1, links[0]);
  b.connectPeer(0, links[1]);
  return { a, b };
}

describe('peer links', () => {
  it('in-process ends deliver in order, later, never inside the send', async () => {
    const [x, y] = inProcessLinks<number>();
    const got: number[] = [];
    y.onMessage((m) => got.push(m));
    for (let i = 0; i < 5; i++) x.send(i);
    expect(got).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([0, 1, 2, 3, 4]);
    // messages that arrive before the handler is set wait for it
    x.onMessage(() => {});
    const [p, q] = inProcessLinks<string>();
    p.send('early');
    await new Promise((r) => setImmediate(r));
    const late: string[] = [];
    q.onMessage((m) => late.push(m));
    expect(late).toEqual(['early']);
    // a closed end delivers nothing more
    q.close();
    p.send('after close');
    await new Promise((r) => setImmediate(r));
    expect(late).toEqual(['early']);
  });

  for (const [name, make] of [
    ['in process', () => inProcessLinks()],
    ['over a worker-thread port', () => {
      const { port1, port2 } = new MessageChannel();
      return [portLink(port1), portLink(port2)];
    }],
  ] as [string, () => [PeerLink, PeerLink]][]) {
    it(`carries batches, events and credits between two data planes ${name}`, async () => {
      const { a, b } = pair(make());
      const log: string[] = [];
      b.registerReceiver(0, { onBatch: (values, times) => log.push(`batch ${JSON.stringify(values)} @${Array.from(times).join(',')}`), onEvent: (e) => log.push(`event ${e.kind}`) });
      a.registerSender(0, { onCredit: (n, consumed) => log.push(`credit ${n} ${consumed}`) });
      a.sendBatch(0, [{ k: 'x', v: 1 }, { k: 'y', v: 2 }], [10, 20]);
      a.sendEvent(0, { kind: 'end' });
      b.grantCredit(0, 3, 2);
      await expect.poll(() => log.length).toBe(3);
      // in order within a direction; the two directions are independent
      expect(log.filter((l) => !l.startsWith('credit'))).toEqual([`batch [{"k":"x","v":1},{"k":"y","v":2}] @10,20`, 'event end']);
      expect(log).toContain('credit 3 2');
    });
  }
  it('a port link sends what one synchronous run sent as one port message, in order, buffers moved', async () => {
    const { port1, port2 } = new MessageChannel();
    const posted: unknown[][] = [];
    const post = port1.postMessage.bind(port1);
    (port1 as MessagePort & { postMessage: (m: unknown, t?: readonly ArrayBuffer[]) => void }).postMessage = (m: unknown, t?: readonly ArrayBuffer[]) => {
      posted.push(m as unknown[]);
      post(m, t as ArrayBuffer[]);
    };
    const x = portLink<{ n: number; buf?: ArrayBuffer }>(port1);
    const y = portLink<{ n: number; buf?: ArrayBuffer }>(port2);
    const got: { n: number; bytes: number }[] = [];
    y.onMessage((m) => got.push({ n: m.n, bytes: m.buf?.byteLength ?? -1 }));
    const buffers = [new ArrayBuffer(8), new ArrayBuffer(16)];
    x.send({ n: 1, buf: buffers[0]! }, [buffers[0]!]);
    x.send({ n: 2 });
    x.send({ n: 3, buf: buffers[1]! }, [buffers[1]!]);
    expect(posted).toEqual([]);
    await Promise.resolve();
    expect(posted.map((m) => m.length)).toEqual([3]);
    // moved, not copied: the sender's buffers are detached
    expect(buffers.map((b) => b.byteLength)).toEqual([0, 0]);
    x.send({ n: 4 });
    await expect.poll(() => got.length).toBe(4);
    expect(got).toEqual([{ n: 1, bytes: 8 }, { n: 2, bytes: -1 }, { n: 3, bytes: 16 }, { n: 4, bytes: -1 }]);
    expect(posted.map((m) => m.length)).toEqual([3, 1]);
    // close sends what is queued first; nothing is sent after it
    x.send({ n: 5 });
    x.close();
    x.send({ n: 6 });
    await expect.poll(() => got.length).toBe(5);
    expect(got[4]!.n).toBe(5);
    expect(posted.map((m) => m.length)).toEqual([3, 1, 1]);
    y.close();
  });
});
