/**
 * Run as a process by test/chaos/writer-kills.test.ts: starts a stand-in task manager thread
 * (writer-opener.ts) `rounds` times and terminates it at a random moment while it and its LMDB
 * writer thread open and close environments, as a task manager's host does: with a
 * SiblingThreadStarter and through a TerminateGuard. With `unguarded`, the writer thread is the
 * task manager's child and terminate() is called at once, as before runtime/sibling-threads.ts and
 * runtime/terminate-guard.ts: a terminate inside lmdb-js then aborts this whole process. Prints
 * the rounds survived. Arguments: dir rounds seed [unguarded].
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { SiblingThreadStarter } from '../../../runtime/sibling-threads.ts';
import { TerminateGuard } from '../../../runtime/terminate-guard.ts';
import { SeededRandom } from '../../../runtime/api/index.ts';

const [dir, roundsArg, seedArg, mode] = process.argv.slice(2);
const rounds = Number(roundsArg);
const random = new SeededRandom(Number(seedArg));
const boot = new URL('../../../runtime/cluster/worker-boot.mjs', import.meta.url);
const entry = new URL('./writer-opener.ts', import.meta.url).href;

for (let r = 0; r < rounds; r++) {
  const starter = new SiblingThreadStarter();
  const guard = new TerminateGuard();
  const unguarded = mode === 'unguarded';
  const worker = new Worker(boot, {
    workerData: { entry, dir: path.join(dir!, `round-${r}`), ...(unguarded ? {} : { siblingThreads: starter.port, terminateGuard: guard.buffer }) },
    transferList: unguarded ? [] : [starter.port],
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  await sleep(Math.floor(random.next() * 40));
  await (unguarded ? worker.terminate() : guard.terminate(worker));
  starter.close();
  // The writer thread ends itself once it sees the task manager gone.
  if (!(await starter.whenEnded(10_000))) throw new Error(`round ${r + 1}: the writer thread did not end within 10 s of its task manager`);
  console.log(`round ${r + 1} survived`);
}
console.log(`survived ${rounds} kills`);
