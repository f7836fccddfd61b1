/**
 * Job submission to first record: from launching `weir run <job>` to the job's first record, on a
 * running standalone cluster (`weir cluster start`: task managers up, runtime loaded) against the
 * baseline `weir run --local` (the job runs in the command's own process, which starts its task
 * manager threads first). Both count the command's own start (node + tsx) alike. The cluster is
 * started once, before the first run, and stopped when the benchmark process exits.
 * `cluster-rest-submit-to-first-record` submits with POST /jobs instead of the command: the
 * cluster's own part, without starting a command process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark, Measurement } from './harness.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'runtime/cli/bin.mjs');
const job = path.join(root, 'bench/jobs/first-record.ts');
const work = mkdtempSync(path.join(os.tmpdir(), 'weir-bench-submit-'));
const dir = path.join(work, 'cluster');
const env = { ...process.env, WEIR_HOME: path.join(work, 'home'), CI: 'true' };
let started = false;
let runs = 0;

function ensureCluster(): void {
  if (started) return;
  execFileSync(process.execPath, [bin, 'cluster', 'start', '--dir', dir, '--workers', '2', '--port', '0', '--state', 'heap'], { env, cwd: root });
  started = true;
  process.on('exit', () => {
    execFileSync(process.execPath, [bin, 'cluster', 'stop', '--dir', dir], { env, cwd: root });
    rmSync(work, { recursive: true, force: true });
  });
}

/** Milliseconds from spawning `weir run` with `args` to the job's first record. */
async function firstRecordMs(args: string[]): Promise<Measurement> {
  const marker = path.join(work, `marker-${runs++}`);
  const t0 = Date.now();
  const child = spawn(process.execPath, [bin, 'run', job, '--parallelism', '1', '--params', JSON.stringify({ marker }), ...args], { env, cwd: root, stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  // --detached returns once the job is submitted: the first record may come a little later.
  for (let waited = 0; code === 0 && !existsSync(marker) && waited < 30_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
  if (code !== 0 || !existsSync(marker)) throw new Error(`weir run ${args.join(' ')} exited ${code} without a first record`);
  return { value: Number(readFileSync(marker, 'utf8')) - t0 };
}

/** Milliseconds from POST /jobs (no command process) to the job's first record. */
async function restFirstRecordMs(): Promise<Measurement> {
  const marker = path.join(work, `marker-${runs++}`);
  const { url } = JSON.parse(readFileSync(path.join(dir, 'cluster.json'), 'utf8')) as { url: string };
  const t0 = Date.now();
  const res = await fetch(new URL('/jobs', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ module: job, parallelism: 1, params: { marker } }) });
  if (!res.ok) throw new Error(`POST /jobs: ${res.status} ${await res.text()}`);
  for (let waited = 0; !existsSync(marker) && waited < 30_000; waited += 2) await new Promise((r) => setTimeout(r, 2));
  return { value: Number(readFileSync(marker, 'utf8')) - t0 };
}

const baseline = (): Promise<Measurement> => firstRecordMs(['--local', '--workers', '2', '--state', 'heap']);

const benchmarks: Benchmark[] = [
  {
    name: 'cluster-submit-to-first-record',
    metric: 'ms from `weir run` to the first record on a running cluster (baseline: `weir run --local`, no cluster)',
    unit: 'ms',
    lowerIsBetter: true,
    runs: 5,
    run: async () => {
      ensureCluster();
      return firstRecordMs(['--dir', dir, '--detached']);
    },
    baseline,
  },
  {
    name: 'cluster-rest-submit-to-first-record',
    metric: 'ms from POST /jobs to the first record on a running cluster (baseline: `weir run --local`, no cluster)',
    unit: 'ms',
    lowerIsBetter: true,
    runs: 5,
    run: async () => {
      ensureCluster();
      return restFirstRecordMs();
    },
    baseline,
  },
];
export default benchmarks;
