/** A Kafka partition as a split of the source: where reading goes on, and (bounded) where it stops. */
import type { SourceSplit } from '../../runtime/source/contract.ts';

export interface KafkaPartitionSplit extends SourceSplit {
  topic: string;
  partition: number;
  /** The next offset to emit; the truth on restore (group offsets are only committed for monitoring). */
  offset: number;
  /** Bounded mode: the partition is finished once `offset` reaches this (the latest offset when the job started). */
  stoppingOffset?: number;
}

export function splitId(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Java's String.hashCode, as Flink's KafkaSourceEnumerator uses to spread topics over readers. */
function topicHash(topic: string): number {
  let h = 0;
  for (let i = 0; i < topic.length; i++) h = (Math.imul(h, 31) + topic.charCodeAt(i)) | 0;
  return h;
}

/**
 * The reader that owns a partition: each topic's partitions go round-robin starting at a reader that
 * depends on the topic (Flink's rule), so one topic's partitions spread evenly and several topics do
 * not all start at reader 0.
 */
export function ownerOf(split: { topic: string; partition: number }, parallelism: number): number {
  const start = (Math.imul(topicHash(split.topic), 31) & 0x7fffffff) % parallelism;
  return (start + split.partition) % parallelism;
}
