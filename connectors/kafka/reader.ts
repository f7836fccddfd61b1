/**
 * The Kafka source's reader: reads exactly the partitions its enumerator assigned. A background loop
 * fetches every partition whose buffer has room (one request per leader broker, long-polling up to
 * maxWaitMs) and buffers the records; `poll` only emits what is buffered, so the task loop never
 * waits for Kafka. Each split's `offset` is the next offset to emit: what the checkpoint stores and
 * a restore reads from. Offsets go to the consumer group only when a checkpoint completes.
 */
import { BadRecordError, WeirError, describeRecord } from '../../runtime/errors.ts';
import type { PollStatus, ReaderOutput, SourceReader } from '../../runtime/source/contract.ts';
import { AdminMetadataClient, type FetchedMessage, type FetchRequest, type KafkaMetadataClient, type PartitionFetcher } from './client.ts';
import type { KafkaDeserializer, KafkaRecord } from './deserializers.ts';
import { KafkaError, KafkaOffsetOutOfRangeError, causeText } from './errors.ts';
import type { ResolvedSourceOptions } from './source-options.ts';
import type { KafkaPartitionSplit } from './split.ts';

interface SplitState {
  split: KafkaPartitionSplit;
  /** Where the next fetch starts: past what is buffered, and past filtered records (transaction markers). */
  fetchOffset: number;
  buffer: FetchedMessage[];
  head: number;
}

/** Consecutive failed fetches (after kafkajs' own retries) before the task fails. */
const MAX_FETCH_FAILURES = 5;

export function toKafkaRecord(topic: string, partition: number, m: FetchedMessage): KafkaRecord {
  return { topic, partition, offset: Number(m.offset), timestamp: Number(m.timestamp), key: m.key, value: m.value, headers: m.headers ?? {} };
}

/** The error a record that does not deserialize fails the job with (or is dead-lettered with). */
export function deserializationError(record: KafkaRecord, cause: unknown): BadRecordError {
  const value = record.value === null ? 'null' : describeRecord(record.value.toString('utf8'), 120);
  return new BadRecordError(
    `could not deserialize the Kafka record at ${record.topic}-${record.partition} offset ${record.offset}: ${causeText(cause)} (value ${value})`,
    `${record.topic}-${record.partition}@${record.offset}`,
  );
}

export class KafkaSourceReader<T> implements SourceReader<T, KafkaPartitionSplit> {
  private readonly splits = new Map<string, SplitState>();
  private noMoreSplits = false;
  private failure: Error | undefined;
  private closed = false;
  private looping = false;
  private wakeFetcher: (() => void) | undefined;
  private wakeTask: (() => void) | undefined;
  private waiting: Promise<void> | undefined;
  private failures = 0;
  private turn = 0;
  private metadata: KafkaMetadataClient | undefined;
  /** Offsets taken at each checkpoint, committed to the group when it completes. */
  private readonly offsetsAt = new Map<number, FetchRequest[]>();
  private committing: Promise<void> = Promise.resolve();

  constructor(
    private readonly settings: ResolvedSourceOptions,
    private readonly deserialize: KafkaDeserializer<T>,
    private readonly fetcher: PartitionFetcher,
    private readonly createMetadataClient: () => KafkaMetadataClient = () => new AdminMetadataClient(settings.connection),
  ) {}

  addSplits(splits: readonly KafkaPartitionSplit[]): void {
    for (const s of splits) this.splits.set(s.id, { split: { ...s }, fetchOffset: s.offset, buffer: [], head: 0 });
    this.startFetching();
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
    this.signalTask();
  }

  poll(output: ReaderOutput<T>, max: number): PollStatus {
    if (this.failure) throw this.failure;
    let emitted = 0;
    // Start at a different split each poll, so that one busy partition does not run ahead of the others.
    const states = [...this.splits];
    const first = states.length === 0 ? 0 : this.turn++ % states.length;
    for (let k = 0; k < states.length; k++) {
      const [id, s] = states[(first + k) % states.length]!;
      if (emitted >= max) break;
      const stop = s.split.stoppingOffset ?? Infinity;
      if (s.head < s.buffer.length) {
        const out = output.forSplit(id);
        while (s.head < s.buffer.length && emitted < max) {
          const m = s.buffer[s.head++]!;
          const offset = Number(m.offset);
          if (offset >= stop) {
            s.head = s.buffer.length;
            break;
          }
          const record = toKafkaRecord(s.split.topic, s.split.partition, m);
          let value: T;
          try {
            value = this.deserialize(record);
          } catch (e) {
            throw e instanceof WeirError ? e : deserializationError(record, e);
          }
          s.split.offset = offset + 1;
          out.collect(value, record.timestamp);
          emitted++;
        }
      }
      if (s.head >= s.buffer.length) {
        // Drained: what lies between the last record and the next fetch was filtered (markers, aborted records).
        s.buffer = [];
        s.head = 0;
        if (s.fetchOffset > s.split.offset) s.split.offset = Math.min(s.fetchOffset, stop);
        if (s.split.offset >= stop) {
          output.releaseSplit(id);
          this.splits.delete(id);
        }
      }
    }
    this.wakeFetcher?.();
    if (emitted > 0) return 'more';
    if (this.splits.size === 0 && this.noMoreSplits) return 'end';
    for (const s of this.splits.values()) if (s.head < s.buffer.length || (s.split.stoppingOffset !== undefined && s.split.offset >= s.split.stoppingOffset)) return 'more';
    return 'wait';
  }

