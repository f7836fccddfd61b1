/** The Kafka split enumerator and starting-offset resolution, against an in-memory metadata client. */
import { describe, expect, it } from 'vitest';
import type { KafkaMetadataClient, PartitionRange } from '../../../../connectors/kafka/client.ts';
import { INITIAL_ENUMERATOR_STATE, KafkaSplitEnumerator, resolveStartingOffsets, type KafkaEnumeratorState } from '../../../../connectors/kafka/enumerator.ts';
import { KafkaTopicNotFoundError } from '../../../../connectors/kafka/errors.ts';
import { resolveSourceOptions, type KafkaSourceOptions } from '../../../../connectors/kafka/source-options.ts';
import { ownerOf, type KafkaPartitionSplit } from '../../../../connectors/kafka/split.ts';
import type { SplitEnumeratorContext } from '../../../../runtime/source/contract.ts';

/** Topics with partitions holding offsets [earliest, latest); committed offsets per group. */
class FakeMetadata implements KafkaMetadataClient {
  topics = new Map<string, PartitionRange[]>();
  committed = new Map<string, Map<number, number>>();
  async listTopics() {
    return [...this.topics.keys()];
  }
  async partitions(topics: readonly string[]) {
    const out = new Map<string, number[]>();
    for (const t of topics) {
      const ps = this.topics.get(t);
      if (!ps) throw new KafkaTopicNotFoundError(t, ['fake:9092']);
      out.set(t, ps.map((p) => p.partition));
    }
    return out;
  }
  async ranges(topic: string) {
    return this.topics.get(topic)!;
  }
  async offsetsForTimestamp(topic: string, timestamp: number) {
    // offset = timestamp / 10 within the range (a record every 10 ms from 0)
    return new Map(this.topics.get(topic)!.map((r) => [r.partition, Math.min(r.latest, Math.max(r.earliest, Math.ceil(timestamp / 10)))]));
  }
  async committedOffsets(groupId: string, topic: string) {
    return this.committed.get(`${groupId}/${topic}`) ?? new Map();
  }
  async close() {}
}

function topic(partitions: number, earliest = 0, latest = 100): PartitionRange[] {
  return Array.from({ length: partitions }, (_, partition) => ({ partition, earliest, latest }));
}

/** A context that records assignments and runs async work when told to. */
class FakeContext implements SplitEnumeratorContext<KafkaPartitionSplit> {
  readonly assigned = new Map<number, KafkaPartitionSplit[]>();
  readonly noMore = new Set<number>();
  readonly readers = new Set<number>();
  work: { run: () => Promise<void>; periodMs?: number }[] = [];
  constructor(readonly parallelism: number) {}
  registeredReaders() {
    return this.readers;
  }
  assignSplits(subtask: number, splits: readonly KafkaPartitionSplit[]) {
    this.assigned.set(subtask, [...(this.assigned.get(subtask) ?? []), ...splits]);
  }
  signalNoMoreSplits(subtask: number) {
    this.noMore.add(subtask);
  }
  callAsync<R>(work: () => Promise<R>, handle: (r: R) => void, periodMs?: number) {
    this.work.push({ run: async () => handle(await work()), periodMs });
  }
  async discover() {
    for (const w of this.work) await w.run();
  }
  all(): KafkaPartitionSplit[] {
    return [...this.assigned.values()].flat().sort((a, b) => a.id.localeCompare(b.id));
  }
}

function settings(o: Partial<KafkaSourceOptions<unknown>>) {
  return resolveSourceOptions({ brokers: ['fake:9092'], ...o } as KafkaSourceOptions<unknown>);
}

function enumerator(ctx: FakeContext, meta: FakeMetadata, o: Partial<KafkaSourceOptions<unknown>>, state: KafkaEnumeratorState = INITIAL_ENUMERATOR_STATE) {
  const e = new KafkaSplitEnumerator(ctx, settings(o), () => meta, state);
  e.start();
  for (let r = 0; r < ctx.parallelism; r++) {
    ctx.readers.add(r);
    e.addReader(r);
  }
  return e;
}

