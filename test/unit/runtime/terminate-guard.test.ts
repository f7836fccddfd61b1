/**
 * runtime/terminate-guard.ts: a terminate through the guard never lands inside a guarded call, and
 * no guarded call starts once the guard has been asked to terminate.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { TerminateGuard } from '../../../runtime/terminate-guard.ts';

const boot = new URL('../../../runtime/cluster/worker-boot.mjs', import.meta.url);
const entry = new URL('./threads/guarded-caller.ts', import.meta.url).href;

async function start(callMs: number, guard?: TerminateGuard, started = 3): Promise<{ worker: Worker; counters: Int32Array }> {
  const buffer = new SharedArrayBuffer(8);
  const worker = new Worker(boot, { workerData: { entry, counters: buffer, callMs, ...(guard ? { terminateGuard: guard.buffer } : {}) } });
  await new Promise((resolve) => worker.once('message', resolve));
  const counters = new Int32Array(buffer);
  while (Atomics.load(counters, 0) < started) await new Promise((resolve) => setTimeout(resolve, 1));
  return { worker, counters };
}

describe('TerminateGuard', () => {
  it('terminates between guarded calls, never inside one (20 kills)', async () => {
    for (let i = 0; i < 20; i++) {
      const guard = new TerminateGuard();
      const { worker, counters } = await start(7, guard);
      await new Promise((resolve) => setTimeout(resolve, i % 7));
      await guard.terminate(worker);
      expect(Atomics.load(counters, 1)).toBe(Atomics.load(counters, 0));
    }
  });

  it('without the guard, a terminate does land inside a call (the test can fail)', async () => {
    let inside = 0;
    for (let i = 0; i < 10 && inside === 0; i++) {
      const { worker, counters } = await start(7);
      await new Promise((resolve) => setTimeout(resolve, i % 7));
      await worker.terminate();
      if (Atomics.load(counters, 0) !== Atomics.load(counters, 1)) inside++;
    }
    expect(inside).toBeGreaterThan(0);
  });

  it('gives up waiting for a call that does not return, and terminates anyway', async () => {
    const guard = new TerminateGuard();
    const { worker, counters } = await start(60_000, guard, 1);
    expect(await guard.terminate(worker, 100)).toBe(1);
    expect(Atomics.load(counters, 1)).toBe(0);
  });
});
