/** Reports the worker thread every subtask of its keyed operator ran on, once per subtask (session-cluster test). */
import { threadId } from 'node:worker_threads';
import { collectSink, datagen, defineJob, type KeyedProcessFunction, type KeyedRuntimeContext, valueState, type ValueState } from 'weir';

export interface Seen {
  key: number;
  thread: number;
}

export const seen = collectSink<Seen>('thread-ids');

class ReportThread implements KeyedProcessFunction<number, number, Seen> {
  private reported!: ValueState<boolean>;
  open(ctx: KeyedRuntimeContext): void {
    this.reported = ctx.getState(valueState<boolean>('reported'));
  }
  processElement(key: number, _ctx: unknown, out: { collect(s: Seen): void }): void {
    if (this.reported.value()) return;
    this.reported.update(true);
    out.collect({ key, thread: threadId });
  }
}

export default defineJob(import.meta.url, (env, params: { keys: number }) => {
  env
    .fromSource(datagen({ count: params.keys * 10, generate: (i) => i % params.keys }), { uid: 'numbers' })
    .keyBy((k) => k)
    .process(new ReportThread(), { uid: 'report' })
    .sinkTo(seen);
});
