/**
 * Sends every record back to the program that submitted the job; read them from the job result
 * with `result.get(sink)`. For tests and small outputs: everything is held in the submitter's memory.
 */
import type { ClientChannel } from '../../operators/operator.ts';
import type { CollectTopic } from '../../runtime/cluster/job-handle.ts';
import type { Sink } from '../../runtime/api/sink.ts';
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink/contract.ts';

class CollectWriter<T> implements SinkWriter<T, never> {
  private readonly client: ClientChannel;

  constructor(
    ctx: SinkWriterContext,
    private readonly topic: string,
  ) {
    this.client = ctx.client;
  }

  write(values: readonly T[]): void {
    this.client.send(this.topic, values.slice());
  }

  prepareCommit(): never[] {
    return [];
  }
}

export class CollectSink<T> implements Sink<T>, CollectTopic<T> {
  declare readonly __type?: T;
  readonly name: string;

  constructor(readonly topic: string) {
    this.name = `collect:${topic}`;
  }

  createWriter(ctx: SinkWriterContext): SinkWriter<T, never> {
    return new CollectWriter<T>(ctx, this.topic);
  }
}

export function collectSink<T>(topic: string): CollectSink<T> {
  return new CollectSink<T>(topic);
}
