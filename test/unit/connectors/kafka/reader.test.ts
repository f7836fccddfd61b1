/** The Kafka source reader against an in-memory fetcher: buffering, positions, bounded ends, resets, commits. */
import { describe, expect, it } from 'vitest';
import type { FetchRequest, FetchedMessage, KafkaMetadataClient, PartitionFetch, PartitionFetcher } from '../../../../connectors/kafka/client.ts';
import { jsonDeserializer } from '../../../../connectors/kafka/deserializers.ts';
import { KafkaSourceReader } from '../../../../connectors/kafka/reader.ts';
import { resolveSourceOptions, type KafkaSourceOptions } from '../../../../connectors/kafka/source-options.ts';
import type { KafkaPartitionSplit } from '../../../../connectors/kafka/split.ts';
import type { ReaderOutput, SplitOutput } from '../../../../runtime/source/contract.ts';

/** Partitions as arrays of values (offset = index from `earliest`); `gaps` are offsets of filtered records (markers). */
class FakeFetcher implements PartitionFetcher {
  logs = new Map<string, { earliest: number; values: (string | null)[] }>();
  requests: FetchRequest[][] = [];
  commits: { groupId: string; offsets: FetchRequest[] }[] = [];
  perFetch = 3;
  async fetch(requests: readonly FetchRequest[]): Promise<PartitionFetch[]> {
    this.requests.push([...requests]);
    await Promise.resolve();
    const out: PartitionFetch[] = [];
    for (const r of requests) {
      const log = this.logs.get(`${r.topic}-${r.partition}`)!;
      const end = log.earliest + log.values.length;
      if (r.offset < log.earliest || r.offset > end) throw Object.assign(new Error('out of range'), { name: 'KafkaJSOffsetOutOfRange', topic: r.topic, partition: r.partition });
      const messages: FetchedMessage[] = [];
      let o = r.offset;
      for (; o < end && messages.length < this.perFetch; o++) {
        const v = log.values[o - log.earliest];
        if (v === null) continue; // a transaction marker: filtered, but the position moves past it
        messages.push({ offset: String(o), key: null, value: Buffer.from(v!), timestamp: String(1000 + o) });
      }
      out.push({ topic: r.topic, partition: r.partition, messages, nextOffset: o, highWatermark: end });
    }
    // nothing new anywhere: a long poll would wait at the broker; here the loop just comes back
    if (out.every((p) => p.messages.length === 0 && p.nextOffset === requests.find((q) => q.partition === p.partition && q.topic === p.topic)!.offset)) await new Promise((r) => setTimeout(r, 5));
    return out;
  }
  async commitOffsets(groupId: string, offsets: readonly FetchRequest[]) {
    this.commits.push({ groupId, offsets: [...offsets] });
  }
  async close() {}
}

class Output implements ReaderOutput<{ id: number }> {
  emitted: { split: string; id: number; ts: number | undefined }[] = [];
  released: string[] = [];
  forSplit(split: string): SplitOutput<{ id: number }> {
    return { collect: (v, ts) => void this.emitted.push({ split, id: v.id, ts }) };
  }
  releaseSplit(split: string) {
    this.released.push(split);
  }
}

const json = (ids: number[]) => ids.map((id) => JSON.stringify({ id }));

function reader(fetcher: FakeFetcher, o: Partial<KafkaSourceOptions<unknown>> = {}, ranges?: KafkaMetadataClient) {
  const settings = resolveSourceOptions({ brokers: ['fake:1'], topics: ['t'], bufferRecordsPerPartition: 4, ...o } as KafkaSourceOptions<unknown>);
  return new KafkaSourceReader<{ id: number }>(settings, jsonDeserializer(), fetcher, ranges ? () => ranges : undefined);
}

const split = (partition: number, offset: number, stoppingOffset?: number): KafkaPartitionSplit => ({ id: `t-${partition}`, topic: 't', partition, offset, ...(stoppingOffset === undefined ? {} : { stoppingOffset }) });

async function pollUntil(r: KafkaSourceReader<{ id: number }>, out: Output, done: () => boolean, max = 2) {
  for (let i = 0; i < 10_000 && !done(); i++) {
    const status = r.poll(out, max);
    if (status === 'end') return 'end';
    if (status === 'wait') await r.available();
  }
  return 'more';
}

