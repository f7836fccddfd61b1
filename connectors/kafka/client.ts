/**
 * The kafkajs parts the connector uses, in one place.
 *
 * kafkajs' consumer reads only through a consumer group (no `assign()`, kafkajs issue #373), but Weir's
 * enumerator decides which reader reads which partition. So the readers talk to the brokers one level
 * down, through kafkajs' own `Cluster` (metadata, leaders, connections, retries) and `Broker.fetch`,
 * and filter fetched batches with kafkajs' `Batch` (aborted transactions, control records), as its
 * consumer does; offsets are committed with OffsetCommit at generation -1, as a Java consumer using
 * `assign()` does. These modules are kafkajs internals (`kafkajs/src/...`, CommonJS, no types); the
 * small interfaces below are all this connector relies on (written against kafkajs 2.2.4; the integration tests exercise every one of them). The admin
 * client (offsets, metadata) and the non-transactional producer are kafkajs' public API.
 */
import { createRequire } from 'node:module';
import { Kafka, logLevel, type Admin, type KafkaConfig } from 'kafkajs';
import { KafkaTopicNotFoundError, KafkaUnreachableError } from './errors.ts';

const require = createRequire(import.meta.url);

export interface KafkaConnectionOptions {
  brokers: readonly string[];
  clientId?: string;
  /** Milliseconds to connect to a broker (default 3000). */
  connectionTimeoutMs?: number;
  /** Milliseconds per request (default 30000). */
  requestTimeoutMs?: number;
  /** Retries of a failed request before the call fails (default 5). */
  retries?: number;
  /** kafkajs' own log output (default: errors only). */
  logLevel?: 'nothing' | 'error' | 'warn' | 'info' | 'debug';
}

const LOG_LEVELS = { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG };

export function kafkaConfig(o: KafkaConnectionOptions): KafkaConfig {
  return {
    brokers: [...o.brokers],
    clientId: o.clientId ?? 'weir',
    connectionTimeout: o.connectionTimeoutMs ?? 3000,
    requestTimeout: o.requestTimeoutMs ?? 30000,
    retry: { retries: o.retries ?? 5, initialRetryTime: 100, maxRetryTime: 2000 },
    logLevel: LOG_LEVELS[o.logLevel ?? 'nothing'],
  };
}

/** A message as kafkajs decodes it from a fetch response. */
export interface FetchedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers?: Record<string, Buffer | Buffer[] | undefined>;
}

interface PartitionData {
  partition: number;
  highWatermark: string;
  messages: FetchedMessage[];
}

export interface InternalBroker {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: PartitionData[] }[] }>;
  endTxn(request: { transactionalId: string; producerId: string; producerEpoch: number; transactionResult: boolean }): Promise<unknown>;
  offsetCommit(request: { groupId: string; groupGenerationId: number; memberId: string; topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<unknown>;
}

export interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(o: { nodeId: string }): Promise<InternalBroker>;
  findGroupCoordinator(o: { groupId: string; coordinatorType?: number }): Promise<InternalBroker>;
  retry: unknown;
}

interface InternalBatch {
  messages: FetchedMessage[];
  /** The last offset the fetch covered, filtered records included (a string). */
  lastOffset(): string;
  isEmptyIncludingFiltered(): boolean;
}

type ClusterConstructor = new (o: Record<string, unknown>) => InternalCluster;
type BatchConstructor = new (topic: string, fetchedOffset: string, partitionData: PartitionData) => InternalBatch;

const Cluster = require('kafkajs/src/cluster/index.js') as ClusterConstructor;
const Batch = require('kafkajs/src/consumer/batch.js') as BatchConstructor;
const loggers = require('kafkajs/src/loggers/index.js') as { createLogger(o: { level: number; logCreator: unknown }): unknown };
const LoggerConsole = require('kafkajs/src/loggers/console.js') as unknown;
const socketFactory = require('kafkajs/src/network/socketFactory.js') as () => unknown;

/** kafkajs' cluster (connections, metadata, retries) with the connector's settings. */
export function createCluster(connection: KafkaConnectionOptions, extra: { allowAutoTopicCreation: boolean; isolationLevel?: number }): InternalCluster {
  const config = kafkaConfig(connection);
  return new Cluster({
    logger: createKafkaLogger(connection),
    socketFactory: socketFactory(),
    brokers: config.brokers,
    clientId: config.clientId,
    connectionTimeout: config.connectionTimeout,
    requestTimeout: config.requestTimeout,
    enforceRequestTimeout: true,
    retry: config.retry,
    ...extra,
  });
}

