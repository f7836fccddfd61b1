/**
 * Turning a Kafka record into a value: JSON, string, bytes, Avro (avsc) or a function of the whole
 * record (key, headers, timestamp, partition and offset included). A deserializer that throws makes
 * the record a bad record: it fails the job with its coordinates, or goes to the dead-letter output
 * (see `kafkaStream`).
 */
import avro from 'avsc';
import { ConfigError } from '../../runtime/errors.ts';

/** A record as read from Kafka. */
export interface KafkaRecord<V = Buffer | null> {
  topic: string;
  partition: number;
  offset: number;
  /** Milliseconds since the epoch (the producer's or the log-append time). */
  timestamp: number;
  key: Buffer | null;
  value: V;
  headers: Record<string, Buffer | Buffer[] | undefined>;
}

export type KafkaDeserializer<T> = (record: KafkaRecord) => T;

export type DeserializerName = 'json' | 'string' | 'bytes';

function requireValue(record: KafkaRecord): Buffer {
  if (record.value === null) throw new Error('the record has no value (a tombstone)');
  return record.value;
}

/** The value parsed as UTF-8 JSON. */
export function jsonDeserializer<T>(): KafkaDeserializer<T> {
  return (r) => JSON.parse(requireValue(r).toString('utf8')) as T;
}

/** The value as a UTF-8 string. */
export function stringDeserializer(): KafkaDeserializer<string> {
  return (r) => requireValue(r).toString('utf8');
}

/** The value's bytes (a copy: the fetch buffer is reused). */
export function bytesDeserializer(): KafkaDeserializer<Uint8Array> {
  return (r) => new Uint8Array(requireValue(r));
}

/**
 * The value decoded with an Avro schema (avsc). `confluentFraming`: skip the 5-byte Confluent
 * schema-registry header (magic byte 0 and a schema id) before decoding.
 */
export function avroDeserializer<T>(schema: object | string, options: { confluentFraming?: boolean } = {}): KafkaDeserializer<T> {
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(typeof schema === 'string' ? (JSON.parse(schema) as avro.Schema) : (schema as avro.Schema));
  } catch (e) {
    throw new ConfigError('kafka deserializer (avro schema)', `is not a valid Avro schema: ${(e as Error).message}`);
  }
  const framed = options.confluentFraming ?? false;
  return (r) => {
    let buf = requireValue(r);
    if (framed) {
      if (buf.length < 5 || buf[0] !== 0) throw new Error('the value does not start with the Confluent framing (magic byte 0, 4-byte schema id)');
      buf = buf.subarray(5);
    }
    return type.fromBuffer(buf) as T;
  };
}

/** The record with its value deserialized by `inner`: key, headers and coordinates stay available. */
export function withMetadata<T>(inner: KafkaDeserializer<T>): KafkaDeserializer<KafkaRecord<T>> {
  return (r) => ({ ...r, value: inner(r) });
}

const BY_NAME: Record<DeserializerName, () => KafkaDeserializer<unknown>> = { json: jsonDeserializer, string: stringDeserializer, bytes: bytesDeserializer };

/** A deserializer from the `deserializer` option: a name, `{ avro: schema }`, or a function. */
export function resolveDeserializer<T>(option: unknown): KafkaDeserializer<T> {
  if (option === undefined) return jsonDeserializer<T>();
  if (typeof option === 'function') return option as KafkaDeserializer<T>;
  if (typeof option === 'string' && option in BY_NAME) return BY_NAME[option as DeserializerName]() as KafkaDeserializer<T>;
  if (typeof option === 'object' && option !== null && 'avro' in option) {
    const { avro: schema, confluentFraming } = option as { avro: object | string; confluentFraming?: boolean };
    return avroDeserializer<T>(schema, { confluentFraming });
  }
  throw new ConfigError('kafka source.deserializer', `is ${JSON.stringify(option)}; valid: 'json', 'string', 'bytes', { avro: <schema> }, or a function (record) => value`);
}
