/**
 * `npm run bench [-- filter] [--cold]`: runs every `bench/*.bench.ts` whose name contains the filter,
 * each several times with its baseline, prints a table row per benchmark and writes
 * `bench/results/<name>.json`. Benchmarks on `benchCluster` run on warm task managers after their
 * warm-up runs; `--cold` (or BENCH_COLD=1) gives every run new threads instead.
 */
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { type Benchmark, type BenchmarkResult, closeBenchClusters, coldTaskManagers, machineDescription, median } from './harness.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
if (args.includes('--cold')) process.env.BENCH_COLD = '1';
const filter = args.find((a) => !a.startsWith('--')) ?? '';

async function loadBenchmarks(): Promise<Benchmark[]> {
  const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
  const all: Benchmark[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(here, file)).href)) as { default: Benchmark | Benchmark[] };
    all.push(...(Array.isArray(mod.default) ? mod.default : [mod.default]));
  }
  return all.filter((b) => b.name.includes(filter));
}

function fmt(n: number | null): string {
  if (n === null) return '-';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (Math.abs(n) >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(n < 10 ? 3 : 1);
}

async function main(): Promise<void> {
  const benchmarks = await loadBenchmarks();
  if (benchmarks.length === 0) {
    console.error(`no benchmark matches '${filter}'`);
    process.exitCode = 1;
    return;
  }
  await mkdir(path.join(here, 'results'), { recursive: true });
  const machine = machineDescription();
  const cold = coldTaskManagers();
  console.log(`machine: ${machine}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; task managers: ${cold ? 'new for every run (--cold)' : 'warm, after each benchmark\'s warm-up runs'}`);
  console.log(`| benchmark | metric | value | baseline | ratio | runs | task managers |\n|---|---|---|---|---|---|---|`);
  for (const b of benchmarks) {
    const runs = b.runs ?? 5;
    const values: number[] = [];
    const baselines: number[] = [];
    const warmup = cold ? 0 : (b.warmup ?? 0);
    for (let i = 0; i < warmup; i++) {
      process.stderr.write(`\r${b.name}: warm-up ${i + 1}/${warmup}   `);
      await b.run();
    }
    for (let i = 0; i < runs; i++) {
      process.stderr.write(`\r${b.name}: run ${i + 1}/${runs}   `);
      values.push((await b.run()).value);
      if (b.baseline) baselines.push((await b.baseline()).value);
    }
    const taskManagers = await closeBenchClusters();
    process.stderr.write('\r');
    const value = median(values);
    const baseline = baselines.length > 0 ? median(baselines) : null;
    const ratio = baseline === null ? null : b.lowerIsBetter ? baseline / value : value / baseline;
    const result: BenchmarkResult = { benchmark: b.name, metric: b.metric, unit: b.unit, value, baseline, ratio, runs, ...(taskManagers ? { taskManagers } : {}), machine };
    await writeFile(path.join(here, 'results', `${b.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    console.log(`| ${b.name} | ${b.metric} (${b.unit}) | ${fmt(value)} | ${fmt(baseline)} | ${ratio === null ? '-' : ratio.toFixed(2)} | ${runs} | ${taskManagers ?? '-'} |`);
  }
}

await main();
