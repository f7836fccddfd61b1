/**
 * The Kafka source against librdkafka's mock cluster (test/services/kafka.sh; KAFKA_BROKERS).
 */
import { describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import job, { deadLettersOut, events, type Event, type SourceParams } from './source-job.ts';
import { createTopic, kafkaEnv, produceJson, withProducer } from './mock.ts';

const { brokers } = kafkaEnv();
const ids = (es: readonly Event[]) => es.map((e) => e.id).sort((a, b) => a - b);
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe('Kafka source', () => {
  for (const parallelism of [2, 3]) {
    it(`reads 4 partitions at parallelism ${parallelism}: every record once (bounded)`, async () => {
      const topic = await createTopic('src', 4);
      await produceJson(topic, 4, range(400).map((id) => ({ id })));
      const p: SourceParams = { brokers, topics: [topic], bounded: true };
      const result = await new MiniCluster({ workers: 2 }).execute(job, { params: p, parallelism });
      expect(ids(result.get(events))).toEqual(range(400));
    });
  }

  it('sends records that do not deserialize to the dead-letter output with topic, partition and offset', async () => {
    const topic = await createTopic('dlq', 2);
    await produceJson(topic, 2, [{ id: 0 }, { id: 1 }, { id: 2 }, { id: 3 }]);
    await withProducer((pr) => pr.send({ topic, messages: [{ value: 'not json {', partition: 1 }] }));
    await produceJson(topic, 2, [{ id: 4 }], 4);
    const result = await new MiniCluster({ workers: 1 }).execute(job, { params: { brokers, topics: [topic], bounded: true, deadLetters: true }, parallelism: 2 });
    expect(ids(result.get(events))).toEqual([0, 1, 2, 3, 4]);
    const dead = result.get(deadLettersOut);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.record.topic).toBe(topic);
    expect(dead[0]!.record.partition).toBe(1);
    expect(dead[0]!.record.offset).toBe(2);
    expect(dead[0]!.error.message).toContain(`${topic}-1 offset 2`);
  });
});
