/**
 * Runtime core benchmarks (issue: runtime core), each against the same computation written as a
 * plain single-threaded loop over the same generator (the COST baseline):
 *  - exchange: records/s through one exchange between two task managers (target >= 1.5M/s);
 *  - chain-p1 / chain-p2: source -> map -> filter -> sink, chained, at parallelism 1 and 2;
 *  - keyed-count: a keyed running count across 2 task managers;
 *  - group-sum-skewed / -local: a group-by sum with 80% of the records on one key, one phase vs
 *    localAggregation (two phases).
 * Throughput is counted at the sink from its first to its last record, so it leaves out starting
 * worker threads (reported separately as job time by `npm run demo`).
 */
import { MiniCluster } from 'weir';
import { topicOf } from './jobs/timing.ts';
import job, { skewedSmall, small, type PipelineParams, type SinkTiming } from './jobs/pipelines.ts';
import { perSecond, type Benchmark, type Measurement } from './harness.ts';

const N = Number(process.env.BENCH_RECORDS ?? 2_000_000);

async function runPipeline(kind: PipelineParams['kind'], parallelism: number, workers = 2): Promise<Measurement> {
  // keyed-count measures the keyed path with heap state (its label; LMDB is the jobs' default backend)
  const result = await new MiniCluster({ workers, batchSize: 8192, ...(kind === 'keyed-count' ? { stateBackend: 'heap' as const } : {}) }).execute(job, { params: { kind, count: N }, parallelism });
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
  const result = await new MiniCluster({ workers: 2, batchSize: 8192 }).execute(job, { params: { kind: 'group-sum', count: N, skewed: true, local }, parallelism: 2 });
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

const benchmarks: Benchmark[] = [
  { name: 'exchange', metric: `records/s through one exchange between two workers (${N / 1e6}M {key,ts,value})`, unit: 'records/s', runs: 5, run: () => runPipeline('exchange', 1), baseline: passThroughBaseline },
  { name: 'chain-p1', metric: 'records/s, chained source->map->filter->sink, parallelism 1', unit: 'records/s', runs: 5, run: () => runPipeline('chain', 1, 1), baseline: chainBaseline },
  { name: 'chain-p2', metric: 'records/s, chained source->map->filter->sink, parallelism 2', unit: 'records/s', runs: 5, run: () => runPipeline('chain', 2), baseline: chainBaseline },
  {
    name: 'group-sum-skewed',
    metric: 'input records/s, group-by sum (aggregateChangelog) with 80% of records on one key, 2 workers, heap state, one phase',
    unit: 'records/s',
    runs: 3,
    run: () => runGroupSum(false),
    baseline: groupSumBaseline,
  },
  {
    name: 'group-sum-skewed-local',
    metric: 'the same with localAggregation (two phases)',
    unit: 'records/s',
    runs: 3,
    run: () => runGroupSum(true),
    baseline: groupSumBaseline,
  },
  { name: 'keyed-count', metric: 'records/s, keyed running count across 2 workers (heap state)', unit: 'records/s', runs: 5, run: () => runPipeline('keyed-count', 2), baseline: keyedBaseline },
];

export default benchmarks;
