/** The Kafka connector's errors: each names the brokers, topic, partition or setting it is about. */
import { ExternalError, WeirError } from '../../runtime/errors.ts';

/** No broker of the bootstrap list answered (retriable: the job restarts as its strategy allows). */
export class KafkaUnreachableError extends ExternalError {
  constructor(
    readonly brokers: readonly string[],
    cause: unknown,
  ) {
    super(`could not reach any Kafka broker of ${brokers.join(', ')} (${causeText(cause)}); check that the brokers run and the list is right`, { cause });
  }
}

/** A topic named in `topics` (source) or written to (sink, with auto-creation off) does not exist. */
export class KafkaTopicNotFoundError extends WeirError {
  constructor(
    readonly topic: string,
    brokers: readonly string[],
  ) {
    super(`Kafka topic '${topic}' does not exist on ${brokers.join(', ')}; create it first, or use topicPattern to read topics as they appear`, { domain: 'user' });
  }
}

/**
 * A partition's position is before its earliest or past its latest offset (retention removed the
 * data, or a committed/explicit offset is stale) and `offsetReset` is 'none'.
 */
export class KafkaOffsetOutOfRangeError extends WeirError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    detail: string,
  ) {
    super(
      `offset ${offset} of Kafka partition ${topic}-${partition} is out of range${detail}; the fallback startingOffsets uses then is offsetReset, which is 'none': set offsetReset to 'earliest' or 'latest' to go on from there`,
      { domain: 'user' },
    );
  }
}

/** A Kafka call failed for another reason (the broker's answer is in the message). */
export class KafkaError extends ExternalError {}

export function causeText(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = (cause as { cause?: unknown }).cause;
  return inner instanceof Error && inner.message !== cause.message ? `${cause.message}: ${inner.message}` : cause.message;
}

/** startingOffsets 'committed' (or explicit offsets) has nothing for a partition and `offsetReset` is 'none'. */
export class KafkaNoStartingOffsetError extends WeirError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    why: string,
  ) {
    super(`Kafka partition ${topic}-${partition} has ${why}; the fallback startingOffsets uses then is offsetReset, which is 'none': set offsetReset to 'earliest' or 'latest'`, { domain: 'user' });
  }
}
