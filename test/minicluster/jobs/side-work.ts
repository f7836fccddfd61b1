/**
 * Operators get the task manager's side-work pool as `ctx.sideWork`: each subtask sums its records in
 * a pool thread at the end of input and emits the sum with the thread ids involved.
 */
import { threadId } from 'node:worker_threads';
import { collectSink, datagen, defineJob, type Operator, type OperatorContext } from 'weir';

export interface SideSum {
  subtask: number;
  total: number;
  operatorThread: number;
  sideThread: number;
}

export const sums = collectSink<SideSum>('side-sums');

const SUM_MODULE = new URL('../../unit/fixtures/side-work-sum.ts', import.meta.url);

class SumInSideWork implements Operator<number, SideSum> {
  readonly name = 'sum-in-side-work';
  private ctx!: OperatorContext<SideSum>;
  private readonly values: number[] = [];

  open(ctx: OperatorContext<SideSum>): void {
    this.ctx = ctx;
  }

  processBatch(values: readonly number[]): void {
    this.values.push(...values);
  }

  async endInput(): Promise<void> {
    const out = await this.ctx.sideWork.run<number[], { total: number; threadId: number }>(SUM_MODULE, this.values);
    this.ctx.output.emit({ subtask: this.ctx.subtaskIndex, total: out.total, operatorThread: threadId, sideThread: out.threadId }, 0);
  }
}

export default defineJob(import.meta.url, (env, params: { count: number }) => {
  env
    .fromSource(datagen({ count: params.count, generate: (i) => i }))
    .transform('sum', () => new SumInSideWork())
    .sinkTo(sums);
});
