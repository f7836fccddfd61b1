/**
 * Jobs for bench/kafka.bench.ts: `read` a topic (bounded) into a sink that only counts; `write`
 * generated records into a topic; `pipe` Kafka -> Weir -> Kafka (unbounded) for latency.
 */
import { datagen, defineJob, type Sink } from 'weir';
import { kafkaSink, kafkaSource, type DeliveryGuarantee } from 'weir/kafka';

export interface BenchRecord {
  id: number;
  sentAt: number;
  payload: string;
}

export type KafkaBenchParams =
  | { kind: 'read'; brokers: string[]; topic: string; parallelism: number }
  | { kind: 'write'; brokers: string[]; topic: string; count: number; parallelism: number }
  | { kind: 'pipe'; brokers: string[]; inTopic: string; outTopic: string; guarantee: DeliveryGuarantee; prefix: string };

/** Discards records (the source's cost alone). */
const discard: Sink<unknown, never> = { name: 'discard', createWriter: () => ({ write: () => {}, prepareCommit: () => [] }) };

export const PAYLOAD = 'x'.repeat(60);

export default defineJob(import.meta.url, (env, p: KafkaBenchParams) => {
  if (p.kind === 'read') {
    env.fromSource(kafkaSource<BenchRecord>({ brokers: p.brokers, topics: [p.topic], bounded: true, maxWaitMs: 100 }), { parallelism: p.parallelism, uid: 'in' }).sinkTo(discard);
  } else if (p.kind === 'write') {
    env
      .fromSource(datagen({ count: p.count, generate: (i) => ({ id: i, sentAt: 0, payload: PAYLOAD }) }), { parallelism: p.parallelism, uid: 'gen' })
      .sinkTo(kafkaSink<BenchRecord>({ brokers: p.brokers, topic: p.topic, key: (r) => String(r.id) }));
  } else {
    env
      .fromSource(kafkaSource<BenchRecord>({ brokers: p.brokers, topics: [p.inTopic], maxWaitMs: 50, partitionDiscoveryIntervalMs: 0 }), { uid: 'in' })
      .sinkTo(kafkaSink<BenchRecord>({ brokers: p.brokers, topic: p.outTopic, key: (r) => String(r.id), deliveryGuarantee: p.guarantee, transactionalIdPrefix: p.prefix }), { uid: 'out' });
  }
});
