import type { CollectTopic } from 'weir';

/** A typed handle on what a sink sent to the client under `topic`. */
export function topicOf<T>(topic: string): CollectTopic<T> {
  return { topic };
}
