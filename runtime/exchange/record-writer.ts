/**
 * Partitions one output edge's records over its channels (ordered by receiving subtask) and
 * batches them per channel: forward, rebalance (round robin), hash by key group, broadcast.
 * Full batches go out at once; partial ones when the task flushes (idle, buffer timeout, before
 * an event), so batches are large under load and latency stays low when traffic is light.
 * A channel's receiver may ask for smaller batches (buffer debloating: `OutputChannel.batchLimit`).
 *
 * A hash (keyBy) edge computes each record's key group to pick its channel and sends it, and the
 * key hash it was cut from, along with the record, so the keyed operator downstream and its state
 * backend do not hash the key again (Operator.processBatch).
 */
import { keyGroupHash, keyGroupOfHash, subtaskForKeyGroup } from '../../state/key-groups.ts';
import { WeirError } from '../errors.ts';
import type { Partitioning } from '../graph/stream-graph.ts';
import type { ChannelEvent } from './channel-event.ts';
import type { OutputChannel } from './output-channel.ts';

/**
 * One channel's batch being filled. Its arrays are sized for the whole batch up front (the size of
 * the last batch sent, at most the channel's limit): filling an array by push from empty
 * reallocates it about log(n) times, some 30 bytes per record and array.
 */
export class PendingBatch {
  /** Times any pending batch outgrew its arrays, in this thread (tests: steady batches never do). */
  static growths = 0;
  /** Times a batch's typed arrays took the next batch after it was encoded and sent, in this thread (tests). */
  static reuses = 0;
  values: unknown[];
  times: Float64Array;
  keyGroups: Int32Array | undefined;
  /** Each record's keyGroupHash (keyed batches only). */
  keyHashes: Int32Array | undefined;
  n = 0;

  constructor(capacity: number, keyed: boolean) {
    this.values = new Array(capacity);
    this.times = new Float64Array(capacity);
    this.keyGroups = keyed ? new Int32Array(capacity) : undefined;
    this.keyHashes = keyed ? new Int32Array(capacity) : undefined;
  }

  /** A batch larger than the last one: doubles the typed arrays (the values array grows by itself). */
  grow(): void {
    PendingBatch.growths++;
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
    if (this.keyGroups) {
      const kgs = new Int32Array(times.length);
      kgs.set(this.keyGroups);
      this.keyGroups = kgs;
      const hashes = new Int32Array(times.length);
      hashes.set(this.keyHashes!);
      this.keyHashes = hashes;
    }
  }
}

/** Smallest and largest arrays a pending batch starts with (V8 makes very long `new Array(n)` slow dictionaries). */
const MIN_CAPACITY = 16;
const MAX_CAPACITY = 16_384;

export class RecordWriter {
  private pending: PendingBatch[];
  /** Hash edges with more than one channel send each record's key group along. */
  private readonly keyed: boolean;
  private next = 0;
  /** Hash edges: the channel of each key group (subtaskForKeyGroup, computed once). */
  private channelOfKeyGroup: Int32Array | undefined;
  /** The end of input was sent: a record written now could never be delivered. */
  private ended = false;
  recordsOut = 0;
  /** Batches each channel sent since the last flushMostlyFull. */
  private readonly sentInStep: Uint8Array;

  constructor(
    private readonly partitioning: Partitioning,
    readonly channels: readonly OutputChannel[],
    private readonly batchSize: number,
    private readonly maxParallelism: number,
    /** The operator whose output this is, named in errors (a record the exchange cannot carry). */
    private readonly producer?: string,
  ) {
    this.keyed = partitioning.kind === 'hash' && channels.length > 1;
    this.pending = channels.map(() => new PendingBatch(MIN_CAPACITY, this.keyed));
    this.sentInStep = new Uint8Array(channels.length);
  }

  write(values: readonly unknown[], times: ArrayLike<number>): void {
    if (this.ended) this.writeAfterEnd();
    const n = values.length;
    this.recordsOut += n;
    const p = this.partitioning;
    const nc = this.channels.length;
    if (nc === 1 && p.kind !== 'broadcast') {
      this.append(0, values, times, 0, n);
      return;
    }
    switch (p.kind) {
      case 'hash': {
        const key = p.key;
        const maxP = this.maxParallelism;
        const channelOf = (this.channelOfKeyGroup ??= Int32Array.from({ length: maxP }, (_, kg) => subtaskForKeyGroup(kg, nc, maxP)));
        for (let i = 0; i < n; i++) {
          const v = values[i];
          const h = keyGroupHash(key(v));
          const kg = keyGroupOfHash(h, maxP);
          this.push(channelOf[kg]!, v, times[i]!, kg, h);
        }
        return;
      }
      case 'broadcast':
        for (let c = 0; c < nc; c++) this.append(c, values, times, 0, n);
        return;
      default: {
        // rebalance (forward and auto with one channel were handled above)
        let c = this.next;
        for (let i = 0; i < n; i++) {
          this.push(c, values[i], times[i]!, 0, 0);
          if (++c === nc) c = 0;
        }
        this.next = c;
      }
    }
  }

