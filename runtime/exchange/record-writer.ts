/**
 * Partitions one output edge's records over its channels (ordered by receiving subtask) and
 * batches them per channel: forward, rebalance (round robin), hash by key group, broadcast.
 * Full batches go out at once; partial ones when the task flushes (idle, buffer timeout, before
 * an event), so batches are large under load and latency stays low when traffic is light.
 * A channel's receiver may ask for smaller batches (buffer debloating: `OutputChannel.batchLimit`).
 *
 * A hash (keyBy) edge computes each record's key group to pick its channel and sends it along with
 * the record, so the keyed operator downstream does not hash the key again (Operator.processBatch).
 */
import { keyGroupOf, subtaskForKeyGroup } from '../../state/key-groups.ts';
import { WeirError } from '../errors.ts';
import type { Partitioning } from '../graph/stream-graph.ts';
import type { ChannelEvent } from './channel-event.ts';
import type { OutputChannel } from './output-channel.ts';

export class RecordWriter {
  private values: unknown[][];
  private times: number[][];
  /** Per channel, the key group of each buffered record (hash edges with more than one channel only). */
  private keyGroups: number[][] | undefined;
  private next = 0;
  /** The end of input was sent: a record written now could never be delivered. */
  private ended = false;
  recordsOut = 0;

  constructor(
    private readonly partitioning: Partitioning,
    readonly channels: readonly OutputChannel[],
    private readonly batchSize: number,
    private readonly maxParallelism: number,
    /** The operator whose output this is, named in errors (a record the exchange cannot carry). */
    private readonly producer?: string,
  ) {
    this.values = channels.map(() => []);
    this.times = channels.map(() => []);
    if (partitioning.kind === 'hash' && channels.length > 1) this.keyGroups = channels.map(() => []);
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
        const vss = this.values;
        const tss = this.times;
        const kgss = this.keyGroups!;
        for (let i = 0; i < n; i++) {
          const v = values[i];
          const kg = keyGroupOf(key(v), maxP);
          const c = subtaskForKeyGroup(kg, nc, maxP);
          const vs = vss[c]!;
          vs.push(v);
          tss[c]!.push(times[i]!);
          kgss[c]!.push(kg);
          if (vs.length >= this.batchSize || vs.length >= this.channels[c]!.batchLimit) this.flushChannel(c);
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
          this.push(c, values[i], times[i]!);
          if (++c === nc) c = 0;
        }
        this.next = c;
      }
    }
  }

  private push(c: number, v: unknown, t: number): void {
    const vs = this.values[c]!;
    vs.push(v);
    this.times[c]!.push(t);
    if (vs.length >= this.batchSize || vs.length >= this.channels[c]!.batchLimit) this.flushChannel(c);
  }

  private append(c: number, values: readonly unknown[], times: ArrayLike<number>, from: number, to: number): void {
    let vs = this.values[c]!;
    let ts = this.times[c]!;
    const asked = this.channels[c]!.batchLimit;
    const limit = asked < this.batchSize ? asked : this.batchSize;
    for (let i = from; i < to; i++) {
      vs.push(values[i]);
      ts.push(times[i]!);
      if (vs.length >= limit) {
        this.flushChannel(c);
        vs = this.values[c]!;
        ts = this.times[c]!;
      }
    }
  }

  private flushChannel(c: number): void {
    const vs = this.values[c]!;
    if (vs.length === 0) return;
    const kgs = this.keyGroups;
    try {
      this.channels[c]!.sendBatch(vs, this.times[c]!, kgs?.[c]);
    } catch (e) {
      if (e instanceof WeirError && this.producer !== undefined) e.withOperator(this.producer);
      throw e;
    }
    this.values[c] = [];
    this.times[c] = [];
    if (kgs) kgs[c] = [];
  }

  /** Sends every partial batch. */
  flush(): void {
    for (let c = 0; c < this.channels.length; c++) this.flushChannel(c);
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

  get hasBacklog(): boolean {
    for (const ch of this.channels) if (ch.hasBacklog) return true;
    return false;
  }

  get hasBuffered(): boolean {
    for (const vs of this.values) if (vs.length > 0) return true;
    return false;
  }
}
