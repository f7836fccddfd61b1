/**
 * For terminate-guard.test.ts: a thread that runs guarded calls of `callMs` milliseconds (busy,
 * like a native call) back to back. Shared Int32 slots: [0] calls started, [1] calls returned.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { outsideTermination } from '../../../../runtime/terminate-guard.ts';

const { counters, callMs } = workerData as { counters: SharedArrayBuffer; callMs: number };
const c = new Int32Array(counters);
parentPort!.postMessage('up');
for (;;) {
  outsideTermination(() => {
    Atomics.add(c, 0, 1);
    const until = Date.now() + callMs;
    while (Date.now() < until);
    Atomics.add(c, 1, 1);
  });
}
