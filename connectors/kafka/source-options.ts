/** The Kafka source's options, their defaults and their checks. */
import { ConfigError } from '../../runtime/errors.ts';
import type { KafkaConnectionOptions } from './client.ts';
import type { DeserializerName, KafkaDeserializer } from './deserializers.ts';

/**
 * Where a partition found at the start is read from (partitions discovered later, while the job
 * runs, are read from their earliest offset: they are new):
 *   'earliest' | 'latest'     the partition's first / next offset
 *   'committed'               the consumer group's committed offset (needs groupId); offsetReset where none is
 *   { timestamp }             the first record at or after this time (ms); the latest offset where none is
 *   { offsets }               explicit per topic and partition; offsetReset for partitions not listed
 * A restored job ignores all of this: its splits' checkpointed offsets are the truth.
 */
export type StartingOffsets = 'earliest' | 'latest' | 'committed' | { timestamp: number } | { offsets: Record<string, Record<number, number>> };

/** What to do when a position has no offset (no committed one) or is out of range: Kafka's auto.offset.reset. */
export type OffsetReset = 'earliest' | 'latest' | 'none';

export type DeserializerOption<T> = DeserializerName | { avro: object | string; confluentFraming?: boolean } | KafkaDeserializer<T>;

export interface KafkaSourceOptions<T> extends KafkaConnectionOptions {
  /** Topics to read (one of topics, topicPattern). */
  topics?: readonly string[];
  /** Every topic whose name matches, also ones created while the job runs (with partition discovery). */
  topicPattern?: RegExp | string;
  /** Consumer group: offsets are committed to it when checkpoints complete (for monitoring), and `committed` starts from it. */
  groupId?: string;
  /** Default 'earliest'. */
  startingOffsets?: StartingOffsets;
  /** Default 'none': fail with the partition and offset. */
  offsetReset?: OffsetReset;
  /** Stop at the offsets that were latest when the job started (backfills, tests). Default false. */
  bounded?: boolean;
  /** Default 'json'. */
  deserializer?: DeserializerOption<T>;
  /** How often to look for new partitions and topics (ms); 0: only at the start. Default 30000; unbounded only. */
  partitionDiscoveryIntervalMs?: number;
  /** Commit the checkpointed offsets to the group when a checkpoint completes. Default true when groupId is set. */
  commitOffsetsOnCheckpoint?: boolean;
  /** Skip records of aborted transactions (read_committed). Default true. */
  readCommitted?: boolean;
  /** How long a fetch waits for data at the broker (ms). Default 500. */
  maxWaitMs?: number;
  /** Bytes per fetch response (default 10 MiB) and per partition in it (default 1 MiB). */
  maxBytes?: number;
  maxPartitionBytes?: number;
  /** Records buffered per partition before fetching pauses for it (default 5000). */
  bufferRecordsPerPartition?: number;
  /** The source's name in the job graph. */
  name?: string;
}

export interface ResolvedSourceOptions {
  connection: KafkaConnectionOptions;
  topics: readonly string[] | undefined;
  pattern: RegExp | undefined;
  groupId: string | undefined;
  startingOffsets: StartingOffsets;
  offsetReset: OffsetReset;
  bounded: boolean;
  discoveryIntervalMs: number;
  commitOffsets: boolean;
  readCommitted: boolean;
  maxWaitMs: number;
  maxBytes: number;
  maxPartitionBytes: number;
  bufferRecords: number;
}

const RESETS: readonly OffsetReset[] = ['earliest', 'latest', 'none'];

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ConfigError(`kafka source.${name}`, `is ${String(value)}; it must be a ${allowZero ? 'non-negative' : 'positive'} number`);
  }
  return value;
}

function startingOffsetsOf(value: unknown): StartingOffsets {
  if (value === undefined) return 'earliest';
  if (value === 'earliest' || value === 'latest' || value === 'committed') return value;
  if (typeof value === 'object' && value !== null) {
    if ('timestamp' in value && typeof value.timestamp === 'number') return { timestamp: value.timestamp };
    if ('offsets' in value && typeof value.offsets === 'object' && value.offsets !== null) return value as { offsets: Record<string, Record<number, number>> };
  }
  throw new ConfigError('kafka source.startingOffsets', `is ${JSON.stringify(value)}; valid: 'earliest', 'latest', 'committed', { timestamp: ms }, { offsets: { topic: { partition: offset } } }`);
}

export function resolveSourceOptions(o: KafkaSourceOptions<unknown>): ResolvedSourceOptions {
  if (!Array.isArray(o.brokers) || o.brokers.length === 0) throw new ConfigError('kafka source.brokers', 'must list at least one broker (host:port)');
  const hasTopics = o.topics !== undefined;
  if (hasTopics === (o.topicPattern !== undefined)) throw new ConfigError('kafka source', 'set exactly one of topics and topicPattern');
  if (hasTopics && (!Array.isArray(o.topics) || o.topics.length === 0)) throw new ConfigError('kafka source.topics', 'must list at least one topic');
  const startingOffsets = startingOffsetsOf(o.startingOffsets);
  if (startingOffsets === 'committed' && !o.groupId) throw new ConfigError('kafka source.startingOffsets', "is 'committed', which needs groupId");
  const offsetReset = o.offsetReset ?? 'none';
  if (!RESETS.includes(offsetReset)) throw new ConfigError('kafka source.offsetReset', `is ${JSON.stringify(offsetReset)}; valid: ${RESETS.join(', ')}`);
  let pattern: RegExp | undefined;
  if (o.topicPattern !== undefined) {
    try {
      pattern = typeof o.topicPattern === 'string' ? new RegExp(`^(?:${o.topicPattern})$`) : o.topicPattern;
    } catch (e) {
      throw new ConfigError('kafka source.topicPattern', `is not a regular expression: ${(e as Error).message}`);
    }
  }
  return {
    connection: { brokers: o.brokers, clientId: o.clientId, connectionTimeoutMs: o.connectionTimeoutMs, requestTimeoutMs: o.requestTimeoutMs, retries: o.retries, logLevel: o.logLevel },
    topics: o.topics,
    pattern,
    groupId: o.groupId,
    startingOffsets,
    offsetReset,
    bounded: o.bounded ?? false,
    discoveryIntervalMs: positive('partitionDiscoveryIntervalMs', o.partitionDiscoveryIntervalMs, 30000, true),
    commitOffsets: o.groupId !== undefined && (o.commitOffsetsOnCheckpoint ?? true),
    readCommitted: o.readCommitted ?? true,
    maxWaitMs: positive('maxWaitMs', o.maxWaitMs, 500),
    maxBytes: positive('maxBytes', o.maxBytes, 10 * 1024 * 1024),
    maxPartitionBytes: positive('maxPartitionBytes', o.maxPartitionBytes, 1024 * 1024),
    bufferRecords: positive('bufferRecordsPerPartition', o.bufferRecordsPerPartition, 5000),
  };
}
