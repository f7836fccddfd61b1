/**
 * Snapshot of 1M keys (ValueState, small objects) in the LMDB and the heap backend to local
 * checkpoint storage: the whole snapshot (until the handle is ready), the synchronous part (until
 * snapshot() returns, the only time processing is stopped), and restoring the LMDB snapshot into a
 * fresh backend. The heap rows' baseline is encoding the same keys and values into one buffer.
 * state-snapshot-cache-*: the checkpoints of a keyed running count whose state is all in the LMDB
 * backend's cache (cache-snapshot.ts; 50k keys, as a subtask of bench checkpoint-overhead holds),
 * with every counter changed between two checkpoints, or a tenth of them.
 * state-snapshot-heap-collections-sync: the heap backend's synchronous part with map and list state.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Benchmark, median } from './harness.ts';
import { valueCodec } from '../state/heap/heap-snapshot.ts';
import { encodeKeyView, stateKeyPrefix } from '../state/layout.ts';
import { type CheckpointStorage, type StateFileHandle, type KeyedStateBackend, type KeyedStateHandle, LocalCheckpointStorage, createKeyedStateBackend, keyGroupOf, listState, mapState, reducingState, valueState } from '../state/index.ts';

const KEYS = 1_000_000;

type BackendKind = 'lmdb' | 'heap';

async function withState(
  measure: (backend: KeyedStateBackend, open: (restore: KeyedStateHandle[]) => Promise<KeyedStateBackend>) => Promise<number>,
  kind: BackendKind = 'lmdb',
): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-bench-snapshot-'));
  const storage = new LocalCheckpointStorage({ root: path.join(dir, 'checkpoints'), jobId: 'bench' });
  const open = (restore: KeyedStateHandle[]) =>
    createKeyedStateBackend({ kind, workDir: dir, operatorUid: 'bench', subtask: 0, keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128, storage, restore });
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

/** ms until the snapshot's handle is ready. */
const wholeSnapshot = (kind: BackendKind) => async () => ({
  value: await withState(async (b) => {
    const t0 = performance.now();
    await b.snapshot(1);
    return performance.now() - t0;
  }, kind),
});

/** ms until snapshot() returns: the time processing is stopped. */
const synchronousPart = (kind: BackendKind) => async () => ({
  value: await withState(async (b) => {
    const t0 = performance.now();
    const p = b.snapshot(1);
    const ms = performance.now() - t0;
    await p;
    return ms;
  }, kind),
});

