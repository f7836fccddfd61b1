/** A fast source and a sink that sleeps per batch, across a keyed exchange: back-pressure. */
import { type Collector, datagen, defineJob, type Sink, type SinkWriter } from 'weir';

class SleepyWriter implements SinkWriter<{ k: number; v: number }, never> {
  async write(): Promise<void> {
    await new Promise((r) => setTimeout(r, 2));
  }
  prepareCommit(): never[] {
    return [];
  }
}

const sleepy: Sink<{ k: number; v: number }> = { name: 'sleepy-sink', createWriter: () => new SleepyWriter() };

export default defineJob(import.meta.url, (env, params: { count: number }) => {
  env
    .fromSource(datagen({ count: params.count, generate: (i) => ({ k: i % 100, v: i }) }))
    .keyBy((r) => r.k)
    .process<{ k: number; v: number }>({ processElement: (r: { k: number; v: number }, _ctx: unknown, out: Collector<{ k: number; v: number }>) => out.collect(r) })
    .sinkTo(sleepy);
});
