/**
 * `weir/kafka`: Kafka sources and sinks (kafkajs). Its own entry so that jobs which do not use Kafka
 * do not load kafkajs. See connectors/kafka/README.md.
 */
export { kafkaSource, kafkaStream, type KafkaSource, type KafkaStreamOptions } from './source.ts';
export type { KafkaSourceOptions, StartingOffsets, OffsetReset, DeserializerOption } from './source-options.ts';
export type { KafkaConnectionOptions } from './client.ts';
export type { KafkaPartitionSplit } from './split.ts';
export type { KafkaEnumeratorState } from './enumerator.ts';
export { jsonDeserializer, stringDeserializer, bytesDeserializer, avroDeserializer, withMetadata, type KafkaRecord, type KafkaDeserializer } from './deserializers.ts';
export { KafkaUnreachableError, KafkaTopicNotFoundError, KafkaOffsetOutOfRangeError, KafkaNoStartingOffsetError, KafkaError } from './errors.ts';
export { kafkaSink, type KafkaSinkOptions, type DeliveryGuarantee, type KafkaCommittable } from './sink.ts';
