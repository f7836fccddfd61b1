/**
 * Keeps `worker.terminate()` out of the native calls of a worker thread that must not be interrupted.
 *
 * A thread terminated while it is inside some calls of a node-addon-api addon aborts the whole
 * process: lmdb-js opening or closing an environment or a database unwraps its native object while
 * the thread is stopping, the wrapper throws, and `napi_throw` fails fatally ("FATAL ERROR:
 * Error::ThrowAsJavaScriptException napi_throw"; kriszyp/lmdb-js#200). Reads and range scans were
 * not seen to do it (test/chaos/writer-kills.test.ts has the probe). Task managers are terminated on
 * every kill, failover and cancel, and they open LMDB environments while they deploy.
 *
 * So the code that opens or closes an environment in a task manager runs it through
 * `outsideTermination`, and whoever terminates the thread goes through its `TerminateGuard`: the
 * guard first closes the gate (no guarded call may start: one that tries waits until the thread is
 * terminated), then waits until the guarded calls running have returned, then terminates. Shared
 * memory, not messages: the thread may be busy and not read its port for seconds.
 */
import { isMainThread, workerData, type Worker } from 'node:worker_threads';

/** Int32 slots: guarded calls running in the thread; 1 once a terminate is coming. */
const RUNNING = 0;
const CLOSED = 1;

const ownGate: Int32Array | undefined = (() => {
  if (isMainThread) return undefined;
  const buffer = (workerData as { terminateGuard?: SharedArrayBuffer } | null)?.terminateGuard;
  return buffer ? new Int32Array(buffer) : undefined;
})();

/**
 * Runs `call` where a terminate of this thread cannot land (in a thread started with a
 * TerminateGuard; elsewhere it simply runs it). If a terminate is already coming, waits for it.
 */
export function outsideTermination<T>(call: () => T): T {
  const gate = ownGate;
  if (gate === undefined) return call();
  // Announce first, then look: with the terminating side closing first and then looking (both
  // sequentially consistent), at least one of the two sees the other.
  Atomics.add(gate, RUNNING, 1);
  if (Atomics.load(gate, CLOSED) === 1) {
    Atomics.sub(gate, RUNNING, 1);
    // This thread is being terminated: wait for it here, before the native call (terminate() ends
    // an Atomics.wait).
    for (;;) Atomics.wait(gate, CLOSED, 1);
  }
  try {
    return call();
  } finally {
    Atomics.sub(gate, RUNNING, 1);
  }
}

/** The terminating side: give `buffer` to the thread in its workerData as `terminateGuard`. */
export class TerminateGuard {
  readonly buffer = new SharedArrayBuffer(8);
  private readonly gate = new Int32Array(this.buffer);

  /**
   * Terminates `worker` once no guarded call runs in it (none starts after this is called). Waits at
   * most `waitMs` for running ones: a guarded call that does not return is stuck, and the thread is
   * terminated anyway.
   */
  async terminate(worker: Worker, waitMs = 2000): Promise<number> {
    Atomics.store(this.gate, CLOSED, 1);
    const deadline = Date.now() + waitMs;
    while (Atomics.load(this.gate, RUNNING) !== 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return worker.terminate();
  }
}
