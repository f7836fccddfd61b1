/**
 * The data plane: moves record batches and events from a sending task to a receiving task, and
 * credits back. A channel whose two ends live in one task manager is a direct call with the batch
 * object; one that crosses task managers is encoded (batch-codec) and posted on the port to the
 * other worker over a `PeerLink` (peer-link.ts: a worker-thread port, or in-process ends; a socket
 * to another process would be a third), so the tasks do not know what carries their batches.
 */
import type { MessagePort } from 'node:worker_threads';
import { isPeerLink, portLink, type PeerLink } from './peer-link.ts';
import { decodeBatch, encodeBatch, type EncodedBatch } from './batch-codec.ts';
import { ReceivedStrings, SentStrings } from './channel-strings.ts';
import type { ChannelEvent } from './channel-event.ts';

export interface ChannelReceiver {
  /** `keyGroups`, `keyHashes`: each record's key group and key hash, on a channel of a keyBy exchange (hash partitioning). */
  onBatch(values: unknown[], times: ArrayLike<number>, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void;
  /**
   * A batch from another task manager, still encoded: a receiver that queues batches keeps them
   * as bytes and decodes each when it takes it, so queued batches are not objects
   * the garbage collector copies at every scavenge. Without it the plane decodes and calls onBatch.
   * The receiver decodes the channel's batches in order, each once, with ReceivedStrings of its
   * own (the batches may refer to strings of earlier ones: channel-strings.ts).
   */
  onEncodedBatch?(batch: EncodedBatch): void;
  onEvent(event: ChannelEvent): void;
}

export interface ChannelSender {
  /** `consumed`: records the receiver has processed from this channel so far, when it says. */
  onCredit(credits: number, consumed?: number): void;
  /** The receiver's batch size for this channel (buffer debloating). */
  onBatchSize?(records: number): void;
}

/** Where each channel's two ends are: the task manager (worker index) of the sender and receiver. */
export interface ChannelRoute {
  id: number;
  senderWorker: number;
  receiverWorker: number;
}

type WireMessage =
  | { t: 'd'; c: number; b: EncodedBatch }
  | { t: 'e'; c: number; e: ChannelEvent }
  | { t: 'k'; c: number; n: number; r?: number }
  | { t: 's'; c: number; n: number };

export class DataPlane {
  private readonly receivers = new Map<number, ChannelReceiver>();
  private readonly senders = new Map<number, ChannelSender>();
  private readonly routes = new Map<number, ChannelRoute>();
  private readonly peers = new Map<number, PeerLink<WireMessage>>();
  /** Messages that arrived before their receiver or sender was registered. */
  private readonly early: WireMessage[] = [];
  /** The strings each channel this task manager sends on has carried, and those of each it decodes for (channel-strings.ts). */
  private readonly sent = new Map<number, SentStrings>();
  private readonly received = new Map<number, ReceivedStrings>();
  bytesSent = 0;

  constructor(readonly worker: number) {}

  addRoutes(routes: readonly ChannelRoute[]): void {
    for (const r of routes) this.routes.set(r.id, r);
  }

  /** The connection to task manager `worker`: a link, or a worker-thread port (wrapped in one). */
  connectPeer(worker: number, peer: PeerLink | MessagePort): void {
    const link = (isPeerLink(peer) ? peer : portLink(peer)) as PeerLink<WireMessage>;
    this.peers.set(worker, link);
    link.onMessage((m) => this.onWire(m));
  }

  registerReceiver(channel: number, receiver: ChannelReceiver): void {
    this.receivers.set(channel, receiver);
    this.replayEarly();
  }

  registerSender(channel: number, sender: ChannelSender): void {
    this.senders.set(channel, sender);
    this.replayEarly();
  }

  private replayEarly(): void {
    if (this.early.length === 0) return;
    const pending = this.early.splice(0);
    for (const m of pending) this.onWire(m);
  }

  /** Both ends of `channel` are in this task manager (its batches are handed over as objects). */
  isLocal(channel: number): boolean {
    const r = this.route(channel);
    return r.senderWorker === this.worker && r.receiverWorker === this.worker;
  }

  private route(channel: number): ChannelRoute {
    const r = this.routes.get(channel);
    if (!r) throw new Error(`channel ${channel} has no route in task manager ${this.worker}`);
    return r;
  }

  private peer(worker: number): PeerLink<WireMessage> {
    const p = this.peers.get(worker);
    if (!p) throw new Error(`task manager ${this.worker} has no connection to task manager ${worker}`);
    return p;
  }

  private onWire(m: WireMessage): void {
    if (m.t === 'k' || m.t === 's') {
      const s = this.senders.get(m.c);
      if (!s) this.early.push(m);
      else if (m.t === 'k') s.onCredit(m.n, m.r);
      else s.onBatchSize?.(m.n);
      return;
    }
    const r = this.receivers.get(m.c);
    if (!r) {
      this.early.push(m);
      return;
    }
    if (m.t === 'd') {
      if (r.onEncodedBatch) r.onEncodedBatch(m.b);
      else {
        let strings = this.received.get(m.c);
        if (strings === undefined) this.received.set(m.c, (strings = new ReceivedStrings()));
        const { values, times, keyGroups, keyHashes } = decodeBatch(m.b, strings);
        r.onBatch(values, times, keyGroups, keyHashes);
      }
    } else r.onEvent(m.e);
  }

  /**
   * Sends a batch. Returns false when `values`, `times`, `keyGroups` and `keyHashes` were handed over (a receiver
   * in this task manager): the sender must not touch them again. Returns true when they were
   * encoded and sent (another task manager): nothing keeps them, so the sender may reuse them.
   */
  sendBatch(channel: number, values: unknown[], times: ArrayLike<number>, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): boolean {
    const route = this.route(channel);
    if (route.receiverWorker === this.worker) {
      this.receivers.get(channel)!.onBatch(values, times, keyGroups, keyHashes);
      return false;
    }
    let strings = this.sent.get(channel);
    if (strings === undefined) this.sent.set(channel, (strings = new SentStrings()));
    const b = encodeBatch(values, times, keyGroups, keyHashes, strings);
    this.bytesSent += b.buf.byteLength;
    this.peer(route.receiverWorker).send({ t: 'd', c: channel, b } satisfies WireMessage, [b.buf]);
    return true;
  }

  sendEvent(channel: number, event: ChannelEvent): void {
    const route = this.route(channel);
    if (route.receiverWorker === this.worker) this.receivers.get(channel)!.onEvent(event);
    else this.peer(route.receiverWorker).send({ t: 'e', c: channel, e: event } satisfies WireMessage);
  }

  /** `consumed`: records processed from the channel so far (lets the sender know what is in flight). */
  grantCredit(channel: number, credits: number, consumed?: number): void {
    const route = this.route(channel);
    if (route.senderWorker === this.worker) {
      const s = this.senders.get(channel);
      if (s) s.onCredit(credits, consumed);
      else this.early.push({ t: 'k', c: channel, n: credits, r: consumed });
    } else this.peer(route.senderWorker).send({ t: 'k', c: channel, n: credits, r: consumed } satisfies WireMessage);
  }

  /** Asks the sender of `channel` to make batches of `records` (buffer debloating). */
  announceBatchSize(channel: number, records: number): void {
    const m: WireMessage = { t: 's', c: channel, n: records };
    const route = this.route(channel);
    if (route.senderWorker !== this.worker) this.peer(route.senderWorker).send(m);
    else if (this.senders.has(channel)) this.onWire(m);
    else this.early.push(m);
  }

  close(): void {
    for (const p of this.peers.values()) p.close();
    this.peers.clear();
  }
}
