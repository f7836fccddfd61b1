/**
 * `kafkaSource`: Kafka partitions as the splits of a FLIP-27 source (see enumerator.ts, reader.ts and
 * README.md), and `kafkaStream`, the same source with bad records going to a dead-letter output.
 */
import type { DeadLetter } from '../../operators/dead-letter.ts';
import type { OutputTag } from '../../operators/operator.ts';
import type { SourceOptions, StreamEnv } from '../../runtime/api/environment.ts';
import type { SingleOutputStream } from '../../runtime/api/data-stream.ts';
import type { Source } from '../../runtime/source/contract.ts';
import { AdminMetadataClient, ClusterFetcher } from './client.ts';
import { resolveDeserializer, type KafkaRecord } from './deserializers.ts';
import { INITIAL_ENUMERATOR_STATE, KafkaSplitEnumerator, type KafkaEnumeratorState } from './enumerator.ts';
import { KafkaSourceReader, deserializationError } from './reader.ts';
import { resolveSourceOptions, type KafkaSourceOptions, type ResolvedSourceOptions } from './source-options.ts';
import type { KafkaPartitionSplit } from './split.ts';

export type KafkaSource<T> = Source<T, KafkaPartitionSplit, KafkaEnumeratorState>;

function buildSource<T>(settings: ResolvedSourceOptions, name: string, deserialize: (r: KafkaRecord) => T): KafkaSource<T> {
  const createClient = () => new AdminMetadataClient(settings.connection);
  return {
    name,
    bounded: settings.bounded,
    createEnumerator: (ctx) => new KafkaSplitEnumerator(ctx, settings, createClient, INITIAL_ENUMERATOR_STATE),
    restoreEnumerator: (ctx, state) => new KafkaSplitEnumerator(ctx, settings, createClient, state),
    createReader: () =>
      new KafkaSourceReader<T>(settings, deserialize, new ClusterFetcher(settings.connection, settings)),
  };
}

function sourceName(o: KafkaSourceOptions<unknown>): string {
  return o.name ?? `kafka(${o.topics ? o.topics.join(',') : String(o.topicPattern)})`;
}

/**
 * Reads Kafka topics. Partitions are splits: the enumerator assigns each to one reader; offsets live
 * in the checkpoint; a record that does not deserialize fails the job with its topic, partition and
 * offset (use `kafkaStream` with `deadLetter` to keep going instead).
 *
 *     env.fromSource(kafkaSource<Order>({ brokers, topics: ['orders'], groupId: 'weir-orders' }))
 */
export function kafkaSource<T = unknown>(options: KafkaSourceOptions<T>): KafkaSource<T> {
  const settings = resolveSourceOptions(options as KafkaSourceOptions<unknown>);
  return buildSource(settings, sourceName(options as KafkaSourceOptions<unknown>), resolveDeserializer<T>(options.deserializer));
}

export interface KafkaStreamOptions<T> extends KafkaSourceOptions<T> {
  /**
   * Where records that do not deserialize go (the raw record: topic, partition, offset, key, value,
   * headers, with the error), instead of failing the job. Read them with `getSideOutput(tag)`.
   */
  deadLetter?: OutputTag<DeadLetter<KafkaRecord>>;
  /** Options of the source node: uid, parallelism, watermarks (on the raw record: its `timestamp` is Kafka's). */
  source?: SourceOptions<KafkaRecord>;
}

/**
 * The Kafka source as a stream, deserializing in a map right after it, so that bad records can go
 * to a dead-letter output (operators/dead-letter.ts) with their coordinates. The map is chained to
 * the source (same task, no exchange).
 */
export function kafkaStream<T = unknown>(env: StreamEnv, options: KafkaStreamOptions<T>): SingleOutputStream<T> {
  const { deadLetter, source: sourceOptions, ...rest } = options;
  const settings = resolveSourceOptions(rest as KafkaSourceOptions<unknown>);
  const deserialize = resolveDeserializer<T>(rest.deserializer);
  const name = sourceName(rest as KafkaSourceOptions<unknown>);
  const raw = buildSource<KafkaRecord>(settings, name, (r) => r);
  return env.fromSource(raw, sourceOptions).map(
    (record) => {
      try {
        return deserialize(record);
      } catch (e) {
        throw deserializationError(record, e);
      }
    },
    { name: `${name} (deserialize)`, deadLetter, uid: sourceOptions?.uid ? `${sourceOptions.uid}-deserialize` : undefined },
  );
}
