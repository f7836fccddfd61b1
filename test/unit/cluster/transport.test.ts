/**
 * The worker-thread transport (runtime/cluster/transport.ts): when the first task manager of a pair
 * ends after it took its end of the link, the second end cannot be moved any more; the error says
 * which task manager ended (it becomes the failover's cause), not only that a port was detached.
 */
import { once } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { workerThreadTransport } from '../../../runtime/cluster/transport.ts';
import type { TaskManagerGateway } from '../../../runtime/cluster/task-manager-gateway.ts';

/** A gateway whose connectPeer does `onConnect` with the port (moves it on, as a link port does, or closes it). */
function gateway(index: number, onConnect: (port: MessagePort) => void | Promise<void>): TaskManagerGateway {
  return {
    index,
    connectPeer: async (_peer: number, port: MessagePort) => onConnect(port),
  } as unknown as TaskManagerGateway;
}

const carrier = new MessageChannel();
carrier.port1.unref();
carrier.port2.unref();
const move = (port: MessagePort): void => carrier.port1.postMessage({ port }, [port]);

describe('workerThreadTransport', () => {
  it('connects both ends', async () => {
    const moved: MessagePort[] = [];
    await workerThreadTransport.connect(gateway(0, (p) => void moved.push(p)), gateway(1, (p) => void moved.push(p)));
    expect(moved).toHaveLength(2);
    for (const p of moved) p.close();
  });

  it('names the task manager whose end closed before the other end was connected', async () => {
    // Task manager 0's thread ends right after taking its end: the end closes, and task manager 1's
    // connect comes once that reached the other end.
    const a = gateway(0, (p) => p.close());
    const b = gateway(1, async (p) => {
      await once(p, 'close');
      move(p);
    });
    await expect(workerThreadTransport.connect(a, b)).rejects.toThrow(/^task manager 0 ended before task manager 1 was connected to it \(.*detached/);
  });
});
