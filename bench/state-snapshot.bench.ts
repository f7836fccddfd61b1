/**
 * Snapshot of 1M keys (ValueState, small objects) in the LMDB backend to local checkpoint storage:
 * the whole snapshot (until the handle is ready), the synchronous part (until snapshot() returns,
 * the only time processing is stopped), and restoring that snapshot into a fresh backend.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Benchmark } from './harness.ts';
import { type KeyedStateBackend, type KeyedStateHandle, LocalCheckpointStorage, createKeyedStateBackend, keyGroupOf, valueState } from '../state/index.ts';

const KEYS = 1_000_000;

async function withState(measure: (backend: KeyedStateBackend, open: (restore: KeyedStateHandle[]) => Promise<KeyedStateBackend>) => Promise<number>): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-bench-snapshot-'));
  const storage = new LocalCheckpointStorage({ root: path.join(dir, 'checkpoints'), jobId: 'bench' });
  const open = (restore: KeyedStateHandle[]) =>
    createKeyedStateBackend({ kind: 'lmdb', workDir: dir, operatorUid: 'bench', subtask: 0, keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128, storage, restore });
  const backend = await open([]);
  const s = backend.getValueState<{ count: number; last: string }>(valueState('v'));
  for (let k = 0; k < KEYS; k++) {
    backend.setCurrentKey(k, keyGroupOf(k, 128));
    s.update({ count: k, last: 'x' });
  }
  try {
    return await measure(backend, open);
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

const restore: Benchmark = {
  name: 'state-restore-lmdb',
  metric: 'LMDB keyed state restore of a 1M-key snapshot from local storage into a fresh backend',
  unit: 'ms',
  lowerIsBetter: true,
  runs: 3,
  async run() {
    return {
      value: await withState(async (b, open) => {
        const handle = await b.snapshot(1);
        const t0 = performance.now();
        const restored = await open([handle]);
        const ms = performance.now() - t0;
        await restored.dispose();
        return ms;
      }),
    };
  },
};

export default [whole, stall, restore];
