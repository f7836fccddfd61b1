/**
 * What the data plane needs of the connection to another task manager: send a message (handing over
 * the buffers in `transfer`), receive messages in the order they were sent, close. Two
 * implementations: a worker-thread `MessagePort` (`portLink`), and a pair of in-process ends
 * (`inProcessLinks`: both task managers on one thread, no copy, no encoding cost beyond the batch
 * codec's). A link over a socket to a task manager in another process implements the same three
 * calls; the tasks and the exchange do not change.
 */
import type { MessagePort } from 'node:worker_threads';

export interface PeerLink<M = unknown> {
  send(message: M, transfer?: ArrayBuffer[]): void;
  /** Sets the one handler of incoming messages. */
  onMessage(handler: (message: M) => void): void;
  close(): void;
}

export function isPeerLink(v: PeerLink | MessagePort): v is PeerLink {
  return typeof (v as PeerLink).send === 'function' && typeof (v as PeerLink).onMessage === 'function';
}

/**
 * A link over a worker-thread message port (structured clone; `transfer` moves the buffers).
 * Messages sent in one synchronous run of the sender (a task's step: its batches, credits and
 * watermarks, to every channel on this link) go as one port message, an array, when that run ends
 * (a microtask): a port message costs the sender a clone and a wake-up of the other thread, and
 * the receiver an event dispatch, whatever it carries. Order is kept; nothing waits longer than
 * the run that sent it.
 */
export function portLink<M>(port: MessagePort): PeerLink<M> {
  let queued: M[] = [];
  let transfers: ArrayBuffer[] = [];
  let scheduled = false;
  let closed = false;
  const flush = (): void => {
    scheduled = false;
    if (queued.length === 0 || closed) return;
    const messages = queued;
    const moved = transfers;
    queued = [];
    transfers = [];
    port.postMessage(messages, moved);
  };
  return {
    send: (m, transfer) => {
      if (closed) return;
      queued.push(m);
      if (transfer !== undefined) for (let i = 0; i < transfer.length; i++) transfers.push(transfer[i]!);
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    },
    onMessage: (handler) => {
      port.removeAllListeners('message');
      port.on('message', (messages: M[]) => {
        for (let i = 0; i < messages.length; i++) handler(messages[i]!);
      });
    },
    close: () => {
      flush();
      closed = true;
      port.close();
    },
  };
}

/**
 * Two connected ends on one thread. Delivery is asynchronous and in order, as over a port: messages
 * sent in one turn of the event loop are delivered together in a later one, so a sender never
 * re-enters its receiver.
 */
export function inProcessLinks<M>(): [PeerLink<M>, PeerLink<M>] {
  const end = (): { link: PeerLink<M>; deliver(m: M): void; peer?: { deliver(m: M): void } } => {
    let handler: ((m: M) => void) | undefined;
    const early: M[] = [];
    let queue: M[] = [];
    let scheduled = false;
    let closed = false;
    const self = {
      peer: undefined as { deliver(m: M): void } | undefined,
      deliver(m: M): void {
        if (closed) return;
        queue.push(m);
        if (scheduled) return;
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          const batch = queue;
          queue = [];
          for (const x of batch) {
            if (closed) return;
            if (handler) handler(x);
            else early.push(x);
          }
        });
      },
      link: {
        send: (m: M) => {
          if (!closed) self.peer?.deliver(m);
        },
        onMessage: (h: (m: M) => void) => {
          handler = h;
          for (const x of early.splice(0)) h(x);
        },
        close: () => {
          closed = true;
          queue = [];
        },
      } as PeerLink<M>,
    };
    return self;
  };
  const a = end();
  const b = end();
  a.peer = b;
  b.peer = a;
  return [a.link, b.link];
}
