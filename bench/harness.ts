/**
 * What every benchmark is: a name, what it measures, and a function that runs the measured work once
 * and the baseline once. The runner (`bench/run.ts`) repeats both, takes medians, prints a row and
 * writes `bench/results/<name>.json`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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