  available(): Promise<void> {
    if (this.failure || this.hasBuffered() || (this.noMoreSplits && this.splits.size === 0)) return Promise.resolve();
    return (this.waiting ??= new Promise<void>((resolve) => (this.wakeTask = resolve)));
  }

  snapshotState(checkpointId: number): KafkaPartitionSplit[] {
    const splits = [...this.splits.values()].map((s) => ({ ...s.split }));
    if (this.settings.commitOffsets) this.offsetsAt.set(checkpointId, splits.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.offset })));
    return splits;
  }

  /** Commits the completed checkpoint's offsets to the group, in the background (for monitoring only). */
  notifyCheckpointComplete(checkpointId: number): void {
    const offsets = this.offsetsAt.get(checkpointId);
    for (const id of [...this.offsetsAt.keys()]) if (id <= checkpointId) this.offsetsAt.delete(id);
    if (!offsets || !this.settings.groupId) return;
    const groupId = this.settings.groupId;
    // A failed commit is not a failure of the job: the checkpoint holds the offsets; the next one commits again.
    this.committing = this.committing.then(() => this.fetcher.commitOffsets(groupId, offsets)).catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeFetcher?.();
    await this.committing;
    await this.fetcher.close().catch(() => {});
    await this.metadata?.close().catch(() => {});
  }

  private hasBuffered(): boolean {
    for (const s of this.splits.values()) if (s.head < s.buffer.length) return true;
    return false;
  }

  private signalTask(): void {
    const wake = this.wakeTask;
    this.wakeTask = undefined;
    this.waiting = undefined;
    wake?.();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.signalTask();
  }

  private startFetching(): void {
    if (this.looping || this.closed) {
      this.wakeFetcher?.();
      return;
    }
    this.looping = true;
    void this.fetchLoop().catch((e: unknown) => this.fail(e instanceof Error ? e : new Error(String(e))));
  }

  /** Splits whose buffer has room and which have more to read. */
  private wanted(): SplitState[] {
    const out: SplitState[] = [];
    for (const s of this.splits.values()) {
      if (s.buffer.length - s.head >= this.settings.bufferRecords) continue;
      if (s.split.stoppingOffset !== undefined && s.fetchOffset >= s.split.stoppingOffset) continue;
      out.push(s);
    }
    return out;
  }

  private async fetchLoop(): Promise<void> {
    while (!this.closed && !this.failure) {
      const wanted = this.wanted();
      if (wanted.length === 0) {
        await new Promise<void>((resolve) => (this.wakeFetcher = resolve));
        this.wakeFetcher = undefined;
        continue;
      }
      const requests = wanted.map((s) => ({ topic: s.split.topic, partition: s.split.partition, offset: s.fetchOffset }));
      let results;
      try {
        results = await this.fetcher.fetch(requests);
        this.failures = 0;
      } catch (e) {
        if (this.closed) return;
        await this.handleFetchError(e, wanted);
        continue;
      }
      let delivered = false;
      for (const r of results) {
        const s = this.splits.get(`${r.topic}-${r.partition}`);
        const asked = requests.find((q) => q.topic === r.topic && q.partition === r.partition);
        if (!s || !asked || s.fetchOffset !== asked.offset) continue;
        if (r.messages.length > 0) {
          if (s.head >= s.buffer.length) {
            s.buffer = r.messages;
            s.head = 0;
          } else s.buffer.push(...r.messages);
          delivered = true;
        }
        if (r.nextOffset > s.fetchOffset) {
          s.fetchOffset = r.nextOffset;
          delivered = true; // also when all was filtered: poll moves the split's offset on (and may finish it)
        }
      }
      if (delivered) this.signalTask();
    }
  }

  private async handleFetchError(e: unknown, wanted: SplitState[]): Promise<void> {
    const err = e as { name?: string; topic?: string; partition?: number };
    if (err.name === 'KafkaJSOffsetOutOfRange' && err.topic !== undefined && err.partition !== undefined) {
      const s = wanted.find((w) => w.split.topic === err.topic && w.split.partition === err.partition);
      if (s) return this.resetOffset(s);
    }
    if (++this.failures >= MAX_FETCH_FAILURES) {
      this.fail(e instanceof WeirError ? e : new KafkaError(`fetching from Kafka failed ${this.failures} times in a row (${causeText(e)}); brokers ${this.settings.connection.brokers.join(', ')}`, { cause: e }));
      return;
    }
    await new Promise((r) => setTimeout(r, 100 * 2 ** this.failures));
  }

  /** The position is out of range: go on from the earliest or latest offset (offsetReset), or fail. */
  private async resetOffset(s: SplitState): Promise<void> {
    const { topic, partition } = s.split;
    this.metadata ??= this.createMetadataClient();
    const range = (await this.metadata.ranges(topic)).find((r) => r.partition === partition);
    const detail = range ? ` (the partition holds offsets ${range.earliest} to ${range.latest})` : '';
    if (this.settings.offsetReset === 'none' || !range) {
      this.fail(new KafkaOffsetOutOfRangeError(topic, partition, s.fetchOffset, detail));
      return;
    }
    const to = this.settings.offsetReset === 'earliest' ? range.earliest : range.latest;
    s.fetchOffset = to;
    if (s.head >= s.buffer.length) s.split.offset = to;
  }
}