export function createKafkaLogger(connection: KafkaConnectionOptions): unknown {
  return loggers.createLogger({ level: kafkaConfig(connection).logLevel!, logCreator: LoggerConsole });
}

/** What one fetch returned for one partition. */
export interface PartitionFetch {
  topic: string;
  partition: number;
  /** Records to emit, in offset order (aborted transactions and control records taken out). */
  messages: FetchedMessage[];
  /** Where the next fetch starts (past filtered records too). */
  nextOffset: number;
  highWatermark: number;
}

export interface FetchRequest {
  topic: string;
  partition: number;
  offset: number;
}

/** A reader's connection: fetches given partitions at given offsets, commits group offsets. */
export interface PartitionFetcher {
  fetch(requests: readonly FetchRequest[]): Promise<PartitionFetch[]>;
  commitOffsets(groupId: string, offsets: readonly FetchRequest[]): Promise<void>;
  close(): Promise<void>;
}

export interface FetchSettings {
  maxWaitMs: number;
  maxBytes: number;
  maxPartitionBytes: number;
  readCommitted: boolean;
}

/** The fetcher over kafkajs' cluster: one fetch request per leader broker, in parallel. */
export class ClusterFetcher implements PartitionFetcher {
  private readonly cluster: InternalCluster;
  private connected: Promise<void> | undefined;
  private readonly topics = new Set<string>();

  constructor(
    private readonly connection: KafkaConnectionOptions,
    private readonly settings: FetchSettings,
  ) {
    this.cluster = createCluster(connection, { allowAutoTopicCreation: false, isolationLevel: settings.readCommitted ? 1 : 0 });
  }

  private async ready(topics: Iterable<string>): Promise<void> {
    this.connected ??= this.cluster.connect().catch((e: unknown) => {
      this.connected = undefined;
      throw new KafkaUnreachableError(this.connection.brokers, e);
    });
    await this.connected;
    const fresh = [...topics].filter((t) => !this.topics.has(t));
    if (fresh.length > 0) {
      await this.cluster.addMultipleTargetTopics(fresh);
      for (const t of fresh) this.topics.add(t);
    }
  }

  async fetch(requests: readonly FetchRequest[]): Promise<PartitionFetch[]> {
    await this.ready(requests.map((r) => r.topic));
    const byLeader = new Map<string, FetchRequest[]>();
    for (const r of requests) {
      const leaders = this.cluster.findLeaderForPartitions(r.topic, [r.partition]);
      const nodeId = Object.keys(leaders)[0];
      if (nodeId === undefined) {
        await this.cluster.refreshMetadata();
        continue; // no leader known now: asked again with the next fetch
      }
      let list = byLeader.get(nodeId);
      if (!list) byLeader.set(nodeId, (list = []));
      list.push(r);
    }
    try {
      const results = await Promise.all([...byLeader].map(([nodeId, list]) => this.fetchFrom(nodeId, list)));
      return results.flat();
    } catch (e) {
      // A moved leader, a broker gone, a deleted topic: look again before the reader retries.
      if ((e as { name?: string }).name !== 'KafkaJSOffsetOutOfRange') await this.cluster.refreshMetadata().catch(() => {});
      throw e;
    }
  }

  private async fetchFrom(nodeId: string, requests: FetchRequest[]): Promise<PartitionFetch[]> {
    const broker = await this.cluster.findBroker({ nodeId });
    const topics = new Map<string, { partition: number; fetchOffset: string; maxBytes: number }[]>();
    const offsets = new Map<string, number>();
    for (const r of requests) {
      let parts = topics.get(r.topic);
      if (!parts) topics.set(r.topic, (parts = []));
      parts.push({ partition: r.partition, fetchOffset: String(r.offset), maxBytes: this.settings.maxPartitionBytes });
      offsets.set(`${r.topic}\0${r.partition}`, r.offset);
    }
    const { responses } = await broker.fetch({
      replicaId: -1,
      isolationLevel: this.settings.readCommitted ? 1 : 0,
      maxWaitTime: this.settings.maxWaitMs,
      minBytes: 1,
      maxBytes: this.settings.maxBytes,
      topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
    });
    const out: PartitionFetch[] = [];
    for (const { topicName, partitions } of responses) {
      for (const data of partitions) {
        const fetched = offsets.get(`${topicName}\0${data.partition}`)!;
        const batch = new Batch(topicName, String(fetched), data);
        const nextOffset = batch.isEmptyIncludingFiltered() ? fetched : Number(batch.lastOffset()) + 1;
        out.push({ topic: topicName, partition: data.partition, messages: batch.messages, nextOffset, highWatermark: Number(data.highWatermark) });
      }
    }
    return out;
  }

