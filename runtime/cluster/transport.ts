/**
 * How the task managers of an execution attempt are connected for data exchange. The job manager
 * asks the transport to connect each pair; the transport makes the two ends and hands one to each
 * task manager through its gateway. Worker threads get the ends of a `MessageChannel` (moved to
 * their threads); task managers on the calling thread get in-process link ends
 * (runtime/exchange/peer-link.ts). The data plane only sees a `PeerLink` either way, so a socket
 * transport for task managers in other processes adds a third implementation here and a link there,
 * without touching tasks.
 */
import { MessageChannel } from 'node:worker_threads';
import { inProcessLinks } from '../exchange/peer-link.ts';
import type { TaskManagerGateway } from './task-manager-gateway.ts';

export interface Transport {
  readonly name: 'worker-threads' | 'in-process';
  connect(a: TaskManagerGateway, b: TaskManagerGateway): Promise<void>;
}

export const workerThreadTransport: Transport = {
  name: 'worker-threads',
  async connect(a, b) {
    const { port1, port2 } = new MessageChannel();
    await a.connectPeer(b.index, port1);
    try {
      await b.connectPeer(a.index, port2);
    } catch (e) {
      // Once a's end closed (its thread ended after it took the end), port2 cannot be moved: the
      // transfer fails with a DataCloneError ("MessagePort in transfer list is already detached")
      // that names no task manager, and would be the failover's cause as it is.
      if ((e as { name?: unknown } | null)?.name === 'DataCloneError') {
        throw new Error(`task manager ${a.index} ended before task manager ${b.index} was connected to it (${(e as Error).message})`);
      }
      throw e;
    }
  },
};

export const inProcessTransport: Transport = {
  name: 'in-process',
  async connect(a, b) {
    const [x, y] = inProcessLinks();
    await a.connectPeer(b.index, x);
    await b.connectPeer(a.index, y);
  },
};
