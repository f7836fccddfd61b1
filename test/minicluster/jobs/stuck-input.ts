/**
 * Two sources in a union: 'numbers' runs freely; 'stuck' emits one record, which an operator chained
 * to it holds (its processBatch waits) until the test calls `releaseStuckSource()`. While it waits
 * its task runs no mail, so it forwards no checkpoint barrier: the union's task cannot align, and
 * holds the other input. (Source readers never block their task's loop, so the wait is in an
 * operator.) Meant for an in-process cluster (workers: 0), where the test and the job share this module.
 */
import { collectSink, datagen, defineJob, type Operator, type OperatorContext, type Output } from 'weir';

let release!: () => void;
const released = new Promise<void>((r) => (release = r));

export function releaseStuckSource(): void {
  release();
}

class HoldUntilReleased implements Operator<number, number> {
  readonly name = 'hold';
  private out!: Output<number>;
  open(ctx: OperatorContext<number>): void {
    this.out = ctx.output;
  }
  async processBatch(values: readonly number[], times: ArrayLike<number>): Promise<void> {
    await released;
    for (let i = 0; i < values.length; i++) this.out.emit(values[i]!, times[i]!);
  }
}

export const all = collectSink<number>('all');

export default defineJob(import.meta.url, (env, params: { count: number }) => {
  const numbers = env.fromSource(datagen({ name: 'numbers', count: params.count, ratePerSecond: 2000, generate: (i) => i }), { uid: 'numbers' });
  const blocked = env
    .fromSource(datagen({ name: 'stuck', count: 1, generate: () => -1 }), { uid: 'stuck' })
    .transform('hold', () => new HoldUntilReleased(), { uid: 'hold' });
  numbers.union(blocked).map((x) => x, { name: 'merge', parallelism: 1 }).sinkTo(all, { uid: 'all' });
});
