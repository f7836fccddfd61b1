/** A job whose graph builds on the job manager but not in a task manager: every deployment of it fails. */
import { isMainThread } from 'node:worker_threads';
import { collectSink, datagen, defineJob } from 'weir';

export const out = collectSink<number>('fails-to-deploy-out');

export default defineJob(import.meta.url, (env, _params: { n: number }) => {
  if (!isMainThread) throw new Error('this job cannot be built in a task manager');
  env.fromSource(datagen({ count: 10, generate: (i) => i }), { uid: 'numbers' }).sinkTo(out);
});
