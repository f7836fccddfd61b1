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

/** A record as stored in the log, with what read_committed filtering needs. */
export interface LogRecord {
  partition: number;
  offset: number;
  value: string | null;
  producerId: string;
  inTransaction: boolean;
  /** A transaction marker: this producer's open transaction ends here. */
  control?: 'commit' | 'abort';
}

interface RawMessage {
  offset: string;
  value: Buffer | null;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext?: { producerId: string; inTransaction: boolean; isControlBatch: boolean };
}

/**
 * Every record of `topic` with its producer and transaction markers, read with raw fetches (no
 * filtering). The mock answers read_committed fetches with aborted records and no aborted-transaction
 * list, so tests apply read_committed themselves with `committedValues`.
 */
export async function readLog(topic: string): Promise<LogRecord[]> {
  const { createCluster } = await import('../../../connectors/kafka/client.ts');
  const cluster = createCluster({ brokers: kafkaEnv().brokers }, { allowAutoTopicCreation: false });
  await cluster.connect();
  const out: LogRecord[] = [];
  try {
    const admin = kafka().admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    await cluster.addMultipleTargetTopics([topic]);
    for (const end of ends) {
      const high = Number(end.high);
      let offset = Number(end.low);
      while (offset < high) {
        const leaders = cluster.findLeaderForPartitions(topic, [end.partition]);
        const broker = await cluster.findBroker({ nodeId: Object.keys(leaders)[0]! });
        const { responses } = (await broker.fetch({
          replicaId: -1,
          isolationLevel: 0,
          maxWaitTime: 50,
          minBytes: 1,
          maxBytes: 4 << 20,
          topics: [{ topic, partitions: [{ partition: end.partition, fetchOffset: String(offset), maxBytes: 4 << 20 }] }],
        })) as unknown as { responses: { partitions: { messages: RawMessage[] }[] }[] };
        const messages = responses[0]!.partitions[0]!.messages.filter((m) => Number(m.offset) >= offset);
        if (messages.length === 0) break;
        for (const m of messages) {
          const ctx = m.batchContext!;
          const record: LogRecord = { partition: end.partition, offset: Number(m.offset), value: m.value?.toString() ?? null, producerId: ctx.producerId, inTransaction: ctx.inTransaction };
          // A control record's key is version (int16) then type (int16): 0 abort, 1 commit.
          if (ctx.isControlBatch) record.control = m.key!.readInt16BE(2) === 1 ? 'commit' : 'abort';
          out.push(record);
          offset = Number(m.offset) + 1;
        }
      }
    }
  } finally {
    await cluster.disconnect();
  }
  return out;
}

/** What a read_committed consumer would see: non-transactional records and those of committed transactions. */
export function committedValues(log: readonly LogRecord[]): string[] {
  const out: string[] = [];
  const open = new Map<string, string[]>(); // partition/producer -> values of its open transaction
  for (const r of log) {
    const k = `${r.partition}/${r.producerId}`;
    if (r.control) {
      if (r.control === 'commit') out.push(...(open.get(k) ?? []));
      open.delete(k);
    } else if (!r.inTransaction) out.push(r.value!);
    else {
      let list = open.get(k);
      if (!list) open.set(k, (list = []));
      list.push(r.value!);
    }
  }
  return out;
}
