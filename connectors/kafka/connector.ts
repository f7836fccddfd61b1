/** Kafka in the registry: the source (topics or a pattern) and the sink. */
import type { ConnectorDefinition } from '../connector.ts';

const connection = {
  brokers: { required: true, description: 'bootstrap brokers, host:port' },
  clientId: { description: "client id (default 'weir')" },
  connectionTimeoutMs: { description: 'connect timeout per broker' },
  requestTimeoutMs: { description: 'timeout per request' },
  retries: { description: 'retries of a failed request' },
  logLevel: { description: "kafkajs log output: nothing, error, warn, info, debug (default nothing)" },
} as const;

export const kafkaConnector: ConnectorDefinition = {
  type: 'kafka',
  description: 'Kafka topics (kafkajs): partitions as splits, offsets in checkpoints; sink at-least-once or in transactions',
  source: {
    options: {
      ...connection,
      topics: { description: 'topics to read (or topicPattern)' },
      topicPattern: { description: 'a regular expression: every matching topic, also new ones' },
      groupId: { description: 'consumer group the checkpointed offsets are committed to' },
      startingOffsets: { description: "earliest (default), latest, committed, { timestamp }, { offsets: { topic: { partition: offset } } }" },
      offsetReset: { description: 'earliest, latest or none (default): where to go when an offset is missing or out of range' },
      bounded: { description: 'stop at the offsets that were latest at the start' },
      deserializer: { description: "json (default), string, bytes, { avro: schema }" },
      partitionDiscoveryIntervalMs: { description: 'how often to look for new partitions and topics (default 30000; 0: never)' },
      commitOffsetsOnCheckpoint: { description: 'commit offsets to the group when checkpoints complete (default true with groupId)' },
      readCommitted: { description: 'skip aborted transactional records (default true)' },
      maxWaitMs: { description: 'longest wait of a fetch at the broker (default 500)' },
      maxBytes: { description: 'bytes per fetch' },
      maxPartitionBytes: { description: 'bytes per partition per fetch' },
      bufferRecordsPerPartition: { description: 'records buffered per partition' },
      name: { description: 'source name' },
    },
    async create(o) {
      const { kafkaSource } = await import('./source.ts');
      return kafkaSource(o as unknown as Parameters<typeof kafkaSource>[0]);
    },
  },
  sink: {
    options: {
      ...connection,
      topic: { required: true, description: 'the topic to write to' },
      deliveryGuarantee: { description: 'none, at-least-once (default) or exactly-once' },
      transactionalIdPrefix: { description: 'exactly-once: prefix of the transactional ids, unique per job' },
      transactionTimeoutMs: { description: 'exactly-once: broker-side transaction timeout (default 60000)' },
      keyField: { description: 'the record field whose value is the key (default none)' },
      batchSize: { description: 'records per produce request (default 1000)' },
      name: { description: 'sink name' },
    },
    async create(o) {
      const { kafkaSink } = await import('./sink.ts');
      const { keyField, ...rest } = o as unknown as { keyField?: string } & Parameters<typeof kafkaSink<Record<string, unknown>>>[0];
      const key = keyField === undefined ? undefined : (v: Record<string, unknown>) => (v[keyField] === undefined || v[keyField] === null ? null : String(v[keyField]));
      return kafkaSink<Record<string, unknown>>({ ...rest, key }) as never;
    },
  },
};
