/**
 * The Kafka source in running jobs against librdkafka's mock cluster (test/services/kafka.sh):
 * partition discovery while the job runs, rescaling from a savepoint, offsets committed to the group
 * only when checkpoints complete, and the errors a user sees.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type JobHandle, MiniCluster } from 'weir';
import { kafkaSource, type KafkaPartitionSplit } from 'weir/kafka';
import job, { type PipeParams } from '../../chaos/jobs/kafka-pipe.ts';
import sourceJob from './source-job.ts';
import windowJob from './window-job.ts';
import { SourceHarness } from '../../harness/source-harness.ts';
import { committedValues, createNamedTopic, createTopic, kafka, kafkaEnv, produceJson, readLog, withProducer } from './mock.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-kafka-streaming-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const { brokers } = kafkaEnv();
const out = (ids: number[]) => ids.map((id) => JSON.stringify({ id, doubled: id * 2 })).sort();
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

function cluster(name: string): MiniCluster {
  return new MiniCluster({
    workers: 2,
    workDir: path.join(root, name, 'work'),
    checkpoints: { intervalMs: 100, storage: { kind: 'local', dir: path.join(root, name, 'checkpoints') } },
  });
}

async function waitForCommitted(topic: string, count: number, handle: JobHandle): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    const got = committedValues(await readLog(topic)).sort();
    if (got.length >= count) return got;
    if (handle.status !== 'running') throw new Error(`job ${handle.status} with ${got.length} of ${count} records committed`);
    if (attempt > 2000) throw new Error(`only ${got.length} of ${count} records committed`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Kafka source in running jobs', () => {
  it('partition discovery picks up a topic created while the job runs', async () => {
    const prefix = `disc-${process.pid}-${Date.now() % 1e6}`;
    await createNamedTopic(`${prefix}-a`, 2);
    await produceJson(`${prefix}-a`, 2, range(100).map((id) => ({ id })));
    const outTopic = await createTopic('disc-out', 2);
    const params: PipeParams = { brokers, topicPattern: `${prefix}-.*`, discoveryMs: 100, outTopic, guarantee: 'exactly-once', transactionalIdPrefix: `disc-${outTopic}` };
    const handle = await cluster('discovery').submit(job, { params, parallelism: 2 });
    try {
      await waitForCommitted(outTopic, 100, handle);
      await createNamedTopic(`${prefix}-b`, 3);
      await produceJson(`${prefix}-b`, 3, range(60, 100).map((id) => ({ id })));
      expect(await waitForCommitted(outTopic, 160, handle)).toEqual(out(range(160)));
    } finally {
      await handle.cancel();
    }
  });

  it('each partition makes its own watermark from Kafka timestamps; an idle partition stops holding it back', async () => {
    const inTopic = await createTopic('wm-in', 2);
    const outTopic = await createTopic('wm-out', 1);
    // Partition 0 gets records at 100, 200 and 1100 ms; partition 1 gets none: until it is idle its
    // watermark (none yet) holds the window [0, 1000) back.
    await withProducer((pr) => pr.send({ topic: inTopic, messages: [100, 200, 1100].map((ts, id) => ({ value: JSON.stringify({ id }), partition: 0, timestamp: String(ts) })) }));
    const handle = await cluster('watermarks').submit(windowJob, { params: { brokers, inTopic, outTopic, idleMs: 200 }, parallelism: 1 });
    try {
      expect(await waitForCommitted(outTopic, 1, handle)).toEqual([JSON.stringify({ start: 0, count: 2 })]);
    } finally {
      await handle.cancel();
    }
  });

  it('a bounded Kafka -> Kafka job with the exactly-once sink commits everything when it ends', async () => {
    const inTopic = await createTopic('bounded-in', 4);
    const outTopic = await createTopic('bounded-out', 2);
    await produceJson(inTopic, 4, range(200).map((id) => ({ id })));
    const params: PipeParams = { brokers, inTopic, outTopic, bounded: true, guarantee: 'exactly-once', transactionalIdPrefix: `bounded-${outTopic}` };
    const handle = await cluster('bounded').submit(job, { params, parallelism: 2 });
    await handle.result();
    expect(handle.status).toBe('finished');
    expect(committedValues(await readLog(outTopic)).sort()).toEqual(out(range(200)));
  });

  it('rescaled from a savepoint (2 -> 3 readers) loses and repeats nothing', async () => {
    const inTopic = await createTopic('rescale-in', 4);
    const outTopic = await createTopic('rescale-out', 3);
    const params: PipeParams = { brokers, inTopic, outTopic, guarantee: 'exactly-once', transactionalIdPrefix: `rescale-${outTopic}` };
    await produceJson(inTopic, 4, range(300).map((id) => ({ id })));
    const first = await cluster('rescale').submit(job, { params, parallelism: 2 });
    await waitForCommitted(outTopic, 300, first);
    const savepoint = await first.stopWithSavepoint();
    await first.result();
    // Written while no job runs: only the resumed job can read these.
    await produceJson(inTopic, 4, range(300, 300).map((id) => ({ id })), 300);
    const second = await cluster('rescale').submit(job, { params, parallelism: 3, restoreFrom: savepoint });
    try {
      expect(await waitForCommitted(outTopic, 600, second)).toEqual(out(range(600)));
    } finally {
      await second.cancel();
    }
  });

  it('commits offsets to the consumer group only when a checkpoint completes', async () => {
    const topic = await createTopic('group', 2);
    const groupId = `weir-${topic}`;
    await produceJson(topic, 2, range(40).map((id) => ({ id })));
    const h = await new SourceHarness(kafkaSource({ brokers, topics: [topic], groupId, maxWaitMs: 50, partitionDiscoveryIntervalMs: 0 }), 1).start();
    const admin = kafka().admin();
    await admin.connect();
    const groupOffsets = async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.map((p) => Number(p.offset)).sort();
    try {
      while (h.emitted().length < 40) {
        if (h.poll(0) === 'wait') await h.readers[0]!.available();
      }
      const snap = h.snapshot(1);
      const splits = h.readers[0]!.snapshotState(1) as KafkaPartitionSplit[];
      expect(splits.map((s) => s.offset)).toEqual([20, 20]);
      expect(snap.checkpointId).toBe(1);
      expect(await groupOffsets()).toEqual([-1, -1]); // snapshot taken, checkpoint not complete
      await h.readers[0]!.notifyCheckpointComplete!(1);
      for (let i = 0; i < 200 && (await groupOffsets()).join() !== '20,20'; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await groupOffsets()).toEqual([20, 20]);
    } finally {
      await admin.disconnect();
      await h.close();
    }
  });

  it("startingOffsets 'committed' starts at the group's offsets", async () => {
    const topic = await createTopic('committed', 2);
    const groupId = `weir-${topic}`;
    await produceJson(topic, 2, range(20).map((id) => ({ id })));
    const { ClusterFetcher } = await import('../../../connectors/kafka/client.ts');
    const fetcher = new ClusterFetcher({ brokers }, { maxWaitMs: 50, maxBytes: 1 << 20, maxPartitionBytes: 1 << 20, readCommitted: true });
    await fetcher.commitOffsets(groupId, [{ topic, partition: 0, offset: 6 }, { topic, partition: 1, offset: 8 }]);
    await fetcher.close();
    const result = await new MiniCluster({ workers: 1 }).execute(sourceJob, { params: { brokers, topics: [topic], groupId, startingOffsets: 'committed', bounded: true }, parallelism: 2 });
    const { events } = await import('./source-job.ts');
    // partition 0 holds even ids (offset k = id 2k), partition 1 odd ones
    const expected = [...range(10).filter((k) => k >= 6).map((k) => 2 * k), ...range(10).filter((k) => k >= 8).map((k) => 2 * k + 1)].sort((a, b) => a - b);
    expect(result.get(events).map((e) => e.id).sort((a, b) => a - b)).toEqual(expected);
  });
});

describe('Kafka errors', () => {
  it('an unreachable broker: the error lists the brokers tried', async () => {
    const bad = ['127.0.0.1:1', '127.0.0.1:2'];
    const h = new SourceHarness(kafkaSource({ brokers: bad, topics: ['t'], retries: 0, connectionTimeoutMs: 200, bounded: true }), 1);
    await h.start();
    expect(h.errors.map((e) => e.message).join('\n')).toMatch(/could not reach any Kafka broker of 127\.0\.0\.1:1, 127\.0\.0\.1:2/);
    await h.close();
  });

  it('an unknown topic is named', async () => {
    const h = new SourceHarness(kafkaSource({ brokers, topics: ['no-such-topic-weir'], bounded: true }), 1);
    await h.start();
    expect(h.errors.map((e) => e.message).join('\n')).toMatch(/Kafka topic 'no-such-topic-weir' does not exist/);
    await h.close();
  });

  it('a bad deserializer option is a ConfigError listing the valid ones', () => {
    expect(() => kafkaSource({ brokers, topics: ['t'], deserializer: 'xml' as 'json' })).toThrow(/deserializer: is "xml"; valid: 'json', 'string', 'bytes', \{ avro: <schema> \}/);
    expect(() => kafkaSource({ brokers, topics: ['t'], deserializer: { avro: { type: 'nope' } } })).toThrow(/not a valid Avro schema/);
  });

  it('an offset out of range names the offsetReset fallback, and offsetReset earliest goes on', async () => {
    const topic = await createTopic('oor', 1);
    await produceJson(topic, 1, range(5).map((id) => ({ id })));
    const failing = new SourceHarness(kafkaSource({ brokers, topics: [topic], startingOffsets: { offsets: { [topic]: { 0: 50 } } }, maxWaitMs: 50, partitionDiscoveryIntervalMs: 0 }), 1);
    await failing.start();
    await expect(failing.drain(0, 50)).rejects.toThrow(new RegExp(`offset 50 of Kafka partition ${topic}-0 is out of range \\(the partition holds offsets 0 to 5\\).*offsetReset, which is 'none'`));
    await failing.close();
    const reset = new SourceHarness(kafkaSource({ brokers, topics: [topic], startingOffsets: { offsets: { [topic]: { 0: 50 } } }, offsetReset: 'earliest', maxWaitMs: 50, partitionDiscoveryIntervalMs: 0 }), 1);
    await reset.start();
    while (reset.emitted().length < 5) if (reset.poll(0) === 'wait') await reset.readers[0]!.available();
    expect(reset.emitted().map((e) => (e.value as { id: number }).id)).toEqual(range(5));
    await reset.close();
  });

  it("'committed' without an offset and offsetReset 'none' names the fallback", async () => {
    const topic = await createTopic('nocommit', 1);
    const h = new SourceHarness(kafkaSource({ brokers, topics: [topic], groupId: `g-${topic}`, startingOffsets: 'committed', bounded: true }), 1);
    await h.start();
    expect(h.errors.map((e) => e.message).join('\n')).toMatch(/no committed offset in group 'g-.*'.*fallback startingOffsets uses then is offsetReset, which is 'none'/);
    await h.close();
  });
});