  private limit(c: number): number {
    const asked = this.channels[c]!.batchLimit;
    return asked < this.batchSize ? asked : this.batchSize;
  }

  private push(c: number, v: unknown, t: number, keyGroup: number, keyHash: number): void {
    const b = this.pending[c]!;
    const i = b.n++;
    b.values[i] = v;
    if (i >= b.times.length) b.grow();
    b.times[i] = t;
    if (b.keyGroups) {
      b.keyGroups[i] = keyGroup;
      b.keyHashes![i] = keyHash;
    }
    if (b.n >= this.limit(c)) this.flushChannel(c);
  }

  private append(c: number, values: readonly unknown[], times: ArrayLike<number>, from: number, to: number): void {
    let limit = this.limit(c);
    let b = this.pending[c]!;
    for (let i = from; i < to; i++) {
      const j = b.n++;
      b.values[j] = values[i];
      if (j >= b.times.length) b.grow();
      b.times[j] = times[i]!;
      if (b.n >= limit) {
        this.flushChannel(c);
        b = this.pending[c]!;
        limit = this.limit(c);
      }
    }
  }

  private flushChannel(c: number): void {
    const b = this.pending[c]!;
    const n = b.n;
    if (n === 0) return;
    const { values } = b;
    this.sentInStep[c] = 1;
    const full = values.length === n;
    if (!full) values.length = n;
    let encoded: boolean;
    try {
      encoded = this.channels[c]!.sendBatch(values, b.times.subarray(0, n), b.keyGroups?.subarray(0, n), b.keyHashes?.subarray(0, n));
    } catch (e) {
      if (e instanceof WeirError && this.producer !== undefined) e.withOperator(this.producer);
      throw e;
    }
    const limit = this.limit(c);
    if (encoded && full && n <= limit) {
      // Encoded and sent (another worker): its typed arrays (times, key groups and hashes: memory outside the
      // JS heap, zeroed on allocation) take the next batch. The values array is new: a reused one
      // would soon be in the old generation, and each record stored into it would then go through
      // the write barrier (exchange CPU about 15% higher measured so).
      b.values = new Array(n);
      b.n = 0;
      PendingBatch.reuses++;
      return;
    }
    // The next batch is likely the size of this one (full under load, small when traffic is light).
    const capacity = n > limit ? limit : n;
    this.pending[c] = new PendingBatch(capacity < MIN_CAPACITY ? MIN_CAPACITY : capacity > MAX_CAPACITY ? MAX_CAPACITY : capacity, this.keyed);
  }

  /** Sends every partial batch. */
  flush(): void {
    for (let c = 0; c < this.channels.length; c++) this.flushChannel(c);
  }

  /**
   * Ends a source's step: sends the partial batch of each channel that sent none during the step and
   * is at least half full. A step polls about one batch per channel, but a hash edge splits it
   * unevenly, so a channel's batch could be left nearly full, its records alive until the next step
   * filled it. A channel that sent a batch in the step keeps its rest (its batches stay full).
   */
  flushMostlyFull(): void {
    const sent = this.sentInStep;
    for (let c = 0; c < this.channels.length; c++) {
      if (sent[c] === 0 && this.pending[c]!.n * 2 >= this.limit(c)) this.flushChannel(c);
      sent[c] = 0;
    }
  }

  /** Flushes, then sends the event on every channel (watermarks and barriers go to all). */
  broadcastEvent(event: ChannelEvent): void {
    this.flush();
    for (const ch of this.channels) ch.sendEvent(event);
    if (event.kind === 'end') this.ended = true;
  }

  private writeAfterEnd(): never {
    const err = new WeirError(
      'a record was emitted after the end of input was sent downstream, where it could never arrive: emit what is left in endInput ' +
        '(processing-time timers do not fire after the end of input, as in Flink)',
      { domain: 'user' },
    );
    throw this.producer === undefined ? err : err.withOperator(this.producer);
  }

  /**
   * Records one step of the task may emit on this edge so that each channel gets about one batch
   * of the smallest size its receivers asked for (a source polls this many, so what it holds back
   * stays about one batch per channel).
   */
  get stepRecords(): number {
    let min = this.batchSize;
    for (const ch of this.channels) if (ch.batchLimit < min) min = ch.batchLimit;
    return this.partitioning.kind === 'broadcast' ? min : min * this.channels.length;
  }

  /** Every channel would send a batch at once (see OutputChannel.canSendNow). */
  get canSendNow(): boolean {
    for (const ch of this.channels) if (!ch.canSendNow) return false;
    return true;
  }

  get hasBacklog(): boolean {
    for (const ch of this.channels) if (ch.hasBacklog) return true;
    return false;
  }

  get hasBuffered(): boolean {
    for (const b of this.pending) if (b.n > 0) return true;
    return false;
  }
}
