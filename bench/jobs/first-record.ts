/**
 * The job of the submission benchmark (bench/cluster-submit.bench.ts): a few generated records; the
 * first one to reach the map writes the wall-clock time to `params.marker` (once per task manager
 * thread), which is when the job produced its first record.
 */
import { writeFileSync } from 'node:fs';
import { collectSink, datagen, defineJob } from 'weir';

export const out = collectSink<number>('first-record-out');
/** Markers written by this thread: on a running cluster the module stays loaded across jobs. */
const marked = new Set<string>();

export default defineJob(import.meta.url, (env, params: { marker: string }) => {
  env
    .fromSource(datagen({ count: 10, generate: (i) => i }), { uid: 'numbers' })
    .map((i) => {
      if (!marked.has(params.marker)) {
        marked.add(params.marker);
        writeFileSync(params.marker, String(Date.now()), { flag: 'wx' });
      }
      return i;
    })
    .sinkTo(out);
});
