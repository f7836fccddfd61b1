/**
 * The receiving side of a task: one queue per input channel. It grants each channel's sender
 * `credits` batches up front (LOCAL_CREDITS at most when the sender is in the same task manager) and
 * one more each time the task has processed a batch, so a channel never holds more than that many
 * unprocessed batches. A channel can be blocked (checkpoint barrier alignment): its queue is then
 * skipped until unblocked. A batch from another task manager waits encoded and is decoded when the
 * task takes it (queued bytes are nothing the scavenger copies).
 *
 * Channels are served earliest in event time first (`InputGate.poll`).
 *
 * With buffer debloating (../exchange/buffer-debloater.ts) the gate also measures how fast the task
 * takes records and tells every sender the batch size that keeps about `targetMs` of data in flight.
 */
import { BufferDebloater, ThroughputMeter, type DebloatConfig } from '../exchange/buffer-debloater.ts';
import type { ChannelEvent } from '../exchange/channel-event.ts';
import type { ChannelReceiver, DataPlane } from '../exchange/data-plane.ts';
import { decodeBatch, firstTime, type EncodedBatch } from '../exchange/batch-codec.ts';
import { ReceivedStrings } from '../exchange/channel-strings.ts';

export type GateItem =
  | { kind: 'batch'; channel: number; values: unknown[]; times: ArrayLike<number>; keyGroups: ArrayLike<number> | undefined; keyHashes: ArrayLike<number> | undefined }
  | { kind: 'event'; channel: number; event: ChannelEvent };

/**
 * Credits of a channel whose sender runs in this task manager, whatever `credits` says. Its two ends
 * share one thread, so batches queued ahead of the receiver buy no parallelism; they only keep
 * records alive across scavenges (the collector copies them, then promotes them to the old
 * generation). One: the sender hands over a batch and waits (back-pressured) until the receiver,
 * on the same thread, has processed it; a second queued batch was a batch of records more alive at
 * each scavenge. Keyed count at parallelism 2, bytes promoted by the scavenger: 100-120 MB with
 * `credits` (4), 41-51 MB with 2, 23-25 MB with 1 (bench/runtime.md).
 */
export const LOCAL_CREDITS = 1;

/**
 * Polls a channel with something queued may be passed over for channels earlier in event time
 * before it is taken anyway: records whose times are far apart (or on different clocks) on two
 * channels then still interleave, a batch of the later one per this many of the earlier, instead
 * of the later channel waiting for the earlier one to run dry.
 */
export const MAX_PASSED_OVER = 32;

export interface InputChannelSpec {
  id: number;
  /** Which input of a two-input operator the channel feeds. */
  inputIndex: 0 | 1;
}

/** A queued batch from another task manager, decoded when taken (see ChannelReceiver.onEncodedBatch). */
type Encoded = { kind: 'encoded'; batch: EncodedBatch };

class InputChannel implements ChannelReceiver {
  readonly queue: (GateItem | Encoded)[] = [];
  head = 0;
  blocked = false;
  /** Batches queued and not yet processed (what the credits bound). */
  batchesQueued = 0;
  maxBatchesQueued = 0;
  /** Records taken from the channel so far. */
  recordsTaken = 0;
  /** Polls that took another channel's item while this one had something queued, since it was last taken. */
  passedOver = 0;
  /** The strings the channel's batches carried so far (batches are decoded in order, when taken). */
  private readonly strings = new ReceivedStrings();

  constructor(
    readonly index: number,
    readonly spec: InputChannelSpec,
    private readonly onArrival: () => void,
  ) {}

  onBatch(values: unknown[], times: ArrayLike<number>, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void {
    this.queue.push({ kind: 'batch', channel: this.index, values, times, keyGroups, keyHashes });
    if (++this.batchesQueued > this.maxBatchesQueued) this.maxBatchesQueued = this.batchesQueued;
    this.onArrival();
  }

  onEncodedBatch(batch: EncodedBatch): void {
    this.queue.push({ kind: 'encoded', batch });
    if (++this.batchesQueued > this.maxBatchesQueued) this.maxBatchesQueued = this.batchesQueued;
    this.onArrival();
  }

  onEvent(event: ChannelEvent): void {
    this.queue.push({ kind: 'event', channel: this.index, event });
    this.onArrival();
  }

  get available(): boolean {
    return !this.blocked && this.head < this.queue.length;
  }

  /**
   * The event time the head item stands for (only for an available channel): a batch's first
   * record's time; -Infinity for an event (watermark, barrier, end: taken at once) and for a batch
   * without times, which a merge by time cannot place.
   */
  headTime(): number {
    const item = this.queue[this.head]!;
    let t: number;
    if (item.kind === 'batch') t = item.values.length > 0 ? item.times[0]! : Number.NaN;
    else if (item.kind === 'encoded') t = item.batch.count > 0 ? firstTime(item.batch) : Number.NaN;
    else return -Infinity;
    return t === t ? t : -Infinity;
  }

  take(): GateItem {
    const item = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as GateItem;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (item.kind !== 'encoded') return item;
    const { values, times, keyGroups, keyHashes } = decodeBatch(item.batch, this.strings);
    return { kind: 'batch', channel: this.index, values, times, keyGroups, keyHashes };
  }
}

export interface GateDebloating {
  config: DebloatConfig;
  /** The configured batch size: the largest the gate asks for. */
  maxBatchSize: number;
  now?: () => number;
}

export class InputGate {
  readonly channels: InputChannel[];
  private cursor = 0;
  private readonly meter: ThroughputMeter | undefined;
  private readonly debloater: BufferDebloater | undefined;

