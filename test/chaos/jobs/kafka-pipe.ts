/**
 * Kafka -> Weir -> Kafka: reads JSON events `{ id }` from a topic (unbounded, or bounded), tags
 * them with the reading subtask's output, and writes `{ id, doubled }` to another topic, exactly-once
 * by default. Used by the Kafka chaos and rescale tests and the Kafka benchmark.
 */
import { defineJob } from 'weir';
import { kafkaSink, kafkaSource, type DeliveryGuarantee } from 'weir/kafka';

export interface PipeEvent {
  id: number;
  sentAt?: number;
}

export type PipeParams = {
  brokers: string[];
  /** The topic to read, or a pattern (with discovery every `discoveryMs`). */
  inTopic?: string;
  topicPattern?: string;
  discoveryMs?: number;
  outTopic: string;
  guarantee: DeliveryGuarantee;
  transactionalIdPrefix: string;
  bounded?: boolean;
  groupId?: string;
};

export default defineJob(import.meta.url, (env, p: PipeParams) => {
  env
    .fromSource(
      kafkaSource<PipeEvent>({
        brokers: p.brokers,
        topics: p.inTopic === undefined ? undefined : [p.inTopic],
        topicPattern: p.topicPattern,
        bounded: p.bounded ?? false,
        groupId: p.groupId,
        maxWaitMs: 100,
        partitionDiscoveryIntervalMs: p.discoveryMs ?? 0,
      }),
      { uid: 'kafka-in' },
    )
    .map((e) => ({ id: e.id, doubled: e.id * 2, sentAt: e.sentAt }), { uid: 'double' })
    .sinkTo(
      kafkaSink<{ id: number; doubled: number; sentAt?: number }>({
        brokers: p.brokers,
        topic: p.outTopic,
        key: (v) => String(v.id),
        deliveryGuarantee: p.guarantee,
        transactionalIdPrefix: p.transactionalIdPrefix,
        transactionTimeoutMs: 60000,
      }),
      { uid: 'kafka-out' },
    );
});