/** The heap benchmarks' baseline: the encoding a snapshot cannot avoid, every key and value encoded once into one buffer. */
async function encodeOnly(): Promise<{ value: number }> {
  const values: { count: number; last: string }[] = [];
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

const whole: Benchmark = {
  name: 'state-snapshot-lmdb',
  metric: 'LMDB keyed state snapshot of 1M keys to local storage, until the handle is ready',
  unit: 'ms',
  lowerIsBetter: true,
  runs: 3,
  run: wholeSnapshot('lmdb'),
};

const stall: Benchmark = {
  name: 'state-snapshot-lmdb-sync',
  metric: 'LMDB keyed state snapshot of 1M keys: synchronous part (processing stopped)',
  unit: 'ms',
  lowerIsBetter: true,
  runs: 3,
  run: synchronousPart('lmdb'),
};

const heapWhole: Benchmark = {
  name: 'state-snapshot-heap',
  metric: 'heap keyed state snapshot of 1M keys to local storage, until the handle is ready (baseline: encoding the keys and values into one buffer)',
  unit: 'ms',
  lowerIsBetter: true,
  runs: 3,
  run: wholeSnapshot('heap'),
  baseline: encodeOnly,
};

const heapStall: Benchmark = {
  name: 'state-snapshot-heap-sync',
  metric: 'heap keyed state snapshot of 1M keys: synchronous part (processing stopped) (baseline: encoding the keys and values into one buffer)',
  unit: 'ms',
  lowerIsBetter: true,
  runs: 3,
  run: synchronousPart('heap'),
  baseline: encodeOnly,
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

const CACHE_KEYS = 50_000;
const CACHE_SNAPSHOTS = 15;

/** Median ms of a cache snapshot (until the handle is ready) of CACHE_KEYS counters, `changed` of them updated before each. */
async function cacheSnapshots(changed: number): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-bench-snapshot-'));
  // The file is drained, not written: what is measured is the processing thread's encoding.
  const local = new LocalCheckpointStorage({ root: path.join(dir, 'checkpoints'), jobId: 'bench', retainedCheckpoints: 2 });
  const storage: CheckpointStorage = Object.assign(Object.create(local) as CheckpointStorage, {
    async writeFile(_id: number, name: string, data: AsyncIterable<Uint8Array>): Promise<StateFileHandle> {
      let bytes = 0;
      for await (const c of data) bytes += c.length;
      return { name, bytes } as unknown as StateFileHandle;
    },
  });
  const backend = await createKeyedStateBackend({ kind: 'lmdb', workDir: dir, operatorUid: 'bench', subtask: 0, keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128, storage });
  const count = backend.getReducingState(reducingState<number>('count', (a, b) => a + b));
  const keyGroups = Array.from({ length: CACHE_KEYS }, (_, k) => keyGroupOf(k, 128));
  const times: number[] = [];
  try {
    for (let round = 0; round <= CACHE_SNAPSHOTS; round++) {
      const n = round === 0 ? CACHE_KEYS : changed;
      for (let i = 0; i < n; i++) {
        const k = (i * 7919 + round * 104_729) % CACHE_KEYS;
        backend.setCurrentKey(k, keyGroups[k]!);
        count.add(1);
      }
      const t0 = process.cpuUsage();
      await backend.snapshot(round + 1);
      const used = process.cpuUsage(t0);
      if (round > 0) times.push((used.user + used.system) / 1000); // the first encodes every key anyway
    }
    return median(times);
  } finally {
    await backend.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

const cacheAll: Benchmark = {
  name: 'state-snapshot-cache-all-changed',
  metric: `LMDB cache snapshot of ${CACHE_KEYS / 1000}k counters, every one changed since the last (median of ${CACHE_SNAPSHOTS}; CPU ms of the process, the file drained, not written)`,
  unit: 'ms',
  lowerIsBetter: true,
  runs: 3,
  run: async () => ({ value: await cacheSnapshots(CACHE_KEYS) }),
};

const cacheTenth: Benchmark = {
  name: 'state-snapshot-cache-tenth-changed',
  metric: `LMDB cache snapshot of ${CACHE_KEYS / 1000}k counters, a tenth changed since the last (median of ${CACHE_SNAPSHOTS}; CPU ms of the process, the file drained, not written)`,
  unit: 'ms',
  lowerIsBetter: true,
  runs: 3,
  run: async () => ({ value: await cacheSnapshots(CACHE_KEYS / 10) }),
};

const COLLECTION_KEYS = 100_000;

/**
 * ms until snapshot() returns for a heap backend holding, per key, a map of 5 small objects and a
 * list of 5 (the default serializer: the snapshot keeps a copy of each container, encoding after).
 */
async function heapCollectionsStall(): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-bench-snapshot-'));
  const storage = new LocalCheckpointStorage({ root: path.join(dir, 'checkpoints'), jobId: 'bench' });
  const b = await createKeyedStateBackend({ kind: 'heap', workDir: dir, operatorUid: 'bench', subtask: 0, keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128, storage });
  const m = b.getMapState(mapState<number, { a: number; b: string }>('m'));
  const l = b.getListState(listState<{ a: number }>('l'));
  for (let k = 0; k < COLLECTION_KEYS; k++) {
    b.setCurrentKey(k, keyGroupOf(k, 128));
    for (let j = 0; j < 5; j++) {
      m.put(j, { a: j, b: 'x' });
      l.add({ a: j });
    }
  }
  try {
    const t0 = performance.now();
    const p = b.snapshot(1);
    const ms = performance.now() - t0;
    await p;
    return ms;
  } finally {
    await b.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

const heapCollections: Benchmark = {
  name: 'state-snapshot-heap-collections-sync',
  metric: `heap keyed state snapshot of ${COLLECTION_KEYS / 1000}k keys each with a map of 5 and a list of 5 objects: synchronous part (processing stopped)`,
  unit: 'ms',
  lowerIsBetter: true,
  runs: 3,
  run: async () => ({ value: await heapCollectionsStall() }),
};

export default [whole, stall, heapWhole, heapStall, restore, cacheAll, cacheTenth, heapCollections];
