/**
 * Window benchmarks (issue: event-time windows): records/s through a keyed event-time window
 * counting per key (1000 keys, records 1 ms apart, in order), across 2 task managers at
 * parallelism 2 with heap state, and once with LMDB state:
 *  - window-tumbling: tumbling 10 s;
 *  - window-sliding-1s / window-sliding-100ms: sliding 10 s every 1 s / 100 ms (10 and 100
 *    windows per record; the operator writes one pane per record, so state cost does not grow
 *    with size/slide, firing cost does).
 *  - window-tumbling-skewed / -skewed-local: tumbling 10 s with 80% of the records on one key,
 *    without and with localAggregation (two-phase aggregation).
 * Baselines: the same counts as hand-written single-threaded loops over the same generator (a map
 * per key of counts per pane, windows summed from panes when event time passes their end).
 */
import { topicOf } from './jobs/timing.ts';
import job, { SIZE_MS, skewedTick, tick, type WindowBenchParams } from './jobs/windows.ts';
import type { SinkTiming } from './jobs/pipelines.ts';
import { benchCluster, perSecond, withBenchCheckpoints, type Benchmark, type Measurement } from './harness.ts';

const N = Number(process.env.BENCH_RECORDS ?? 2_000_000);
const KEYS = 1000;

async function runWindows(kind: WindowBenchParams['kind'], slideMs: number, stateBackend: 'heap' | 'lmdb' = 'heap', input: { skewed?: boolean; local?: boolean } = {}): Promise<Measurement> {
  const result = await benchCluster({ workers: 2, batchSize: 8192, stateBackend, ...withBenchCheckpoints() }).execute(job, { params: { kind, slideMs, count: N, keys: KEYS, ...input }, parallelism: 2 });
  const timings = result.get(topicOf<SinkTiming>('timing'));
  const firsts = result.get(topicOf<number>('first'));
  const counted = timings.reduce((a, t) => a + t.checksum, 0);
  const expected = N * (SIZE_MS / slideMs);
  // Every record is counted in size/slide windows (the first windows of the stream hold fewer).
  if (Math.abs(counted - expected) > KEYS * (SIZE_MS / slideMs) ** 2) throw new Error(`${kind}/${slideMs}: counted ${counted}, expected about ${expected}`);
  const first = Math.min(...firsts);
  const last = Math.max(...timings.map((t) => t.last));
  return { value: perSecond(N, last - first) };
}

let sink = 0;

/** Counts per key in panes of `slideMs`; when event time passes a window end, sums its panes for every key. */
async function paneBaseline(slideMs: number, tickOf: typeof tick = tick): Promise<Measurement> {
  const panesPerWindow = SIZE_MS / slideMs;
  const t0 = performance.now();
  // Per key: a ring of pane counts.
  const rings = new Map<string, Int32Array>();
  let currentPane = -1;
  const fire = (paneIndex: number): void => {
    // The window ending after pane `paneIndex` covers panes paneIndex - panesPerWindow + 1 .. paneIndex.
    for (const ring of rings.values()) {
      let c = 0;
      for (let j = 0; j < panesPerWindow; j++) c += ring[j]!;
      if (c > 0) sink += c;
      ring[(paneIndex + 1) % panesPerWindow] = 0;
    }
  };
  for (let i = 0; i < N; i++) {
    const t = tickOf(i, KEYS);
    const pane = Math.floor(t.ts / slideMs);
    if (currentPane >= 0 && pane !== currentPane) for (let p = currentPane; p < pane; p++) fire(p);
    currentPane = pane;
    let ring = rings.get(t.key);
    if (!ring) {
      ring = new Int32Array(panesPerWindow);
      rings.set(t.key, ring);
    }
    ring[pane % panesPerWindow]!++;
  }
  for (let p = currentPane; p < currentPane + panesPerWindow; p++) fire(p);
  return { value: perSecond(N, performance.now() - t0) };
}

const benchmarks: Benchmark[] = [
  { name: 'window-tumbling', metric: `records/s, count per key in tumbling 10 s event-time windows, 1000 keys, parallelism 2, heap state (${N / 1e6}M records)`, unit: 'records/s', runs: 3, warmup: 5, run: () => runWindows('tumbling', SIZE_MS), baseline: () => paneBaseline(SIZE_MS) },
  { name: 'window-tumbling-lmdb', metric: 'records/s, the same with LMDB state', unit: 'records/s', runs: 3, warmup: 5, run: () => runWindows('tumbling', SIZE_MS, 'lmdb'), baseline: () => paneBaseline(SIZE_MS) },
  // 80% of the records on one key: one phase sends them all to the hot key's subtask; two phases
  // (localAggregation) fold them per pane in each source subtask first.
  { name: 'window-tumbling-skewed', metric: 'records/s, the same count with 80% of records on one key, heap state, one phase', unit: 'records/s', runs: 3, warmup: 5, run: () => runWindows('tumbling', SIZE_MS, 'heap', { skewed: true }), baseline: () => paneBaseline(SIZE_MS, skewedTick) },
  { name: 'window-tumbling-skewed-local', metric: 'records/s, the same skewed count with localAggregation (two phases), heap state', unit: 'records/s', runs: 3, warmup: 5, run: () => runWindows('tumbling', SIZE_MS, 'heap', { skewed: true, local: true }), baseline: () => paneBaseline(SIZE_MS, skewedTick) },
  { name: 'window-sliding-1s', metric: 'records/s, count per key in sliding 10 s windows every 1 s, parallelism 2, heap state', unit: 'records/s', runs: 3, warmup: 5, run: () => runWindows('sliding', 1000), baseline: () => paneBaseline(1000) },
  { name: 'window-sliding-100ms', metric: 'records/s, count per key in sliding 10 s windows every 100 ms, parallelism 2, heap state', unit: 'records/s', runs: 3, warmup: 5, run: () => runWindows('sliding', 100), baseline: () => paneBaseline(100) },
];

export default benchmarks;
