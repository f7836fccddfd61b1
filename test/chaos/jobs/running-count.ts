/**
 * A keyed running count over many keys (LMDB state much larger than one batch): every record
 * emits its key's new count, written by an exactly-once (two-phase-commit) sink. Each (key, count)
 * pair must be committed exactly once, with or without failures.
 */
import { datagen, defineJob, valueState, type Collector, type KeyedContext, type KeyedProcessFunction, type KeyedRuntimeContext, type ValueState } from '../../../runtime/api/index.ts';
import { transactionalFileSink } from '../../harness/transactional-sink.ts';

export interface KeyCount {
  key: string;
  n: number;
}

class RunningCount implements KeyedProcessFunction<string, { key: string }, KeyCount> {
  private count!: ValueState<number>;

  open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.getState(valueState<number>('count'));
  }

  processElement(r: { key: string }, _ctx: KeyedContext<string>, out: Collector<KeyCount>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect({ key: r.key, n });
  }
}

export default defineJob(import.meta.url, (env, p: { count: number; keys: number; ratePerSecond: number; outDir: string }) => {
  env
    .fromSource(datagen({ name: 'events', count: p.count, ratePerSecond: p.ratePerSecond, generate: (i) => ({ key: `k${(i * 7919) % p.keys}` }) }), { uid: 'events' })
    .keyBy((r) => r.key)
    .process(new RunningCount(), { uid: 'running-count', name: 'running-count' })
    .sinkTo(transactionalFileSink<KeyCount>(p.outDir), { uid: 'sink' });
});
