/**
 * Import cost: how long a fresh Node process (with tsx, as jobs run) takes to import Weir's public
 * entry and a connector subpath. The job manager and every task manager import the job module on
 * every attempt, so this is paid per worker per attempt. Each run is a new child process (module
 * caches are per process); the time is taken inside the child around the `import()` alone, so Node
 * and tsx start-up are not counted. `import-job-in-task-manager` loads the task manager's runtime
 * first and times only the job module, which is what each task manager pays per attempt. The baseline is importing a module of the project that has no
 * dependencies (runtime/errors.ts), i.e. what tsx itself costs for a first import.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark, Measurement } from './harness.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Milliseconds one fresh process spends in `await import(specifier)`, after importing `preload`
 * (not timed) if given: a task manager has the runtime loaded before it imports the job module.
 */
export function importMs(specifier: string, preload?: string): number {
  const before = preload ? `await import(${JSON.stringify(preload)}); ` : '';
  const script = `${before}const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  return Number(out.trim());
}

const measure = (specifier: string, preload?: string) => async (): Promise<Measurement> => ({ value: importMs(specifier, preload) });
const TASK_MANAGER = './runtime/cluster/task-manager.ts';
const baseline = measure('./runtime/errors.ts');

const benchmarks: Benchmark[] = [
  { name: 'import-weir', metric: "ms to `import('weir')` in a fresh process", unit: 'ms', lowerIsBetter: true, runs: 7, run: measure('weir'), baseline },
  { name: 'import-weir-lake', metric: "ms to `import('weir/lake')` in a fresh process", unit: 'ms', lowerIsBetter: true, runs: 7, run: measure('weir/lake'), baseline },
  { name: 'import-weir-mysql', metric: "ms to `import('weir/mysql')` in a fresh process", unit: 'ms', lowerIsBetter: true, runs: 7, run: measure('weir/mysql'), baseline },
  { name: 'import-weir-duckdb', metric: "ms to `import('weir/duckdb')` in a fresh process", unit: 'ms', lowerIsBetter: true, runs: 7, run: measure('weir/duckdb'), baseline },
  { name: 'import-weir-clickhouse', metric: "ms to `import('weir/clickhouse')` in a fresh process", unit: 'ms', lowerIsBetter: true, runs: 7, run: measure('weir/clickhouse'), baseline },
  { name: 'import-weir-starrocks', metric: "ms to `import('weir/starrocks')` in a fresh process", unit: 'ms', lowerIsBetter: true, runs: 7, run: measure('weir/starrocks'), baseline },
  {
    name: 'import-job-in-task-manager',
    metric: 'ms a task manager (runtime loaded) spends importing a word-count job module',
    unit: 'ms',
    lowerIsBetter: true,
    runs: 7,
    run: measure('./test/minicluster/jobs/word-count.ts', TASK_MANAGER),
  },
];
export default benchmarks;
