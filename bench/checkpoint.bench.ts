/**
 * Checkpointing costs (issue: exactly-once):
 *  - checkpoint-overhead: keyed running count (LMDB state, 2 workers) with a checkpoint every 1 s,
 *    against the same job without checkpoints (ratio = with / without; target >= 0.9);
 *  - checkpoint-1m-keys / checkpoint-10m-keys: duration of a snapshot of keyed state holding 1M
 *    (10M) keys, with its size in the metric text: a savepoint (the same work as a checkpoint) taken
 *    once the keyed count processed its bounded input, while a second source keeps the job running
 *    (until session 14 the final checkpoint was measured, which now writes no keyed state);
 *  - recovery-time: from killing a worker thread to the sink receiving records again;
 *  - checkpoint-under-backpressure: checkpoints asked for every 500 ms while a keyed stage slower
 *    than its source runs at full speed (back-pressured): median checkpoint duration, with the p90
 *    and the alignment time in the metric text. `BENCH_SPIN` sets the keyed stage's extra work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ClusterOptions, MiniCluster } from 'weir';
import job, { type SinkTiming } from './jobs/pipelines.ts';
import { topicOf } from './jobs/timing.ts';
import { perSecond, type Benchmark, type Measurement } from './harness.ts';

const N = Number(process.env.BENCH_RECORDS ?? 4_000_000);

function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-bench-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

function cluster(dir: string, checkpointMs: number, extra: ClusterOptions = {}): MiniCluster {
  return new MiniCluster({
    workers: 2,
    batchSize: 8192,
    stateBackend: 'lmdb',
    workDir: path.join(dir, 'work'),
    checkpoints: { intervalMs: checkpointMs, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } },
    ...extra,
  });
}

async function keyedThroughput(checkpointMs: number): Promise<Measurement> {
  const s = scratch();
  try {
    const result = await cluster(s.dir, checkpointMs).execute(job, { params: { kind: 'keyed-count', count: N, keys: 100_000 }, parallelism: 2 });
    const timings = result.get(topicOf<SinkTiming>('timing'));
    const count = timings.reduce((a, t) => a + t.count, 0);
    if (count !== N) throw new Error(`sink saw ${count} records, expected ${N}`);
    return { value: perSecond(count, Math.max(...timings.map((t) => t.last)) - Math.min(...timings.map((t) => t.first))) };
  } finally {
    s.done();
  }
}

const sizes: Record<string, number> = {};

const SPIN = Number(process.env.BENCH_SPIN ?? 1000);
const BP_RECORDS = Number(process.env.BENCH_BP_RECORDS ?? 500_000);
/** `BENCH_DEBLOAT=off` measures without buffer debloating (the before of issue 9); a number sets its target (ms). */
const DEBLOAT_ENV = process.env.BENCH_DEBLOAT;
const DEBLOAT: ClusterOptions['debloat'] = DEBLOAT_ENV === 'off' ? false : DEBLOAT_ENV ? { targetMs: Number(DEBLOAT_ENV) } : true;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** Every completed checkpoint of every run, for the metric text. */
const underBackPressure = { durations: [] as number[], alignments: [] as number[], aborted: 0, recordsPerSecond: [] as number[] };

async function checkpointsUnderBackPressure(): Promise<Measurement> {
  const s = scratch();
  try {
    const started = performance.now();
    const handle = await cluster(s.dir, 500, { debloat: DEBLOAT }).submit(job, {
      params: { kind: 'keyed-count', count: BP_RECORDS, keys: 100_000, spin: SPIN },
      parallelism: 2,
    });
    await handle.result();
    underBackPressure.recordsPerSecond.push(perSecond(BP_RECORDS, performance.now() - started));
    // The last checkpoint is the final one after the end of input (nothing in flight): leave it out.
    const periodic = handle.checkpoints().filter((c) => !c.savepoint).slice(0, -1);
    const done = periodic.filter((c) => c.status === 'completed');
    underBackPressure.aborted += periodic.length - done.length;
    const durations = done.map((c) => c.durationMs!);
    underBackPressure.durations.push(...durations);
    underBackPressure.alignments.push(...done.map((c) => c.alignmentMs ?? 0));
    if (durations.length === 0) throw new Error('no periodic checkpoint completed');
    return { value: percentile(durations, 50) };
  } finally {
    s.done();
  }
}