  constructor(
    specs: readonly InputChannelSpec[],
    private readonly plane: DataPlane,
    private readonly credits: number,
    onArrival: () => void,
    debloating?: GateDebloating,
  ) {
    this.channels = specs.map((spec, i) => new InputChannel(i, spec, onArrival));
    for (const ch of this.channels) plane.registerReceiver(ch.spec.id, ch);
    if (debloating?.config.enabled && specs.length > 0) {
      this.meter = new ThroughputMeter(debloating.config.periodMs, debloating.now);
      let inFlight = 0;
      for (const ch of this.channels) inFlight += this.creditsOf(ch);
      this.debloater = new BufferDebloater(debloating.config, debloating.maxBatchSize, inFlight);
    }
  }

  /** The batch size the gate last asked its senders for (the configured one before the first request); undefined without debloating. */
  get batchSize(): number | undefined {
    return this.debloater?.batchSize;
  }

  /** The batches `ch` may hold unprocessed. */
  private creditsOf(ch: InputChannel): number {
    return this.plane.isLocal(ch.spec.id) ? Math.min(LOCAL_CREDITS, this.credits) : this.credits;
  }

  /** Grants the initial credits; call when the task is ready to receive. */
  open(): void {
    for (const ch of this.channels) this.plane.grantCredit(ch.spec.id, this.creditsOf(ch));
  }

  /**
   * The next item from an unblocked channel; undefined if none. Of the channels with something
   * queued, the one whose head is earliest in event time (see `headTime`; ties round robin), unless
   * another has been passed over MAX_PASSED_OVER times in a row.
   *
   * Why event time: the senders of a keyed stage (one per source subtask) run thousands of records
   * apart, and a round robin over their batches let records of one time meet state written by
   * records of a later time from the other channel first (Nexmark q4 at parallelism 2: about a
   * third of the bids reached the join before their auction and waited in state). Taking the
   * earliest batch first is a merge by event time at batch granularity; the sender that is ahead is
   * back-pressured, as Flink's watermark alignment pauses the source that is ahead. A watermark,
   * barrier or end at a channel's head goes first, which also shortens barrier alignment.
   */
  poll(): GateItem | undefined {
    const n = this.channels.length;
    let best: InputChannel | undefined;
    let bestTime = Infinity;
    for (let k = 0; k < n; k++) {
      const i = (this.cursor + k) % n;
      const ch = this.channels[i]!;
      if (!ch.available) continue;
      if (ch.passedOver >= MAX_PASSED_OVER) {
        best = ch;
        break;
      }
      const t = ch.headTime();
      if (best === undefined || t < bestTime) {
        best = ch;
        bestTime = t;
      }
    }
    if (best === undefined) {
      this.meter?.idle();
      return undefined;
    }
    for (const ch of this.channels) if (ch !== best && ch.available) ch.passedOver++;
    best.passedOver = 0;
    this.cursor = (best.index + 1) % n;
    const item = best.take();
    if (item.kind === 'batch') {
      best.recordsTaken += item.values.length;
      if (this.meter) this.measure(item.values.length);
    }
    return item;
  }

  private measure(records: number): void {
    const sample = this.meter!.took(records);
    if (sample === undefined) return;
    const size = this.debloater!.onSample(sample);
    if (size !== undefined) for (const ch of this.channels) this.plane.announceBatchSize(ch.spec.id, size);
  }

  /** The task finished processing a batch from `channel`: the sender may send another. */
  processed(channel: number): void {
    const ch = this.channels[channel]!;
    ch.batchesQueued--;
    this.plane.grantCredit(ch.spec.id, 1, ch.recordsTaken);
  }

  inputIndexOf(channel: number): 0 | 1 {
    return this.channels[channel]!.spec.inputIndex;
  }

  block(channel: number): void {
    this.channels[channel]!.blocked = true;
  }

  unblockAll(): void {
    for (const ch of this.channels) ch.blocked = false;
  }

  get hasAvailable(): boolean {
    for (const ch of this.channels) if (ch.available) return true;
    return false;
  }

  /** Most unprocessed batches any channel held at once. */
  get maxQueuedBatches(): number {
    let m = 0;
    for (const ch of this.channels) m = Math.max(m, ch.maxBatchesQueued);
    return m;
  }
}
