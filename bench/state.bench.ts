/**
 * Keyed ValueState through the LMDB backend: one read and one write per operation on random keys
 * out of 1M (all present), against raw lmdb-js get + put (auto-batched async puts) on the same keys.
 * Once with the default cache (1M entries on a default heap: the working set fits), once with a
 * cache of 100k entries (90% of the reads miss and go to LMDB, evictions write back).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import { type Benchmark, perSecond } from './harness.ts';
import { LocalCheckpointStorage, createKeyedStateBackend, keyGroupOf, valueState } from '../state/index.ts';

const KEYS = 1_000_000;
const OPS = 1_000_000;
const MAX_PARALLELISM = 128;

function randomKeys(): Uint32Array {
  const keys = new Uint32Array(OPS);
  let x = 123456789;
  for (let i = 0; i < OPS; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    keys[i] = (x >>> 0) % KEYS;
  }
  return keys;
}

async function valueStateOps(cacheEntries: number | undefined): Promise<{ value: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-bench-state-'));
  const backend = await createKeyedStateBackend({
    kind: 'lmdb',
    workDir: dir,
    operatorUid: 'bench',
    subtask: 0,
    keyGroupRange: { start: 0, end: MAX_PARALLELISM - 1 },
    maxParallelism: MAX_PARALLELISM,
    storage: new LocalCheckpointStorage({ root: dir, jobId: 'bench' }),
    ...(cacheEntries ? { cacheEntries } : {}),
  });
  const s = backend.getValueState<number>(valueState('count'));
  for (let k = 0; k < KEYS; k++) {
    backend.setCurrentKey(k, keyGroupOf(k, MAX_PARALLELISM));
    s.update(0);
  }
  const keys = randomKeys();
  const t0 = performance.now();
  for (let i = 0; i < OPS; i++) {
    const k = keys[i]!;
    backend.setCurrentKey(k, keyGroupOf(k, MAX_PARALLELISM));
    s.update((s.value() ?? 0) + 1);
  }
  (backend as unknown as { flush(): void }).flush();
  const ms = performance.now() - t0;
  await backend.dispose();
  await rm(dir, { recursive: true, force: true });
  return { value: perSecond(OPS, ms) };
}

async function rawLmdbOps(): Promise<{ value: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-bench-lmdb-'));
  // The same environment settings as the backend's (scratch space: no fsync).
  const env = open({ path: dir, noSync: true, noMetaSync: true, cache: false });
  const db = env.openDB<number, number>('state', {});
  env.transactionSync(() => {
    for (let k = 0; k < KEYS; k++) db.putSync(k, 0);
  });
  const keys = randomKeys();
  const t0 = performance.now();
  let last: Promise<boolean> | undefined;
  for (let i = 0; i < OPS; i++) {
    const k = keys[i]!;
    last = db.put(k, (db.get(k) ?? 0) + 1);
  }
  await last;
  const ms = performance.now() - t0;
  await env.close();
  await rm(dir, { recursive: true, force: true });
  return { value: perSecond(OPS, ms) };
}

const benchmarks: Benchmark[] = [
  {
    name: 'state-lmdb-value',
    metric: 'ValueState read+write ops/s, random keys of 1M, LMDB backend (baseline: raw lmdb-js get+put)',
    unit: 'ops/s',
    runs: 3,
    run: () => valueStateOps(undefined),
    baseline: rawLmdbOps,
  },
  {
    name: 'state-lmdb-value-spill',
    metric: 'ValueState read+write ops/s, random keys of 1M, LMDB backend with a 100k-entry cache (baseline: raw lmdb-js get+put)',
    unit: 'ops/s',
    runs: 3,
    run: () => valueStateOps(100_000),
    baseline: rawLmdbOps,
  },
];

export default benchmarks;