async function stateSnapshot(keys: number, name: string): Promise<Measurement> {
  const s = scratch();
  try {
    const handle = await cluster(s.dir, 600_000).submit(job, { params: { kind: 'keyed-count', count: keys, keys, keepRunning: true }, parallelism: 2 });
    try {
      const counted = async (): Promise<number> => (await handle.metrics()).operators.find((o) => o.name === 'timing-sink')?.recordsIn ?? 0;
      // A stalled job fails the benchmark instead of hanging it (the keyed count over 10M keys once
      // stalled at 4M: the LMDB cache's table, fixed in session 18).
      let seen = 0;
      let since = Date.now();
      for (let n = await counted(); n < keys; n = await counted()) {
        if (n > seen) [seen, since] = [n, Date.now()];
        else if (Date.now() - since > 60_000) throw new Error(`the keyed count made no progress for 60 s at ${n} of ${keys} records`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await handle.triggerSavepoint();
      const savepoint = handle.checkpoints().filter((c) => c.status === 'completed' && c.savepoint).at(-1);
      if (!savepoint) throw new Error('the savepoint did not complete');
      sizes[name] = savepoint.bytes ?? 0;
      return { value: savepoint.durationMs ?? 0 };
    } finally {
      await handle.cancel();
    }
  } finally {
    s.done();
  }
}

/** Per run of recovery-time: where the time went (ms), printed and kept for the metric text. */
const recoveries: Record<string, number>[] = [];

async function recoveryTime(): Promise<Measurement> {
  const s = scratch();
  try {
    const handle = await cluster(s.dir, 500, { restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 0 } }).submit(job, {
      params: { kind: 'keyed-count', count: 50_000_000, keys: 100_000, ratePerSecond: 200_000 },
      parallelism: 2,
    });
    const sinkIn = async (): Promise<number> => (await handle.metrics()).operators.find((o) => o.name === 'timing-sink')?.recordsIn ?? 0;
    while (handle.checkpoints().filter((c) => c.status === 'completed').length < 2) await new Promise((r) => setTimeout(r, 20));
    const killedAt = Date.now();
    handle.killTaskManager(1);
    while (!handle.lastRecovery?.runningAt) await new Promise((r) => setTimeout(r, 2));
    while ((await sinkIn()) === 0) await new Promise((r) => setTimeout(r, 2));
    const flowingAt = Date.now();
    const ms = flowingAt - killedAt;
    // Some subtasks may emit before the last one has restored: wait for that too, for the breakdown.
    for (let i = 0; i < 500 && handle.failovers()[0]?.recoveredAt === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    const f = handle.failovers()[0]!;
    const b = f.breakdown!;
    const steps: Record<string, number> = {
      total: ms,
      detect: f.at - killedAt,
      stop: b.stopMs,
      delay: b.delayMs,
      findCheckpoint: b.findCheckpointMs,
      startWorkers: b.startWorkersMs,
      deploy: b.deployMs,
      // From the tasks running to the last one having restored its state, and to the first record
      // at the sink (the two overlap: a restored subtask emits while another still restores).
      restoreAll: b.restoreMs ?? Number.NaN,
      firstRecord: flowingAt - f.runningAt!,
    };
    recoveries.push(steps);
    const tms = f.taskManagers;
    process.stderr.write(`\nrecovery: ${Object.entries(steps).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}; task managers kept ${tms?.kept}, from spare ${tms?.fromSpare}, started ${tms?.started}\n`);
    await handle.cancel();
    return { value: ms };
  } finally {
    s.done();
  }
}

/** Median of each recovery step over the runs so far. */
function recoveryBreakdown(): string {
  if (recoveries.length === 0) return '';
  const keys = Object.keys(recoveries[0]!).filter((k) => k !== 'total');
  const med = (k: string): number => {
    const v = recoveries.map((r) => r[k]!).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)]!;
  };
  return `; median steps (ms): ${keys.map((k) => `${k} ${Math.round(med(k))}`).join(', ')}`;
}

const benchmarks: Benchmark[] = [
  {
    name: 'checkpoint-overhead',
    metric: `records/s, keyed running count over 100k keys (LMDB, 2 workers, ${N / 1e6}M records) with 1 s checkpoints; baseline: no checkpoints`,
    unit: 'records/s',
    runs: 3,
    run: () => keyedThroughput(1000),
    baseline: () => keyedThroughput(0),
  },
  {
    name: 'checkpoint-1m-keys',
    get metric() {
      return `duration of a savepoint (a checkpoint's work) with 1M keys in LMDB keyed state, taken at rest (last size ${((sizes['1m'] ?? 0) / 2 ** 20).toFixed(1)} MiB)`;
    },
    unit: 'ms',
    lowerIsBetter: true,
    runs: 3,
    run: () => stateSnapshot(1_000_000, '1m'),
  },
  {
    name: 'checkpoint-10m-keys',
    get metric() {
      return `duration of a savepoint (a checkpoint's work) with 10M keys in LMDB keyed state, taken at rest (last size ${((sizes['10m'] ?? 0) / 2 ** 20).toFixed(1)} MiB)`;
    },
    unit: 'ms',
    lowerIsBetter: true,
    runs: 1,
    run: () => stateSnapshot(10_000_000, '10m'),
  },
  {
    name: 'checkpoint-under-backpressure',
    get metric() {
      const b = underBackPressure;
      return (
        `median checkpoint duration, 500 ms interval, keyed count (LMDB, 2 workers, spin ${SPIN}, debloating ${DEBLOAT === false ? 'off' : DEBLOAT === true ? 'on' : `target ${DEBLOAT_ENV} ms`}) slower than its source; ` +
        `all runs: ${b.durations.length} checkpoints, p90 ${percentile(b.durations, 90).toFixed(0)} ms, ` +
        `alignment median ${percentile(b.alignments, 50).toFixed(0)} ms p90 ${percentile(b.alignments, 90).toFixed(0)} ms, ` +
        `${b.aborted} aborted, job ${(percentile(b.recordsPerSecond, 50) / 1e3).toFixed(0)}k records/s`
      );
    },
    unit: 'ms',
    lowerIsBetter: true,
    runs: 3,
    run: checkpointsUnderBackPressure,
  },
  {
    name: 'recovery-time',
    get metric() {
      return `ms from killing a worker thread to the sink receiving records again (restart delay 0)${recoveryBreakdown()}`;
    },
    unit: 'ms',
    lowerIsBetter: true,
    runs: 5,
    run: recoveryTime,
  },
];

export default benchmarks;
