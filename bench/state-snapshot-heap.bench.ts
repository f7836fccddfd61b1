/**
 * Snapshot of 1M keys (ValueState, small objects) in the heap backend to local checkpoint storage:
 * the synchronous part (until snapshot() returns: processing is stopped that long) and the whole
 * snapshot (until the handle is ready). The baseline is the same state's values encoded with the
 * backend's msgpack codec and key codec into one buffer, in one loop: the encoding work a snapshot
 * cannot avoid.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Benchmark } from './harness.ts';
import { type KeyedStateBackend, LocalCheckpointStorage, createKeyedStateBackend, keyGroupOf, valueState } from '../state/index.ts';
import { valueCodec } from '../state/heap/heap-snapshot.ts';
import { encodeKeyView, stateKeyPrefix } from '../state/layout.ts';

const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000);

interface Counter {
  count: number;
  last: string;
}

async function withState(measure: (backend: KeyedStateBackend) => Promise<number>): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-bench-heap-snapshot-'));
  const storage = new LocalCheckpointStorage({ root: path.join(dir, 'checkpoints'), jobId: 'bench' });
  const backend = await createKeyedStateBackend({ kind: 'heap', workDir: dir, operatorUid: 'bench', subtask: 0, keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128, storage, restore: [] });
  const s = backend.getValueState<Counter>(valueState('v'));
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

/** The encoding a snapshot cannot avoid: every key and value encoded once, copied into one buffer. */
async function encodeOnly(): Promise<{ value: number }> {
  const values: Counter[] = [];
  for (let k = 0; k < KEYS; k++) values.push({ count: k, last: 'x' });
  const out = Buffer.allocUnsafe(64 * KEYS);
  const t0 = performance.now();
  let pos = 0;
  for (let k = 0; k < KEYS; k++) {
    const key = encodeKeyView(stateKeyPrefix(keyGroupOf(k, 128), 'v', k));
    out.set(key, pos);
    pos += key.length;
    const v = valueCodec.encode(values[k]);
    out.set(v, pos);
    pos += v.length;
  }
  return { value: performance.now() - t0 };
}

const benchmarks: Benchmark[] = [
  {
    name: 'state-snapshot-heap-sync',
    metric: `heap keyed state snapshot of ${KEYS / 1e6}M keys: synchronous part (processing stopped) (baseline: encoding keys and values into one buffer)`,
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
    baseline: encodeOnly,
  },
  {
    name: 'state-snapshot-heap',
    metric: `heap keyed state snapshot of ${KEYS / 1e6}M keys to local storage, until the handle is ready (baseline: encoding keys and values into one buffer)`,
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
    baseline: encodeOnly,
  },
];

export default benchmarks;