describe('Kafka split enumerator', () => {
  it('gives every partition to its owner, once, starting at the configured offsets', async () => {
    const meta = new FakeMetadata();
    meta.topics.set('orders', topic(4, 10, 50));
    const ctx = new FakeContext(3);
    enumerator(ctx, meta, { topics: ['orders'], startingOffsets: 'earliest' });
    await ctx.discover();
    expect(ctx.all().map((s) => [s.id, s.offset])).toEqual([['orders-0', 10], ['orders-1', 10], ['orders-2', 10], ['orders-3', 10]]);
    for (const [reader, splits] of ctx.assigned) for (const s of splits) expect(ownerOf(s, 3)).toBe(reader);
    // 4 partitions over 3 readers: 2, 1, 1
    expect([...ctx.assigned.values()].map((s) => s.length).sort()).toEqual([1, 1, 2]);
  });

  it('unbounded: discovery adds new partitions and topics from their earliest offset, never one twice', async () => {
    const meta = new FakeMetadata();
    meta.topics.set('logs-a', topic(2, 0, 100));
    const ctx = new FakeContext(2);
    enumerator(ctx, meta, { topicPattern: 'logs-.*', startingOffsets: 'latest', partitionDiscoveryIntervalMs: 1000 });
    expect(ctx.work[0]!.periodMs).toBe(1000);
    await ctx.discover();
    expect(ctx.all().map((s) => [s.id, s.offset])).toEqual([['logs-a-0', 100], ['logs-a-1', 100]]);
    meta.topics.set('logs-a', topic(3, 0, 100)); // a partition added
    meta.topics.set('logs-b', topic(1, 5, 9)); // a topic created
    meta.topics.set('other', topic(1));
    await ctx.discover();
    await ctx.discover();
    expect(ctx.all().map((s) => [s.id, s.offset])).toEqual([['logs-a-0', 100], ['logs-a-1', 100], ['logs-a-2', 0], ['logs-b-0', 5]]);
    expect(ctx.noMore.size).toBe(0);
  });

  it('bounded: stops at the latest offsets of the start and says no more splits', async () => {
    const meta = new FakeMetadata();
    meta.topics.set('t', topic(2, 0, 30));
    const ctx = new FakeContext(2);
    enumerator(ctx, meta, { topics: ['t'], bounded: true });
    expect(ctx.work[0]!.periodMs).toBeUndefined();
    await ctx.discover();
    expect(ctx.all().map((s) => [s.offset, s.stoppingOffset])).toEqual([[0, 30], [0, 30]]);
    expect([...ctx.noMore].sort()).toEqual([0, 1]);
  });

  it('a restored enumerator hands out what it had pending and does not rediscover known partitions', async () => {
    const meta = new FakeMetadata();
    meta.topics.set('t', topic(4));
    const ctx = new FakeContext(2);
    const e = new KafkaSplitEnumerator(ctx, settings({ topics: ['t'], partitionDiscoveryIntervalMs: 10 }), () => meta, INITIAL_ENUMERATOR_STATE);
    e.start();
    ctx.readers.add(0);
    e.addReader(0); // reader 1 has not registered: its partitions stay pending
    await ctx.discover();
    const state = e.snapshotState();
    const ownedBy1 = ['t-0', 't-1', 't-2', 't-3'].filter((id) => ownerOf({ topic: 't', partition: Number(id.slice(2)) }, 2) === 1);
    expect(ownedBy1.length).toBeGreaterThan(0);
    expect(state.pending.map((s) => s.id).sort()).toEqual(ownedBy1);
    expect(state.known.sort()).toEqual(['t-0', 't-1', 't-2', 't-3']);
    const ctx2 = new FakeContext(2);
    enumerator(ctx2, meta, { topics: ['t'], partitionDiscoveryIntervalMs: 10 }, structuredClone(state));
    await ctx2.discover();
    const firstRun = [...ctx.assigned.values()].flat().map((s) => s.id);
    const secondRun = ctx2.all().map((s) => s.id);
    expect([...firstRun, ...secondRun].sort()).toEqual(['t-0', 't-1', 't-2', 't-3']);
  });

  it('an unknown topic fails discovery with its name', async () => {
    const ctx = new FakeContext(1);
    const e = new KafkaSplitEnumerator(ctx, settings({ topics: ['missing'] }), () => new FakeMetadata(), INITIAL_ENUMERATOR_STATE);
    await expect(e.discover()).rejects.toThrow(/Kafka topic 'missing' does not exist on fake:9092/);
  });
});

describe('starting offsets', () => {
  const meta = new FakeMetadata();
  meta.topics.set('t', topic(3, 10, 40));
  meta.committed.set('g/t', new Map([[0, 25], [2, 12]]));

  it('earliest, latest, timestamp', async () => {
    expect([...(await resolveStartingOffsets(meta, 't', [0, 1], 'earliest', 'none', undefined)).values()]).toEqual([10, 10]);
    expect([...(await resolveStartingOffsets(meta, 't', [0, 1], 'latest', 'none', undefined)).values()]).toEqual([40, 40]);
    expect([...(await resolveStartingOffsets(meta, 't', [0], { timestamp: 200 }, 'none', undefined)).values()]).toEqual([20]);
  });

  it('committed, with the offsetReset fallback where the group has none', async () => {
    expect([...(await resolveStartingOffsets(meta, 't', [0, 1, 2], 'committed', 'latest', 'g')).entries()]).toEqual([[0, 25], [1, 40], [2, 12]]);
    expect([...(await resolveStartingOffsets(meta, 't', [1], 'committed', 'earliest', 'g')).values()]).toEqual([10]);
    await expect(resolveStartingOffsets(meta, 't', [1], 'committed', 'none', 'g')).rejects.toThrow(/t-1 has no committed offset in group 'g'.*offsetReset, which is 'none'/);
  });

  it('explicit per partition, the fallback for partitions not listed', async () => {
    const spec = { offsets: { t: { 0: 33 } } };
    expect([...(await resolveStartingOffsets(meta, 't', [0, 1], spec, 'earliest', undefined)).entries()]).toEqual([[0, 33], [1, 10]]);
    await expect(resolveStartingOffsets(meta, 't', [1], spec, 'none', undefined)).rejects.toThrow(/t-1 has no offset in startingOffsets.offsets/);
  });
});

describe('source options', () => {
  it('are checked with the setting named', () => {
    expect(() => settings({ topics: ['a'], topicPattern: 'b' })).toThrow(/set exactly one of topics and topicPattern/);
    expect(() => settings({ topics: ['a'], startingOffsets: 'committed' })).toThrow(/'committed', which needs groupId/);
    expect(() => settings({ topics: ['a'], startingOffsets: 'newest' as 'latest' })).toThrow(/startingOffsets: is "newest"; valid: 'earliest', 'latest', 'committed'/);
    expect(() => settings({ topics: ['a'], offsetReset: 'smallest' as 'earliest' })).toThrow(/offsetReset: is "smallest"/);
    expect(() => settings({ topics: ['a'], maxWaitMs: -1 })).toThrow(/maxWaitMs: is -1/);
    expect(() => resolveSourceOptions({ brokers: [], topics: ['a'] })).toThrow(/brokers: must list at least one broker/);
  });
});
