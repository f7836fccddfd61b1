/** A fast source and a sink that sleeps per batch, across a keyed exchange: back-pressure. */
import { type Collector, datagen, defineJob, type Operator, type Sink } from 'weir';

class SleepyWriter implements Operator<{ k: number; v: number }, never> {
  readonly name = 'sleepy';
  async processBatch(): Promise<void> {
    await new Promise((r) => setTimeout(r, 2));
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
