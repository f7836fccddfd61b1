/**
 * A fast source and a keyed stage that takes at least `sleepMs` per record (the thread sleeps, so
 * the stage is slow whatever the machine): back-pressure, whose records go to a counting sink.
 */
import { datagen, defineJob, type ClientChannel, type Collector, type Sink, type SinkWriter, type SinkWriterContext } from 'weir';

type Rec = { k: number; v: number };

const pause = new Int32Array(new SharedArrayBuffer(4));

class CountingWriter implements SinkWriter<Rec, never> {
  private n = 0;
  constructor(private readonly client: ClientChannel) {}
  write = (values: readonly Rec[]): void => {
    this.n += values.length;
  };
  prepareCommit(_checkpointId: number, endOfInput: boolean): never[] {
    if (endOfInput) this.client.send('count', [this.n]);
    return [];
  }
}

const counting: Sink<Rec> = { name: 'counting-sink', createWriter: (ctx: SinkWriterContext) => new CountingWriter(ctx.client) };

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
