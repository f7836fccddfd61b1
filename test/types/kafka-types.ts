/**
 * Type tests of `weir/kafka` (checked by `tsc --noEmit`, never run): the source's element type flows
 * from the deserializer, the sink's functions take the stream's type, and wrong options do not compile.
 */
import { OutputTag, defineJob, type DataStream, type DeadLetter } from 'weir';
import { kafkaSink, kafkaSource, kafkaStream, withMetadata, stringDeserializer, avroDeserializer, type KafkaRecord, type KafkaSource } from 'weir/kafka';

type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

interface Order {
  id: string;
  cents: number;
}

export default defineJob(import.meta.url, (env) => {
  const brokers = ['localhost:9092'];

  // The element type comes from the type argument (json) or from the deserializer function.
  const orders = env.fromSource(kafkaSource<Order>({ brokers, topics: ['orders'], groupId: 'g', startingOffsets: 'committed', offsetReset: 'earliest' }));
  type _orders = Expect<Equal<typeof orders, DataStream<Order>>>;

  const withKeys = env.fromSource(kafkaSource({ brokers, topicPattern: /^logs-/, deserializer: withMetadata(stringDeserializer()) }));
  type _withKeys = Expect<Equal<typeof withKeys, DataStream<KafkaRecord<string>>>>;

  const fromFn = kafkaSource({ brokers, topics: ['t'], deserializer: (r) => ({ key: r.key?.toString() ?? '', at: r.timestamp, partition: r.partition, offset: r.offset }) });
  type _fromFn = Expect<Equal<typeof fromFn, KafkaSource<{ key: string; at: number; partition: number; offset: number }>>>;

  const avro = kafkaSource({ brokers, topics: ['t'], deserializer: avroDeserializer<Order>({ type: 'record', name: 'Order', fields: [] }) });
  type _avro = Expect<Equal<typeof avro, KafkaSource<Order>>>;

  // @ts-expect-error startingOffsets takes earliest | latest | committed | { timestamp } | { offsets }
  kafkaSource({ brokers, topics: ['t'], startingOffsets: 'newest' });
  // @ts-expect-error unknown deserializer name
  kafkaSource({ brokers, topics: ['t'], deserializer: 'xml' });
  // @ts-expect-error brokers are strings
  kafkaSource({ brokers: [9092], topics: ['t'] });

  // Dead letters carry the raw record.
  const bad = new OutputTag<DeadLetter<KafkaRecord>>('bad');
  const parsed = kafkaStream<Order>(env, { brokers, topics: ['orders'], deadLetter: bad });
  type _parsed = Expect<Equal<ReturnType<typeof parsed.getSideOutput<DeadLetter<KafkaRecord>>>, DataStream<DeadLetter<KafkaRecord>>>>;
  // @ts-expect-error the dead-letter tag must carry KafkaRecord dead letters
  kafkaStream<Order>(env, { brokers, topics: ['orders'], deadLetter: new OutputTag<DeadLetter<Order>>('wrong') });

  // The sink's functions see the stream's type.
  orders.sinkTo(kafkaSink<Order>({ brokers, topic: 'out', key: (o) => o.id, partitioner: (o) => o.cents % 4, headers: (o) => ({ source: o.id }), deliveryGuarantee: 'exactly-once', transactionalIdPrefix: 'p' }));
  orders.sinkTo(kafkaSink<Order>({ brokers, topicSelector: (o) => (o.cents > 100 ? 'big' : 'small') }));
  // @ts-expect-error key gets an Order, which has no `user`
  kafkaSink<Order>({ brokers, topic: 'out', key: (o) => o.user });
  // @ts-expect-error deliveryGuarantee is none | at-least-once | exactly-once
  kafkaSink<Order>({ brokers, topic: 'out', deliveryGuarantee: 'exactly-twice' });
  // @ts-expect-error a sink of numbers does not take a stream of orders
  orders.sinkTo(kafkaSink<number>({ brokers, topic: 'out' }));
});
