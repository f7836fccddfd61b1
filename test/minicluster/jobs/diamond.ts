/** One source feeding two branches that meet again in one sink (a diamond), with checkpoints. */
import { type Collector, collectSink, datagen, defineJob } from 'weir';

export const out = collectSink<number>('diamond-out');

export default defineJob(import.meta.url, (env, params: { count: number; rate: number; keyed: boolean }) => {
  const source = env.fromSource(datagen({ count: params.count, ratePerSecond: params.rate, generate: (i) => i }), { uid: 'numbers' });
  const evens = source.filter((x) => x % 2 === 0, { name: 'evens' });
  const odds = params.keyed
    ? source.filter((x) => x % 2 === 1, { name: 'odds' }).keyBy((x) => x % 7).process<number>({ processElement: (x: number, _c: unknown, o: Collector<number>) => o.collect(x) }, { name: 'odds-keyed' })
    : source.filter((x) => x % 2 === 1, { name: 'odds' });
  evens.union(odds).sinkTo(out);
});
