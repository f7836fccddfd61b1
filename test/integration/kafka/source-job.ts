/** Jobs of the Kafka integration tests: read a topic (bounded or not) into a collect sink or another topic. */
import { OutputTag, collectSink, defineJob, type DeadLetter } from 'weir';
import { kafkaSource, kafkaStream, type KafkaRecord, type StartingOffsets } from 'weir/kafka';

export interface Event {
  id: number;
}

export type SourceParams = {
  brokers: string[];
  topics?: string[];
  topicPattern?: string;
  groupId?: string;
  startingOffsets?: StartingOffsets;
  bounded: boolean;
  discoveryMs?: number;
  /** Read through kafkaStream with a dead-letter output. */
  deadLetters?: boolean;
};

export const events = collectSink<Event>('events');
export const deadLettersOut = collectSink<DeadLetter<KafkaRecord>>('dead-letters');
const deadLetterTag = new OutputTag<DeadLetter<KafkaRecord>>('kafka-dead-letters');

export default defineJob(import.meta.url, (env, p: SourceParams) => {
  const options = {
    brokers: p.brokers,
    topics: p.topics,
    topicPattern: p.topicPattern,
    groupId: p.groupId,
    startingOffsets: p.startingOffsets,
    bounded: p.bounded,
    partitionDiscoveryIntervalMs: p.discoveryMs ?? 0,
    maxWaitMs: 100,
  };
  if (p.deadLetters) {
    const stream = kafkaStream<Event>(env, { ...options, deadLetter: deadLetterTag, source: { uid: 'kafka' } });
    stream.sinkTo(events);
    stream.getSideOutput(deadLetterTag).sinkTo(deadLettersOut);
  } else {
    env.fromSource(kafkaSource<Event>(options), { uid: 'kafka' }).sinkTo(events);
  }
});
