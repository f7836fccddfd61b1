/**
 * Join benchmarks against hand-written single-threaded loops over the same generators (COST):
 *  - interval-join: records/s (left + right) through an interval join at parallelism 2 on 2 task
 *    managers, LMDB state; baseline: per-key buffers in Maps with watermark cleanup.
 *  - interval-join-heap: the same on heap state (how much of the cost is the state backend);
 *  - interval-join-lagging-watermark: 50 keys and a watermark 2 s behind (heap state), so every key
 *    holds about 40 buffered records per side outside a probe's interval;
 *  - temporal-join-lmdb: a 1M-row dimension table loaded from its changelog into LMDB keyed state and
 *    facts joined with it (event-time temporal join, parallelism 2), records/s (rows + facts) from the
 *    first row to the last joined fact; baseline: fill a Map, then one lookup per fact.
 * Interval throughput is counted at the sink from its first to its last record.
 */
import job, { dimRow, ev, factOf, INTERVAL_KEYS, type Dim, type Ev, type JoinBenchParams, type ProbeTiming } from './jobs/joins.ts';
import type { SinkTiming } from './jobs/pipelines.ts';
import { topicOf } from './jobs/timing.ts';
import { benchCluster, perSecond, withBenchCheckpoints, type Benchmark, type Measurement } from './harness.ts';

const N = Number(process.env.BENCH_RECORDS ?? 500_000);
const FACTS = Number(process.env.BENCH_FACTS ?? 300_000);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);

async function runJob(params: JoinBenchParams, inputRecords: number, expectedOut: number, stateBackend: 'lmdb' | 'heap' = 'lmdb'): Promise<Measurement> {
  // The temporal job fires every held fact in one watermark step (the dimension watermark stays at -1
  // until the table is loaded): on a loaded 2-core machine that blocked a task manager's thread past
  // the 10 s heartbeat timeout and failed the run. The step now yields to the event loop every 16k
  // facts; the longer timeout stays because a benchmark measures throughput, not failure detection.
  const result = await benchCluster({ workers: 2, batchSize: 8192, stateBackend, heartbeat: { timeoutMs: 120_000 }, ...withBenchCheckpoints() }).execute(job, { params, parallelism: 2 });
  const timings = result.get(topicOf<SinkTiming>('timing'));
  const count = timings.reduce((a, t) => a + t.count, 0);
  if (count !== expectedOut) throw new Error(`${params.kind}: the sink saw ${count} records, expected ${expectedOut}`);
  // The temporal job's clock starts when the first dimension row passed its probe (loading the table is timed).
  const probes = result.get(topicOf<ProbeTiming>('probe'));
  const first = probes.length > 0 ? Math.min(...probes.map((p) => p.first)) : Math.min(...timings.map((t) => t.first));
  const last = Math.max(...timings.map((t) => t.last));
  return { value: perSecond(inputRecords, last - first) };
}

let sink = 0;

/** Interval join by hand: per-key time buckets, matched on arrival, dropped when the watermark passes. */
async function intervalBaseline(keys = INTERVAL_KEYS, lagMs = 10): Promise<Measurement> {
  const t0 = performance.now();
  const buffers = [new Map<string, Ev[]>(), new Map<string, Ev[]>()];
  const expiry: [number, string, number][][] = [[], []];
  const heads = [0, 0];
  for (let i = 0; i < N; i++) {
    for (let side = 0; side < 2; side++) {
      const e = ev(i, keys);
      const other = buffers[1 - side]!.get(e.key);
      if (other) for (const o of other) if (o.ts >= e.ts - 2 && o.ts <= e.ts + 2) sink += o.v + e.v;
      const mine = buffers[side]!;
      const list = mine.get(e.key);
      if (list) list.push(e);
      else mine.set(e.key, [e]);
      expiry[side]!.push([e.ts + 2, e.key, e.ts]);
    }
    // Watermark: lagMs behind; drop what can no longer match.
    const wm = ev(i).ts - lagMs - 1;
    for (let side = 0; side < 2; side++) {
      const q = expiry[side]!;
      while (heads[side]! < q.length && q[heads[side]!]![0] <= wm) {
        const [, key, ts] = q[heads[side]!++]!;
        const list = buffers[side]!.get(key)!;
        const at = list.findIndex((x) => x.ts === ts);
        list.splice(at, 1);
        if (list.length === 0) buffers[side]!.delete(key);
      }
    }
  }
  return { value: perSecond(2 * N, performance.now() - t0) };
}

/** Build the table in a Map, then look every fact up: the same work as the job, loading included. */
async function temporalBaseline(): Promise<Measurement> {
  const t0 = performance.now();
  const table = new Map<number, Dim>();
  for (let i = 0; i < ROWS; i++) {
    const row = dimRow(i);
    table.set(row.id, row);
  }
  for (let i = 0; i < FACTS; i++) {
    const f = factOf(i, ROWS);
    sink += f.id + table.get(f.dim)!.tier;
  }
  return { value: perSecond(ROWS + FACTS, performance.now() - t0) };
}

const benchmarks: Benchmark[] = [
  {
    name: 'interval-join',
    metric: `records/s (left + right, ${(2 * N) / 1e6}M) through an interval join, ${INTERVAL_KEYS} keys, p2 on 2 workers, LMDB state`,
    unit: 'records/s',
    runs: 3,
    warmup: 5,
    run: () => runJob({ kind: 'interval', count: N, rows: 0 }, 2 * N, N),
    baseline: intervalBaseline,
  },
  {
    // The same job on heap state: how much of the cost is the state backend.
    name: 'interval-join-heap',
    metric: `records/s (left + right, ${(2 * N) / 1e6}M) through an interval join, ${INTERVAL_KEYS} keys, p2 on 2 workers, heap state`,
    unit: 'records/s',
    runs: 3,
    warmup: 5,
    run: () => runJob({ kind: 'interval', count: N, rows: 0 }, 2 * N, N, 'heap'),
    baseline: intervalBaseline,
  },
  {
    // 50 keys and a watermark 2 s behind: each key buffers about 40 records per side that a probe
    // does not join with (a slow input holding the watermark back); a probe reads only its interval.
    name: 'interval-join-lagging-watermark',
    metric: `records/s (left + right, ${(2 * N) / 1e6}M) through an interval join, 50 keys, watermark 2 s behind, p2 on 2 workers, heap state`,
    unit: 'records/s',
    runs: 3,
    warmup: 5,
    run: () => runJob({ kind: 'interval', count: N, rows: 0, keys: 50, lagMs: 2000 }, 2 * N, N, 'heap'),
    baseline: () => intervalBaseline(50, 2000),
  },
  {
    name: 'temporal-join-lmdb',
    metric: `records/s (${ROWS / 1e6}M dimension rows loaded into LMDB keyed state + ${FACTS / 1e6}M facts joined with them; event-time temporal join, p2)`,
    unit: 'records/s',
    runs: 3,
    warmup: 5,
    run: () => runJob({ kind: 'temporal', count: FACTS, rows: ROWS }, ROWS + FACTS, FACTS),
    baseline: temporalBaseline,
  },
];

export default benchmarks;
