/**
 * Two sources in a union: 'numbers' runs freely; 'stuck' emits one record, then its poll waits (on
 * its task's loop) until the test calls `releaseStuckSource()`. While it waits its task runs no
 * mail, so it emits no checkpoint barrier: the union's task cannot align, and holds the other input.
 * Meant for an in-process cluster (workers: 0), where the test and the job share this module.
 */
import { collectSink, datagen, defineJob, type Source } from '../../../runtime/api/index.ts';

let release!: () => void;
const released = new Promise<void>((r) => (release = r));

export function releaseStuckSource(): void {
  release();
}

const stuck: Source<number> = {
  name: 'stuck',
  bounded: true,
  createReader: () => {
    let emitted = false;
    return {
      async poll(out) {
        if (!emitted) {
          emitted = true;
          out.collect(-1);
          return 'more';
        }
        await released;
        return 'end';
      },
    };
  },
};

export const all = collectSink<number>('all');

export default defineJob(import.meta.url, (env, params: { count: number }) => {
  const numbers = env.fromSource(datagen({ name: 'numbers', count: params.count, ratePerSecond: 2000, generate: (i) => i }), { uid: 'numbers' });
  const blocked = env.fromSource(stuck, { uid: 'stuck' });
  numbers.union(blocked).map((x) => x, { name: 'merge', parallelism: 1 }).sinkTo(all, { uid: 'all' });
});