  async commitOffsets(groupId: string, offsets: readonly FetchRequest[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.ready([]);
    const topics = new Map<string, { partition: number; offset: string }[]>();
    for (const o of offsets) {
      let parts = topics.get(o.topic);
      if (!parts) topics.set(o.topic, (parts = []));
      parts.push({ partition: o.partition, offset: String(o.offset) });
    }
    const coordinator = await this.cluster.findGroupCoordinator({ groupId });
    // Generation -1 and no member: the group has no members (readers never join it), as with a Java
    // consumer that uses assign(); the broker stores the offsets for monitoring tools and `committed` starts.
    await coordinator.offsetCommit({ groupId, groupGenerationId: -1, memberId: '', topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) });
  }

  async close(): Promise<void> {
    await this.cluster.disconnect();
  }
}

/** Earliest and latest offset of a partition. */
export interface PartitionRange {
  partition: number;
  earliest: number;
  latest: number;
}

/** What the enumerator asks Kafka: topics, partitions and offsets (kafkajs' admin client). */
export interface KafkaMetadataClient {
  listTopics(): Promise<string[]>;
  /** Partition numbers of each topic; a topic that does not exist is a KafkaTopicNotFoundError. */
  partitions(topics: readonly string[]): Promise<Map<string, number[]>>;
  ranges(topic: string): Promise<PartitionRange[]>;
  /** The first offset with a timestamp >= `timestamp`, per partition (the latest offset where none is). */
  offsetsForTimestamp(topic: string, timestamp: number): Promise<Map<number, number>>;
  /** The group's committed offsets (partitions without one are missing). */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, number>>;
  close(): Promise<void>;
}

export class AdminMetadataClient implements KafkaMetadataClient {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(private readonly connection: KafkaConnectionOptions) {
    this.admin = new Kafka(kafkaConfig(connection)).admin();
  }

  private ready(): Promise<void> {
    this.connected ??= this.admin.connect().catch((e: unknown) => {
      this.connected = undefined;
      throw new KafkaUnreachableError(this.connection.brokers, e);
    });
    return this.connected;
  }

  async listTopics(): Promise<string[]> {
    await this.ready();
    return (await this.admin.listTopics()).filter((t) => !t.startsWith('__'));
  }

  async partitions(topics: readonly string[]): Promise<Map<string, number[]>> {
    await this.ready();
    const out = new Map<string, number[]>();
    for (const topic of topics) {
      try {
        const { topics: meta } = await this.admin.fetchTopicMetadata({ topics: [topic] });
        out.set(topic, meta[0]!.partitions.map((p) => p.partitionId).sort((a, b) => a - b));
      } catch (e) {
        if ((e as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION' || /does not host this topic/.test(String((e as Error).message))) {
          throw new KafkaTopicNotFoundError(topic, this.connection.brokers);
        }
        throw e;
      }
    }
    return out;
  }

  async ranges(topic: string): Promise<PartitionRange[]> {
    await this.ready();
    return (await this.admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, earliest: Number(o.low), latest: Number(o.high) }));
  }

  async offsetsForTimestamp(topic: string, timestamp: number): Promise<Map<number, number>> {
    await this.ready();
    const [byTime, ranges] = await Promise.all([this.admin.fetchTopicOffsetsByTimestamp(topic, timestamp), this.ranges(topic)]);
    const latest = new Map(ranges.map((r) => [r.partition, r.latest]));
    return new Map(byTime.map((o) => [o.partition, Number(o.offset) < 0 ? latest.get(o.partition)! : Number(o.offset)]));
  }

  async committedOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    await this.ready();
    const [res] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    const out = new Map<number, number>();
    for (const p of res?.partitions ?? []) if (Number(p.offset) >= 0) out.set(p.partition, Number(p.offset));
    return out;
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect();
  }
}