describe('Kafka source reader', () => {
  it('emits each record once in offset order per partition, with its Kafka timestamp; poll never waits', async () => {
    const f = new FakeFetcher();
    f.logs.set('t-0', { earliest: 0, values: json([0, 2, 4, 6, 8, 10, 12]) });
    f.logs.set('t-1', { earliest: 0, values: json([1, 3, 5]) });
    const r = reader(f);
    const out = new Output();
    expect(r.poll(out, 10)).toBe('wait'); // nothing buffered yet: returns at once
    r.addSplits([split(0, 0), split(1, 0)]);
    expect(r.poll(out, 10)).toBe('wait');
    await pollUntil(r, out, () => out.emitted.length === 10);
    expect(out.emitted.filter((e) => e.split === 't-0').map((e) => e.id)).toEqual([0, 2, 4, 6, 8, 10, 12]);
    expect(out.emitted.filter((e) => e.split === 't-1').map((e) => e.id)).toEqual([1, 3, 5]);
    expect(out.emitted.find((e) => e.id === 4)!.ts).toBe(1002);
    expect(r.snapshotState(1).map((s) => s.offset)).toEqual([7, 3]);
    await r.close();
  });

  it('the checkpointed position is the next record to emit, not what is buffered; a restore goes on from it', async () => {
    const f = new FakeFetcher();
    f.logs.set('t-0', { earliest: 0, values: json([0, 1, 2, 3, 4, 5, 6, 7]) });
    const first = reader(f);
    const out = new Output();
    first.addSplits([split(0, 0)]);
    await pollUntil(first, out, () => out.emitted.length >= 3, 3);
    const snap = first.snapshotState(1);
    expect(snap[0]!.offset).toBe(out.emitted.length);
    await first.close();
    const second = reader(f);
    second.addSplits(snap);
    await pollUntil(second, out, () => out.emitted.length >= 8);
    expect(out.emitted.map((e) => e.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await second.close();
  });

  it('bounded: a split ends at its stopping offset, also when the last records before it are filtered markers', async () => {
    const f = new FakeFetcher();
    f.logs.set('t-0', { earliest: 0, values: [...json([0, 1, 2]), null, null, ...json([5])] });
    f.logs.set('t-1', { earliest: 0, values: json([10, 11]) });
    const r = reader(f, { bounded: true });
    const out = new Output();
    r.addSplits([split(0, 0, 5), split(1, 1, 2)]);
    r.notifyNoMoreSplits();
    expect(await pollUntil(r, out, () => false)).toBe('end');
    expect(out.emitted.map((e) => e.id).sort((a, b) => a - b)).toEqual([0, 1, 2, 11]);
    expect(out.released.sort()).toEqual(['t-0', 't-1']);
    await r.close();
  });

  it('buffers at most about bufferRecordsPerPartition records per partition (fetching pauses for a full one)', async () => {
    const f = new FakeFetcher();
    f.logs.set('t-0', { earliest: 0, values: json(Array.from({ length: 40 }, (_, i) => i)) });
    const r = reader(f);
    r.addSplits([split(0, 0)]);
    await r.available();
    while (f.requests.length < 2) await Promise.resolve();
    for (let i = 0; i < 50; i++) await Promise.resolve(); // the fake answers within microtasks: a third fetch would have started
    // 4 records per partition at most, fetched 3 at a time: two fetches, then it waits for poll
    expect(f.requests.length).toBe(2);
    const out = new Output();
    r.poll(out, 100);
    await pollUntil(r, out, () => out.emitted.length === 40, 100);
    expect(out.emitted.map((e) => e.id)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await r.close();
  });

  it('an out-of-range position goes to the earliest offset with offsetReset earliest', async () => {
    const f = new FakeFetcher();
    f.logs.set('t-0', { earliest: 100, values: json([100, 101]) });
    const ranges: KafkaMetadataClient = {
      listTopics: async () => ['t'],
      partitions: async () => new Map([['t', [0]]]),
      ranges: async () => [{ partition: 0, earliest: 100, latest: 102 }],
      offsetsForTimestamp: async () => new Map(),
      committedOffsets: async () => new Map(),
      close: async () => {},
    };
    const r = reader(f, { offsetReset: 'earliest' }, ranges);
    const out = new Output();
    r.addSplits([split(0, 3)]);
    await pollUntil(r, out, () => out.emitted.length === 2);
    expect(out.emitted.map((e) => e.id)).toEqual([100, 101]);
    const failing = reader(f, {}, ranges);
    failing.addSplits([split(0, 3)]);
    await failing.available();
    expect(() => failing.poll(new Output(), 10)).toThrow(/offset 3 of Kafka partition t-0 is out of range \(the partition holds offsets 100 to 102\)/);
    await r.close();
    await failing.close();
  });

  it('a record that does not deserialize fails with its topic, partition and offset', async () => {
    const f = new FakeFetcher();
    f.logs.set('t-0', { earliest: 0, values: [JSON.stringify({ id: 0 }), '{oops'] });
    const r = reader(f);
    r.addSplits([split(0, 0)]);
    const out = new Output();
    await expect(pollUntil(r, out, () => false)).rejects.toThrow(/could not deserialize the Kafka record at t-0 offset 1: .*JSON/);
    expect(out.emitted.map((e) => e.id)).toEqual([0]);
    await r.close();
  });

  it("commits a checkpoint's offsets to the group only when that checkpoint completes", async () => {
    const f = new FakeFetcher();
    f.logs.set('t-0', { earliest: 0, values: json([0, 1, 2, 3, 4, 5]) });
    const r = reader(f, { groupId: 'g' });
    const out = new Output();
    r.addSplits([split(0, 0)]);
    await pollUntil(r, out, () => out.emitted.length >= 2, 2);
    r.snapshotState(1);
    await pollUntil(r, out, () => out.emitted.length >= 6, 2);
    r.snapshotState(2);
    expect(f.commits).toEqual([]);
    r.notifyCheckpointComplete(1);
    await r.close(); // waits for the commit in flight
    expect(f.commits).toEqual([{ groupId: 'g', offsets: [{ topic: 't', partition: 0, offset: 2 }] }]);
  });

  it('takes turns over its partitions, so that one with much buffered does not run ahead', async () => {
    const f = new FakeFetcher();
    f.logs.set('t-0', { earliest: 0, values: json([0, 2, 4, 6]) });
    f.logs.set('t-1', { earliest: 0, values: json([1, 3, 5, 7]) });
    const r = reader(f);
    r.addSplits([split(0, 0), split(1, 0)]);
    const out = new Output();
    // wait until both have records buffered, then poll one record at a time
    while (out.emitted.length === 0) {
      await r.available();
      await new Promise((res) => setImmediate(res));
      if (f.requests.length >= 2) r.poll(out, 1);
    }
    while (out.emitted.length < 6) if (r.poll(out, 1) === 'wait') await r.available();
    const splits = out.emitted.map((e) => e.split);
    for (let i = 1; i < 6; i++) expect(splits[i]).not.toBe(splits[i - 1]);
    await r.close();
  });
});
