/**
 * A keyed process function that emits each record and registers a processing-time timer a little
 * later that emits again: when the bounded input ends, some timers are still pending. The sink is
 * behind a channel (rebalance), so what is emitted after the end of input cannot reach it.
 */
import { collectSink, datagen, defineJob, type Collector, type KeyedContext, type OnTimerContext } from '../../../runtime/api/index.ts';

export interface Out {
  kind: 'direct' | 'timer';
  i: number;
}

export const outputs = collectSink<Out>('outputs');

export default defineJob(import.meta.url, (env, params: { count: number; ratePerSecond: number; delayMs: number }) => {
  env
    .fromSource(datagen({ count: params.count, ratePerSecond: params.ratePerSecond, generate: (i) => i }))
    .keyBy((i) => i % 10)
    .process<Out>(
      {
        processElement(i: number, ctx: KeyedContext<number>, out: Collector<Out>) {
          out.collect({ kind: 'direct', i });
          ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + params.delayMs);
        },
        onTimer(time: number, ctx: OnTimerContext<number>, out: Collector<Out>) {
          out.collect({ kind: 'timer', i: ctx.key });
        },
      },
      { name: 'timed', uid: 'timed' },
    )
    .rebalance() // the sink is not chained: its records cross a channel, which ends with the input
    .sinkTo(outputs);
});
