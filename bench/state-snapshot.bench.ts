/**
 * Snapshot of 1M keys (ValueState, small objects) in the LMDB backend to local checkpoint storage:
 * the whole snapshot (until the handle is ready), and the synchronous part (until snapshot()
 * returns, the only time processing is stopped).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Benchmark } from './harness.ts';
import { type KeyedStateBackend, LocalCheckpointStorage, createKeyedStateBackend, keyGroupOf, valueState } from '../state/index.ts';

const KEYS = 1_000_000;

async function withState(measure: (backend: KeyedStateBackend) => Promise<number>): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-bench-snapshot-'));
  const backend = await createKeyedStateBackend({
    kind: 'lmdb',
    workDir: dir,
    operatorUid: 'bench',
    subtask: 0,
    keyGroupRange: { start: 0, end: 127 },
    maxParallelism: 128,
    storage: new LocalCheckpointStorage({ root: path.join(dir, 'checkpoints'), jobId: 'bench' }),
  });
  const s = backend.getValueState<{ count: number; last: string }>(valueState('v'));
  for (let k = 0; k < KEYS; k++) {
    backend.setCurrentKey(k, keyGroupOf(k, 128));
    s.update({ count: k, last: 'x' });
  }
  try {
    return await measure(backend);
  } finally {
    await backend.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

const whole: Benchmark = {
  name: 'state-snapshot-lmdb',
  metric: 'LMDB keyed state snapshot of 1M keys to local storage, until the handle is ready',
  unit: 'ms',
  lowerIsBetter: true,
  runs: 3,
  async run() {
    return {
      value: await withState(async (b) => {
        const t0 = performance.now();
        await b.snapshot(1);
        return performance.now() - t0;
      }),
    };
  },
};

const stall: Benchmark = {
  name: 'state-snapshot-lmdb-sync',
  metric: 'LMDB keyed state snapshot of 1M keys: synchronous part (processing stopped)',
  unit: 'ms',
  lowerIsBetter: true,
  runs: 3,
  async run() {
    return {
      value: await withState(async (b) => {
        const t0 = performance.now();
        const p = b.snapshot(1);
        const ms = performance.now() - t0;
        await p;
        return ms;
      }),
    };
  },
};

export default [whole, stall];
