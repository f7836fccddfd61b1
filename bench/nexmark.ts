/**
 * `npm run bench:nexmark [-- options]`: every Nexmark query as a Weir job at parallelism 1 and 2
 * (exactly-once checkpoints every 10 s), against the single-threaded COST baseline and Flink's
 * published per-core throughput. Prints a table and writes bench/results/nexmark.json (medians).
 *
 *   --queries q0,q5   which queries (default: all)
 *   --events N        events per run (default 500,000)
 *   --runs K          runs of each measurement (default 3)
 *   --parallelism 1,2 parallelisms to run (default 1,2)
 *   --state heap|lmdb keyed state backend (default heap)
 *   --warmup W        runs of each query and parallelism done first and discarded (default 10), on
 *                     the task manager threads the measured runs then use (JIT-compiled code, as
 *                     the baseline's after its first run). Ten, because V8 keeps reoptimizing the
 *                     engine's code for several jobs: `--trace-opt` counted 418, 85, 45, 28, 17
 *                     and 8 compilations in q4's first six 1M-event jobs at p2 (1.6 s, 0.5 s,
 *                     0.28 s ... of compiler time on the helper threads, on a 2-core machine where
 *                     the task managers want both cores), and throughput rose with them until
 *                     about the eighth (bench/nexmark.md, session 18)
 *   --cold            new task manager threads for every run instead (no warm-up)
 *   --profile [q]     instead: one run of query q (default the first of --queries) at the first
 *                     parallelism in a child process with --cpu-prof, one profile per thread
 *                     (bench/results/profiles/), and a summary of where the time went
 *
 * Throughput is events / (time from the first source subtask's first batch to the sink's last
 * row), so starting the worker threads is left out. Each measured run is followed by a baseline
 * run (after two discarded ones per query), and a row's ratio is the median of its own runs over
 * the median of the baseline runs between them; "pair ratios" are each run over the baseline run
 * right after it (lowest, median, highest), which shows how far the machine moved within the row.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASELINE } from '../jobs/nexmark/baseline/index.ts';
import { QUERY_NAMES, type QueryName } from '../jobs/nexmark/queries.ts';
import job from '../jobs/nexmark/queries/index.ts';
import { SINK_TIMING_TOPIC, SOURCE_START_TOPIC, type SinkTiming, type SourceStart } from '../jobs/nexmark/queries/common.ts';
import { benchCluster, closeBenchClusters, coldTaskManagers, machineDescription, median } from './harness.ts';
import { topicOf } from './jobs/timing.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Flink 1.13 on 8 x 8-core workers, events/s per core (Nexmark README). */
const FLINK_PER_CORE: { readonly [Q in QueryName]: number } = {
  q0: 155_000,
  q1: 158_000,
  q2: 175_000,
  q3: 152_000,
  q4: 34_000,
  q5: 22_000,
  q7: 12_000,
  q8: 146_000,
  q11: 40_000,
  q15: 72_000,
  q18: 54_000,
  q19: 44_000,
};

interface Options {
  queries: QueryName[];
  events: number;
  runs: number;
  warmup: number;
  parallelisms: number[];
  state: 'heap' | 'lmdb';
  profile: QueryName | null;
  child: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { queries: [...QUERY_NAMES], events: 500_000, runs: 3, warmup: 10, parallelisms: [1, 2], state: 'heap', profile: null, child: false };
  const fail = (msg: string): never => {
    console.error(`bench:nexmark: ${msg}`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => argv[++i] ?? fail(`${a} needs a value`);
    const positive = (s: string): number => {
      const n = Number(s.replace(/_/g, ''));
      return Number.isSafeInteger(n) && n > 0 ? n : fail(`${a} must be a whole number > 0, got '${s}'`);
    };
    if (a === '--queries') {
      o.queries = value()
        .split(',')
        .map((q) => q.trim())
        .filter((q) => q !== '')
        .map((q) => ((QUERY_NAMES as readonly string[]).includes(q) ? (q as QueryName) : fail(`unknown query '${q}'; known: ${QUERY_NAMES.join(',')}`)));
    } else if (a === '--events') o.events = positive(value());
    else if (a === '--runs') o.runs = positive(value());
    else if (a === '--warmup') {
      const w = value();
      o.warmup = w === '0' ? 0 : positive(w);
    }
    else if (a === '--cold') process.env.BENCH_COLD = '1';
    else if (a === '--parallelism') o.parallelisms = value().split(',').map(positive);
    else if (a === '--state') {
      const s = value();
      o.state = s === 'heap' || s === 'lmdb' ? s : fail(`--state must be heap or lmdb, got '${s}'`);
    } else if (a === '--profile') {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        i++;
        o.profile = (QUERY_NAMES as readonly string[]).includes(next) ? (next as QueryName) : fail(`unknown query '${next}'`);
      } else o.profile = 'first' as QueryName;
    } else if (a === '--child') o.child = true;
    else fail(`unknown option '${a}' (see the comment at the top of bench/nexmark.ts)`);
  }
  if ((o.profile as string) === 'first') o.profile = o.queries[0]!;
  return o;
}

