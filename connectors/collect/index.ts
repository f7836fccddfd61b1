/**
 * Sends every record back to the program that submitted the job; read them from the job result
 * with `result.get(sink)`. For tests and small outputs: everything is held in the submitter's memory.
 */
import type { ClientChannel, Operator, OperatorContext } from '../../operators/operator.ts';
import type { CollectTopic } from '../../runtime/cluster/job-handle.ts';
import type { Sink } from '../sink.ts';

class CollectWriter<T> implements Operator<T, never> {
  private client!: ClientChannel;

  constructor(
    readonly name: string,
    private readonly topic: string,
  ) {}

  open(ctx: OperatorContext<never>): void {
    this.client = ctx.client;
  }

  processBatch(values: readonly T[]): void {
    if (values.length > 0) this.client.send(this.topic, values.slice());
  }
}

export class CollectSink<T> implements Sink<T>, CollectTopic<T> {
  declare readonly __type?: T;
  readonly name: string;

  constructor(readonly topic: string) {
    this.name = `collect:${topic}`;
  }

  createWriter(): Operator<T, never> {
    return new CollectWriter<T>(this.name, this.topic);
  }
}

export function collectSink<T>(topic: string): CollectSink<T> {
  return new CollectSink<T>(topic);
}
