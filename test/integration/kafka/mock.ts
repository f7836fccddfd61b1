/**
 * The Kafka mock cluster of test/services/kafka.sh, for tests: its brokers, topics created through
 * its control port (the mock has no CreateTopics), and a producer and reader for test data.
 */
import net from 'node:net';
import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';

export function kafkaEnv(): { brokers: string[]; control: string } {
  const brokers = process.env.KAFKA_BROKERS;
  const control = process.env.KAFKA_MOCK_CONTROL;
  if (!brokers || !control) {
    throw new Error('KAFKA_BROKERS / KAFKA_MOCK_CONTROL are not set: run the tests with `npm test` (it starts test/services/kafka.sh) or export the lines `bash test/services/kafka.sh start` prints');
  }
  return { brokers: brokers.split(','), control };
}

function controlCommand(line: string): Promise<string> {
  const [host, port] = kafkaEnv().control.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host!, () => socket.write(`${line}\n`));
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString();
      if (answer.includes('\n')) {
        socket.end();
        resolve(answer.trim());
      }
    });
    socket.on('error', reject);
  });
}

let seq = 0;

/** Creates a topic with a fresh name (unique per process and call) and `partitions` partitions. */
export async function createTopic(prefix: string, partitions: number): Promise<string> {
  const topic = `${prefix}-${process.pid}-${Date.now() % 1e6}-${++seq}`;
  await createNamedTopic(topic, partitions);
  return topic;
}

export async function createNamedTopic(topic: string, partitions: number): Promise<void> {
  const answer = await controlCommand(`create ${topic} ${partitions}`);
  if (answer !== 'ok') throw new Error(`creating topic ${topic} on the Kafka mock: ${answer}`);
}

export function kafka(): Kafka {
  return new Kafka({ brokers: kafkaEnv().brokers, logLevel: logLevel.NOTHING, clientId: 'weir-test' });
}

export async function withProducer<R>(fn: (p: Producer) => Promise<R>): Promise<R> {
  const producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    return await fn(producer);
  } finally {
    await producer.disconnect();
  }
}

/** Writes `values` as JSON, value i to partition i % partitions (keys 'k<i>'). */
export async function produceJson(topic: string, partitions: number, values: readonly unknown[], from = 0): Promise<void> {
  await withProducer(async (p) => {
    for (let i = 0; i < values.length; i += 500) {
      const messages = values.slice(i, i + 500).map((v, j) => ({ key: `k${from + i + j}`, value: JSON.stringify(v), partition: (from + i + j) % partitions }));
      await p.send({ topic, messages, acks: -1 });
    }
  });
}

/** Every record of `topic` (read_uncommitted: the mock does not filter aborted ones either way), as strings, by partition. */
export async function readAll(topic: string): Promise<{ partition: number; offset: number; key: string | null; value: string | null }[]> {
  const admin = kafka().admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((n, e) => n + Number(e.high) - Number(e.low), 0);
  const out: { partition: number; offset: number; key: string | null; value: string | null }[] = [];
  if (total === 0) return out;
  const consumer = kafka().consumer({ groupId: `reader-${process.pid}-${++seq}`, maxWaitTimeInMs: 100, readUncommitted: true });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    let seen = 0;
    const highs = new Map(ends.map((e) => [e.partition, Number(e.high)]));
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          const offset = Number(message.offset);
          if (offset < highs.get(partition)!) {
            out.push({ partition, offset, key: message.key?.toString() ?? null, value: message.value?.toString() ?? null });
            seen++;
          }
          if (seen >= total) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out;
}