/**
 * Baseline runs done first for each query and discarded (its JIT warm-up, as Weir's warm-up runs).
 * The measured baseline runs then alternate with Weir's measured runs, so that the ratio compares
 * figures taken in the same minutes: this machine's speed drifts by 20% and more from one minute
 * to the next (other tenants), and a baseline taken before all of Weir's runs moved ratios with it.
 */
const BASELINE_WARMUP = 2;

interface Run {
  eventsPerSec: number;
  rows: number;
  checkpoints: number;
  /** Mean event-loop utilization of the sink threads while rows arrived. */
  busy: number;
}

async function runWeir(query: QueryName, events: number, parallelism: number, state: 'heap' | 'lmdb', checkpointDir: string): Promise<Run> {
  const cluster = benchCluster({
    workers: parallelism,
    stateBackend: state,
    workDir: path.join(checkpointDir, 'work'),
    checkpoints: { intervalMs: 10_000, mode: 'exactly-once', storage: { kind: 'local', dir: checkpointDir } },
  });
  const handle = await cluster.submit(job, { params: { query, events, sink: 'timing' }, parallelism });
  let checkpoints = 0;
  handle.on('checkpoint-completed', () => checkpoints++);
  const result = await handle.result();
  const starts = result.get(topicOf<SourceStart>(SOURCE_START_TOPIC));
  const sinks = result.get(topicOf<SinkTiming>(SINK_TIMING_TOPIC));
  const rows = sinks.reduce((a, s) => a + s.rows, 0);
  if (starts.length === 0 || rows === 0) throw new Error(`${query}: no ${starts.length === 0 ? 'source start' : 'rows at the sink'}; raise --events`);
  const first = Math.min(...starts.map((s) => s.first));
  const last = Math.max(...sinks.filter((s) => s.rows > 0).map((s) => s.last));
  const active = sinks.filter((s) => s.rows > 0);
  const busy = active.reduce((a, s) => a + s.busy, 0) / active.length;
  return { eventsPerSec: (events * 1000) / (last - first), rows, checkpoints, busy };
}

function runBaseline(query: QueryName, events: number): number {
  const r = BASELINE[query]({}, events, { collect: false });
  return (r.events * 1000) / r.ms;
}

