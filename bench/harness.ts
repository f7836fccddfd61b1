/**
 * What every benchmark is: a name, what it measures, and a function that runs the measured work once
 * and the baseline once. The runner (`bench/run.ts`) repeats both, takes medians, prints a row and
 * writes `bench/results/<name>.json`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type JobDefinition, type JobHandle, type JobResult, MiniCluster, type MiniClusterOptions, type SubmitOptions } from 'weir';

export interface Measurement {
  /** The measured quantity in `unit` (e.g. records/s); higher is better unless `lowerIsBetter`. */
  value: number;
}

export interface Benchmark {
  name: string;
  /** What is measured, e.g. "records/s through one exchange between two workers, 1M records". */
  metric: string;
  unit: string;
  lowerIsBetter?: boolean;
  /** How many times to run each side; medians are reported. */
  runs?: number;
  /**
   * Runs done and discarded before the measured ones when task managers are warm (`benchCluster`):
   * the JIT compiles the job's hot code during these, as JMH's warm-up iterations do for Flink's
   * benchmarks. Ignored with BENCH_COLD=1.
   */
  warmup?: number;
  run(): Promise<Measurement>;
  /** The same computation as a hand-written single-threaded loop (COST), if there is one. */
  baseline?(): Promise<Measurement>;
}

export interface BenchmarkResult {
  benchmark: string;
  metric: string;
  unit: string;
  value: number;
  baseline: number | null;
  ratio: number | null;
  runs: number;
  /** 'warm': measured on task manager threads that ran the job before (`benchCluster`); 'cold': on new threads each run; absent: no cluster. */
  taskManagers?: 'warm' | 'cold';
  machine: string;
}

export function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus.length} x ${cpus[0]?.model ?? 'unknown cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Records per second for `count` records done in `ms` milliseconds. */
export function perSecond(count: number, ms: number): number {
  return (count * 1000) / ms;
}

/**
 * `BENCH_CHECKPOINT_MS=<ms>`: the stateful benchmarks (joins, windows) take exactly-once checkpoints
 * every <ms> into a temporary directory (removed at exit), as a production job would; unset, they
 * run without checkpoints (the default, comparable with earlier figures). Operators that keep work
 * in memory between barriers (interval and temporal joins) move it into keyed state at every
 * checkpoint, so this shows what a checkpoint interval costs them. Spread into MiniCluster options.
 */
export function withBenchCheckpoints(): { checkpoints?: { intervalMs: number; mode: 'exactly-once'; storage: { kind: 'local'; dir: string } } } {
  const ms = process.env.BENCH_CHECKPOINT_MS;
  if (ms === undefined || ms === '') return {};
  const intervalMs = Number(ms);
  if (!(Number.isInteger(intervalMs) && intervalMs > 0)) throw new Error(`BENCH_CHECKPOINT_MS must be a whole number of milliseconds > 0, got '${ms}'`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-bench-checkpoints-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { checkpoints: { intervalMs, mode: 'exactly-once', storage: { kind: 'local', dir } } };
}

/**
 * `BENCH_COLD=1` (or `npm run bench -- --cold`): every run starts new task manager threads, whose
 * code the JIT has not compiled yet, as before session 10; by default the benchmarks that use
 * `benchCluster` run on warm ones.
 */
export function coldTaskManagers(): boolean {
  const v = process.env.BENCH_COLD;
  return v !== undefined && v !== '' && v !== '0';
}

/** Session clusters of the running benchmark, by their options: one set of warm task manager threads each. */
const sessions = new Map<string, MiniCluster>();
/** How the running benchmark's clusters ran, once it made one. */
let clustersRan: 'warm' | 'cold' | undefined;

/** A cluster that runs a benchmark's jobs (submit or execute), warm or cold as the run asked. */
export interface BenchCluster {
  submit<P>(job: JobDefinition<P>, options?: SubmitOptions<P>): Promise<JobHandle>;
  execute<P>(job: JobDefinition<P>, options?: SubmitOptions<P>): Promise<JobResult>;
}

/**
 * The cluster a benchmark runs its job on. By default, its task manager threads are kept across the
 * benchmark's runs (a MiniCluster with `reuseTaskManagers`), so the measured runs use code the JIT
 * has compiled, as the baseline loop does after its first run; the runner discards the first
 * `warmup` runs. With BENCH_COLD=1 every run gets new threads. Checkpoint settings go with each job
 * (they name a new directory per run), the rest choose the session.
 */
export function benchCluster(options: Omit<MiniClusterOptions, 'reuseTaskManagers'>): BenchCluster {
  const { checkpoints, ...clusterOptions } = options;
  const withCheckpoints = <P>(o: SubmitOptions<P>): SubmitOptions<P> => (checkpoints ? { ...o, checkpoints: { ...checkpoints, ...o.checkpoints } } : o);
  clustersRan = coldTaskManagers() ? 'cold' : 'warm';
  if (coldTaskManagers()) {
    const cluster = new MiniCluster(clusterOptions);
    return { submit: (job, o = {}) => cluster.submit(job, withCheckpoints(o)), execute: (job, o = {}) => cluster.execute(job, withCheckpoints(o)) };
  }
  const key = JSON.stringify(clusterOptions);
  let cluster = sessions.get(key);
  if (!cluster) {
    cluster = new MiniCluster({ ...clusterOptions, reuseTaskManagers: true });
    sessions.set(key, cluster);
  }
  const session = cluster;
  return { submit: (job, o = {}) => session.submit(job, withCheckpoints(o)), execute: (job, o = {}) => session.execute(job, withCheckpoints(o)) };
}

/** Ends the task manager threads `benchCluster` kept (the runner calls this after each benchmark); says how its clusters ran. */
export async function closeBenchClusters(): Promise<'warm' | 'cold' | undefined> {
  const open = [...sessions.values()];
  sessions.clear();
  await Promise.all(open.map((c) => c.close()));
  const ran = clustersRan;
  clustersRan = undefined;
  return ran;
}
