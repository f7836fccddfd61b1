/**
 * Event time from Kafka record timestamps: 1 s tumbling counts over an unbounded topic, each
 * partition making its own watermark (idle partitions stop holding it back after `idleMs`), written
 * to another topic.
 */
import { WatermarkStrategy, defineJob, tumblingEventTimeWindows } from 'weir';
import { kafkaSink, kafkaSource } from 'weir/kafka';

export type WindowParams = { brokers: string[]; inTopic: string; outTopic: string; idleMs: number };

export default defineJob(import.meta.url, (env, p: WindowParams) => {
  env
    .fromSource(kafkaSource<{ id: number }>({ brokers: p.brokers, topics: [p.inTopic], maxWaitMs: 50, partitionDiscoveryIntervalMs: 0 }), {
      uid: 'in',
      // no timestamp assigner: each record's Kafka timestamp is its event time
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness<{ id: number }>(0).withIdleness(p.idleMs),
    })
    .map(() => 1, { uid: 'one' })
    .keyBy(() => 'all')
    .window(tumblingEventTimeWindows(1000))
    .reduce((a, b) => a + b, (count, ctx) => ({ start: ctx.window.start, count }), { uid: 'count' })
    .sinkTo(kafkaSink<{ start: number; count: number }>({ brokers: p.brokers, topic: p.outTopic }), { uid: 'out' });
});
