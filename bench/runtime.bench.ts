/**
 * Runtime core benchmarks (issue: runtime core), each against the same computation written as a
 * plain single-threaded loop over the same generator (the COST baseline):
 *  - exchange: records/s through one exchange between two task managers (target >= 1.5M/s);
 *  - chain-p1 / chain-p2: source -> map -> filter -> sink, chained, at parallelism 1 and 2;
 *  - keyed-count: a keyed running count across 2 task managers;
 *  - group-sum-skewed / -local: a group-by sum with 80% of the records on one key, one phase vs
 *    localAggregation (two phases);
 *  - keyed-state-heap: the keyed operator's state work alone, in this thread: per record the heap
 *    backend's setCurrentKey (with the key hash a keyBy exchange carries) and a value state's
 *    read-modify-write, keys as fresh string objects (cut from one batch string, as the exchange
 *    decodes them); its baseline does the same on a JS Map;
 *  - keyed-state-heap-numbers: the same by composite number keys, mostly distinct (state/number-key-table.ts).
 * Throughput is counted at the sink from its first to its last record, so it leaves out starting
 * worker threads (reported separately as job time by `npm run demo`).
 */
import { HeapKeyedStateBackend } from '../state/heap/heap-backend.ts';
import { valueState } from '../state/index.ts';
import { keyGroupHash, keyGroupOfHash } from '../state/key-groups.ts';
import { topicOf } from './jobs/timing.ts';
import job, { skewedSmall, small, type PipelineParams, type SinkTiming } from './jobs/pipelines.ts';
import { benchCluster, perSecond, type Benchmark, type Measurement } from './harness.ts';

const N = Number(process.env.BENCH_RECORDS ?? 2_000_000);

async function runPipeline(kind: PipelineParams['kind'], parallelism: number, workers = 2): Promise<Measurement> {
  // keyed-count measures the keyed path with heap state (its label; LMDB is the jobs' default backend)
  const result = await benchCluster({ workers, batchSize: 8192, ...(kind === 'keyed-count' ? { stateBackend: 'heap' as const } : {}) }).execute(job, { params: { kind, count: N }, parallelism });
  const timings = result.get(topicOf<SinkTiming>('timing'));
  const count = timings.reduce((a, t) => a + t.count, 0);
  const expected = kind === 'chain' ? N - Math.floor((N + 1) / 3) : N;
  if (count !== expected) throw new Error(`${kind}: the sink saw ${count} records, expected ${expected}`);
  const first = Math.min(...timings.map((t) => t.first));
  const last = Math.max(...timings.map((t) => t.last));
  return { value: perSecond(count, last - first) };
}

/** Input records/s through a group-by sum of skewed keys, one or two phases (the sink sees fewer updates with two). */
async function runGroupSum(local: boolean): Promise<Measurement> {
  const result = await benchCluster({ workers: 2, batchSize: 8192 }).execute(job, { params: { kind: 'group-sum', count: N, skewed: true, local }, parallelism: 2 });
  const timings = result.get(topicOf<SinkTiming>('timing'));
  const first = Math.min(...timings.map((t) => t.first));
  const last = Math.max(...timings.map((t) => t.last));
  return { value: perSecond(N, last - first) };
}

function loop(body: (i: number) => void): Measurement {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) body(i);
  return { value: perSecond(N, performance.now() - t0) };
}

let sink = 0;

// The sinks read the key too, so that neither side can skip building the strings.
const passThroughBaseline = async (): Promise<Measurement> =>
  loop((i) => {
    const r = small(i);
    sink += r.value + r.key.length;
  });

const chainBaseline = async (): Promise<Measurement> =>
  loop((i) => {
    const r = small(i);
    const m = { key: r.key, ts: r.ts, value: r.value * 2 };
    if (m.value % 3 !== 1) sink += m.value + m.key.length;
  });

const counts = new Map<string, number>();
const keyedBaseline = async (): Promise<Measurement> => {
  counts.clear();
  return loop((i) => {
    const r = small(i);
    const n = (counts.get(r.key) ?? 0) + 1;
    counts.set(r.key, n);
    sink += n;
  });
};

const sums = new Map<string, number>();
const groupSumBaseline = async (): Promise<Measurement> => {
  sums.clear();
  return loop((i) => {
    const r = skewedSmall(i);
    const n = (sums.get(r.key) ?? 0) + r.value;
    sums.set(r.key, n);
    sink += n;
  });
};

/** Keys of `small` records as the exchange decodes them: substrings of one batch's joined string. */
function freshKeys(from: number, n: number): string[] {
  const keys = Array.from({ length: n }, (_, i) => small(from + i).key);
  const joined = keys.join('');
  let at = 0;
  return keys.map((k) => joined.substring(at, (at += k.length)));
}

const STATE_BATCH = 8192;

