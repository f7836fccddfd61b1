/**
 * The worker-thread transport's own channel to a task manager thread (transport.ts): the ends of
 * data links (`MessagePort`s) travel on it, outside the control protocol, so the control calls and
 * events carry plain data only. The thread answers each link with an acknowledgement once the link
 * is connected, so a task started after `connect` resolved finds its peers.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';

/** A link end for the task manager `key` on the thread (undefined: the thread's only task manager). */
export interface LinkOffer {
  id: number;
  key?: string;
  peer: number;
  port: MessagePort;
}

/** The job manager's side: offers link ends to one thread and waits for its acknowledgements. */
export class LinkPortClient {
  private readonly port: MessagePort;
  /** The end to give the thread (in its workerData, transferred). */
  readonly remote: MessagePort;
  private next = 0;
  private readonly waiting = new Map<number, (error?: string) => void>();

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.remote = port2;
    this.port.on('message', (m: { ack: number; error?: string }) => {
      this.waiting.get(m.ack)?.(m.error);
      this.waiting.delete(m.ack);
    });
    this.port.unref();
  }

  /** Hands `port` to the thread as its link to `peer`; resolves once the thread connected it. */
  offer(peer: number, port: MessagePort, key?: string): Promise<void> {
    const id = this.next++;
    const acked = new Promise<void>((resolve, reject) => this.waiting.set(id, (error) => (error ? reject(new Error(error)) : resolve())));
    this.port.postMessage({ id, key, peer, port } satisfies LinkOffer, [port]);
    return acked;
  }

  close(): void {
    this.port.close();
  }
}

/** The thread's side: connects each offered link end, then acknowledges it. */
export function serveLinkPort(port: MessagePort, connect: (offer: LinkOffer) => Promise<void>): void {
  port.on('message', (offer: LinkOffer) => {
    void connect(offer).then(
      () => port.postMessage({ ack: offer.id }),
      (e: unknown) => port.postMessage({ ack: offer.id, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  port.unref();
}
