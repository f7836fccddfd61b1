/**
 * A stand-in task manager thread for writer-kills.ts: it keeps creating LMDB keyed state backends,
 * writing to them through its LMDB writer thread and disposing of them, one after another, until it
 * is terminated: both this thread and its writer thread open and close LMDB environments all the
 * time. Tells its parent 'busy' once a few backends have been through.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { LmdbKeyedStateBackend } from '../../../state/lmdb/lmdb-backend.ts';
import { prestartWriterThread } from '../../../state/lmdb/writer-client.ts';
import { valueState } from '../../../state/index.ts';

const { dir } = workerData as { dir: string };
prestartWriterThread();
const count = valueState<number>('count');
let n = 0;

async function step(): Promise<void> {
  const dirN = path.join(dir, `backend-${n++}`);
  mkdirSync(dirN, { recursive: true });
  const backend = new LmdbKeyedStateBackend({ path: dirN, keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128, operatorUid: 'probe', subtask: 0 });
  const state = backend.getValueState(count);
  for (let k = 0; k < 100; k++) {
    backend.setCurrentKey(`key-${k}`, k);
    state.update(n);
  }
  backend.flush();
  await backend.dispose();
  if (n === 3) parentPort!.postMessage('busy');
  setImmediate(() => void step());
}
void step();
