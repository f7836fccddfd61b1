/**
 * A fast source and a keyed stage that takes at least `sleepMs` per record (the thread sleeps, so
 * the stage is slow whatever the machine): back-pressure, whose records go to a counting sink.
 */
import { datagen, defineJob, type Collector, type Operator, type OperatorContext, type Sink } from '../../../runtime/api/index.ts';
import type { ClientChannel } from '../../../operators/operator.ts';

type Rec = { k: number; v: number };

const pause = new Int32Array(new SharedArrayBuffer(4));

class CountingWriter implements Operator<Rec, never> {
  readonly name = 'count';
  private client!: ClientChannel;
  private n = 0;
  open(ctx: OperatorContext<never>): void {
    this.client = ctx.client;
  }
  processBatch(values: readonly Rec[]): void {
    this.n += values.length;
  }
  endInput(): void {
    this.client.send('count', [this.n]);
  }
}

const counting: Sink<Rec> = { name: 'counting-sink', createWriter: () => new CountingWriter() };

export default defineJob(import.meta.url, (env, params: { count: number; sleepMs: number }) => {
  env
    .fromSource(datagen({ count: params.count, generate: (i) => ({ k: i % 100, v: i }) }), { uid: 'numbers' })
    .keyBy((r) => r.k)
    .process<Rec>(
      {
        processElement: (r: Rec, _ctx: unknown, out: Collector<Rec>) => {
          Atomics.wait(pause, 0, 0, params.sleepMs);
          out.collect(r);
        },
      },
      { uid: 'slow' },
    )
    .sinkTo(counting);
});