function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}k`;
  return n.toFixed(2);
}

interface Row {
  query: QueryName;
  parallelism: number;
  events: number;
  events_per_sec: number;
  events_per_sec_per_core: number;
  baseline_events_per_sec: number;
  ratio_to_baseline: number;
  /**
   * Each measured run over the baseline run right after it, sorted: the ratio per pair of runs
   * taken seconds apart, so the spread shows how much the machine moved during the row.
   */
  pair_ratios: number[];
  flink_per_core: number;
  ratio_to_flink_per_core: number;
}

async function measure(o: Options): Promise<void> {
  const checkpointDir = await mkdtemp(path.join(os.tmpdir(), 'weir-nexmark-'));
  const rows: Row[] = [];
  const started = performance.now();
  const warmup = coldTaskManagers() ? 0 : o.warmup;
  const baselineWarmup = o.child ? 0 : BASELINE_WARMUP;
  const total = o.queries.length * (baselineWarmup + o.parallelisms.length * (warmup + o.runs * (o.child ? 1 : 2)));
  let done = 0;
  const progress = (what: string) => {
    const s = ((performance.now() - started) / 1000).toFixed(0);
    process.stderr.write(`\r[${done}/${total} ${s}s] ${what}`.padEnd(60));
  };
  console.log(`machine: ${machineDescription()}`);
  console.log(`${o.events.toLocaleString('en')} events per run, medians of ${o.runs} (each followed by a baseline run)${warmup > 0 ? ` after ${warmup} warm-up runs on the same task manager threads` : ' on new task manager threads each'}; exactly-once checkpoints every 10 s; ${o.state} state; load average at start ${os.loadavg()[0]!.toFixed(1)}`);
  console.log('| query | p | events/s | events/s per core | baseline events/s | ratio to baseline | pair ratios min-median-max | Flink per core | ratio to Flink per core | sink thread busy | checkpoints |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  try {
    for (const query of o.queries) {
      for (let i = 0; i < baselineWarmup; i++) {
        progress(`${query} baseline warm-up ${i + 1}/${baselineWarmup}`);
        runBaseline(query, o.events);
        done++;
      }
      for (const p of o.parallelisms) {
        const values: number[] = [];
        const baselines: number[] = [];
        const busy: number[] = [];
        let checkpoints = 0;
        for (let i = 0; i < warmup; i++) {
          progress(`${query} p${p} warm-up ${i + 1}/${warmup}`);
          await runWeir(query, o.events, p, o.state, checkpointDir);
          done++;
        }
        for (let i = 0; i < o.runs; i++) {
          progress(`${query} p${p} run ${i + 1}/${o.runs}`);
          const run = await runWeir(query, o.events, p, o.state, checkpointDir);
          values.push(run.eventsPerSec);
          busy.push(run.busy);
          checkpoints += run.checkpoints;
          done++;
          if (o.child) continue;
          progress(`${query} p${p} baseline run ${i + 1}/${o.runs}`);
          baselines.push(runBaseline(query, o.events));
          done++;
        }
        await closeBenchClusters();
        const eps = median(values);
        const baseline = o.child ? NaN : median(baselines);
        const pairs = baselines.map((b, i) => values[i]! / b).sort((a, b) => a - b);
        const flink = FLINK_PER_CORE[query];
        const row: Row = {
          query,
          parallelism: p,
          events: o.events,
          events_per_sec: eps,
          events_per_sec_per_core: eps / p,
          baseline_events_per_sec: baseline,
          ratio_to_baseline: eps / baseline,
          pair_ratios: pairs,
          flink_per_core: flink,
          ratio_to_flink_per_core: eps / p / flink,
        };
        rows.push(row);
        process.stderr.write(`\r${' '.repeat(60)}\r`);
        console.log(
          `| ${query} | ${p} | ${fmt(eps)} | ${fmt(eps / p)} | ${fmt(baseline)} | ${row.ratio_to_baseline.toFixed(2)} | ${pairs.length === 0 ? '-' : `${pairs[0]!.toFixed(2)}-${median(pairs).toFixed(2)}-${pairs[pairs.length - 1]!.toFixed(2)}`} | ${fmt(flink)} | ${row.ratio_to_flink_per_core.toFixed(2)} | ${(100 * median(busy)).toFixed(0)}% | ${checkpoints} |`,
        );
      }
    }
  } finally {
    await closeBenchClusters();
    await rm(checkpointDir, { recursive: true, force: true });
  }
  if (o.child) return;
  await mkdir(path.join(here, 'results'), { recursive: true });
  const out = path.join(here, 'results', 'nexmark.json');
  await writeFile(out, `${JSON.stringify(rows, null, 2)}\n`);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s; wrote ${path.relative(process.cwd(), out)}`);
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Self time per function of one .cpuprofile, the largest first. */
function summarize(profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }, top: number): { total: number; lines: string[]; files: string[] } {
  const byNode = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) byNode.set(profile.samples[i]!, (byNode.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    total += us;
    const f = node.callFrame;
    const file = f.url.replace(/^file:\/\//, '').replace(`${path.resolve(here, '..')}/`, '');
    const name = `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const where = file || f.functionName;
    byFile.set(where, (byFile.get(where) ?? 0) + us);
  }
  const lines = [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  const files = [...byFile.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([name, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  return { total, lines, files };
}

async function profile(o: Options): Promise<void> {
  const query = o.profile!;
  const p = o.parallelisms[0]!;
  const dir = path.join(here, 'results', 'profiles', `${query}-p${p}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(dir, { recursive: true });
  const script = fileURLToPath(import.meta.url);
  const args = ['--cpu-prof', '--cpu-prof-dir', dir, '--import', 'tsx', script, '--child', '--queries', query, '--events', String(o.events), '--runs', '1', '--parallelism', String(p), '--state', o.state];
  console.log(`profiling ${query} at parallelism ${p} on ${o.events.toLocaleString('en')} events: node ${args.join(' ')}`);
  const code = await new Promise<number | null>((resolve) => spawn(process.execPath, args, { stdio: 'inherit' }).on('exit', resolve));
  if (code !== 0) throw new Error(`the profiled run exited with ${code}`);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  console.log(`\n${files.length} CPU profiles (one per thread; open in Chrome DevTools > Performance, or speedscope) in ${path.relative(process.cwd(), dir)}/`);
  for (const f of files) {
    const { total, lines, files: byFile } = summarize(JSON.parse(await readFile(path.join(dir, f), 'utf8')) as Parameters<typeof summarize>[0], 30);
    console.log(`\n${f}: ${(total / 1e6).toFixed(2)} s sampled; self time by function:`);
    for (const l of lines) console.log(`  ${l}`);
    console.log('  by file:');
    for (const l of byFile) console.log(`  ${l}`);
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.profile !== null && !o.child) await profile(o);
  else await measure(o);
}

await main();