async function keyedStateHeap(): Promise<Measurement> {
  const backend = new HeapKeyedStateBackend({ keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128 });
  const count = backend.getValueState(valueState<number>('n'));
  let ms = 0;
  for (let from = 0; from < N; from += STATE_BATCH) {
    const keys = freshKeys(from, STATE_BATCH);
    const hashes = Int32Array.from(keys, (k) => keyGroupHash(k));
    const t0 = performance.now();
    for (let i = 0; i < keys.length; i++) {
      const h = hashes[i]!;
      backend.setCurrentKey(keys[i]!, keyGroupOfHash(h, 128), h);
      const n = (count.value() ?? 0) + 1;
      count.update(n);
      sink += n;
    }
    ms += performance.now() - t0;
  }
  return { value: perSecond(N, ms) };
}

async function keyedStateMapBaseline(): Promise<Measurement> {
  const m = new Map<string, number>();
  let ms = 0;
  for (let from = 0; from < N; from += STATE_BATCH) {
    const keys = freshKeys(from, STATE_BATCH);
    const t0 = performance.now();
    for (let i = 0; i < keys.length; i++) {
      const n = (m.get(keys[i]!) ?? 0) + 1;
      m.set(keys[i]!, n);
      sink += n;
    }
    ms += performance.now() - t0;
  }
  return { value: perSecond(N, ms) };
}

/**
 * Composite number keys as Nexmark q18's (bidder x 2^22 + auction: beyond the small-integer range),
 * mostly distinct over N records, with their key-group hashes; made once, outside the timing.
 */
let numberKeys: { keys: Float64Array; hashes: Int32Array } | undefined;
function compositeNumberKeys(): { keys: Float64Array; hashes: Int32Array } {
  if (numberKeys) return numberKeys;
  const keys = new Float64Array(N);
  const hashes = new Int32Array(N);
  let seed = 99;
  const next = (n: number): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  for (let i = 0; i < N; i++) {
    keys[i] = (1000 + next(20_000)) * 4_194_304 + 1000 + next(100_000);
    hashes[i] = keyGroupHash(keys[i]!);
  }
  return (numberKeys = { keys, hashes });
}

async function keyedStateHeapNumbers(): Promise<Measurement> {
  const { keys, hashes } = compositeNumberKeys();
  const backend = new HeapKeyedStateBackend({ keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128 });
  const count = backend.getValueState(valueState<number>('n'));
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const h = hashes[i]!;
    backend.setCurrentKey(keys[i]!, keyGroupOfHash(h, 128), h);
    const n = (count.value() ?? 0) + 1;
    count.update(n);
    sink += n;
  }
  return { value: perSecond(N, performance.now() - t0) };
}

async function numberKeysMapBaseline(): Promise<Measurement> {
  const { keys } = compositeNumberKeys();
  const m = new Map<number, number>();
  return loop((i) => {
    const n = (m.get(keys[i]!) ?? 0) + 1;
    m.set(keys[i]!, n);
    sink += n;
  });
}

const benchmarks: Benchmark[] = [
  { name: 'exchange', metric: `records/s through one exchange between two workers (${N / 1e6}M {key,ts,value})`, unit: 'records/s', runs: 5, warmup: 5, run: () => runPipeline('exchange', 1), baseline: passThroughBaseline },
  { name: 'chain-p1', metric: 'records/s, chained source->map->filter->sink, parallelism 1', unit: 'records/s', runs: 5, warmup: 5, run: () => runPipeline('chain', 1, 1), baseline: chainBaseline },
  { name: 'chain-p2', metric: 'records/s, chained source->map->filter->sink, parallelism 2', unit: 'records/s', runs: 5, warmup: 5, run: () => runPipeline('chain', 2), baseline: chainBaseline },
  {
    name: 'group-sum-skewed',
    metric: 'input records/s, group-by sum (aggregateChangelog) with 80% of records on one key, 2 workers, heap state, one phase',
    unit: 'records/s',
    runs: 3,
    warmup: 5,
    run: () => runGroupSum(false),
    baseline: groupSumBaseline,
  },
  {
    name: 'group-sum-skewed-local',
    metric: 'the same with localAggregation (two phases)',
    unit: 'records/s',
    runs: 3,
    warmup: 5,
    run: () => runGroupSum(true),
    baseline: groupSumBaseline,
  },
  { name: 'keyed-state-heap', metric: 'records/s, heap value state read-modify-write by fresh key strings with the carried key hash, one thread', unit: 'records/s', runs: 5, run: keyedStateHeap, baseline: keyedStateMapBaseline },
  {
    name: 'keyed-state-heap-numbers',
    metric: 'records/s, the same by mostly distinct composite number keys beyond 2^31 (Nexmark q18: bidder x 2^22 + auction), one thread',
    unit: 'records/s',
    runs: 5,
    run: keyedStateHeapNumbers,
    baseline: numberKeysMapBaseline,
  },
  { name: 'keyed-count', metric: 'records/s, keyed running count across 2 workers (heap state)', unit: 'records/s', runs: 5, warmup: 5, run: () => runPipeline('keyed-count', 2), baseline: keyedBaseline },
];

export default benchmarks;
