/**
 * `weir run <job-module> [options]`: submits the job to the standalone cluster running from the
 * cluster directory (`--dir`, else `$WEIR_HOME/cluster`), or, without one (or with `--local`), runs
 * it in this process on its own task manager threads as before. In the foreground it shows a
 * progress line until the job ends; Ctrl-C stops it with a savepoint and prints how to resume.
 * `--detached` (cluster only) returns once the job is submitted.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadJob, type JsonValue } from '../graph/job-definition.ts';
import { MiniCluster } from '../cluster/mini-cluster.ts';
import type { JobHandle, SavepointRef } from '../cluster/job-master.ts';
import type { OperatorMetrics } from '../cluster/job-handle.ts';
import { savepointFromPath } from '../cluster/standalone-cluster.ts';
import { ConfigError, WeirError } from '../errors.ts';
import { SingleJobService } from '../cluster/single-job-service.ts';
import { startRestServer } from '../rest/server.ts';
import { clusterDir, clusterToken, RestClient, runningCluster } from './cluster-client.ts';
import type { Command } from './command.ts';
import { progressReporter, type Progress } from './progress-line.ts';

const HELP = `usage: weir run <job-module.ts> [options]

Submits to the cluster running from --dir (default $WEIR_HOME/cluster) if there is one, else runs
the job in this process.

options:
  --params JSON               job parameters (JSON)
  --parallelism N             default parallelism (default: number of task managers)
  --from-savepoint PATH       resume from a savepoint (the path weir prints; a JSON reference works too)
  --allow-non-restored-state  drop savepoint state of operators the job no longer has
  --checkpoint-interval MS    checkpoint every MS milliseconds (default: off)
  --detached                  (cluster) return once submitted; follow with weir status / weir logs
  --wait-for-slots            (cluster) wait in line when too few slots are free, instead of failing
  --dir D                     the cluster directory to look for a running cluster in
  --local                     run in this process even if a cluster is running
  --workers N                 (in-process) task manager threads (default: one per core)
  --checkpoint-dir DIR        (in-process) where checkpoints and savepoints go (default: checkpoints/
                              in $WEIR_HOME or ~/.weir)
  --state lmdb|heap           (in-process) keyed state backend (default lmdb)
  --dashboard PORT            (in-process) serve the dashboard and REST API (docs/cluster.md) on
                              127.0.0.1:PORT (0: any free port)

Ctrl-C stops the job with a savepoint and prints how to resume it.`;

function num(value: string | undefined, setting: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(setting, `expects a number >= 0, got '${value}'`);
  return n;
}

function parseSavepoint(value: string | undefined): SavepointRef | string | undefined {
  if (value === undefined) return undefined;
  if (value.trim().startsWith('{')) return JSON.parse(value) as SavepointRef;
  return path.resolve(value);
}

const options = {
  params: { type: 'string' },
  parallelism: { type: 'string' },
  workers: { type: 'string' },
  'checkpoint-interval': { type: 'string' },
  'checkpoint-dir': { type: 'string' },
  state: { type: 'string' },
  'from-savepoint': { type: 'string' },
  'allow-non-restored-state': { type: 'boolean' },
  dashboard: { type: 'string' },
  detached: { type: 'boolean' },
  'wait-for-slots': { type: 'boolean' },
  dir: { type: 'string' },
  local: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof options }>>['values'];

function resumeHint(command: string, sp: SavepointRef): string {
  return `savepoint ${sp.checkpointId} at ${sp.location}\nresume with: ${command} --from-savepoint ${sp.location}`;
}

/** Ctrl-C: the first stops with a savepoint, a second one exits at once. `settled()`: the stop's output has been printed. */
function onInterrupt(stopWithSavepoint: () => Promise<void>): { detach(): void; settled(): Promise<void> } {
  let stopping: Promise<void> | undefined;
  const handler = (): void => {
    if (stopping) process.exit(130);
    process.stderr.write('\nstopping with a savepoint (Ctrl-C again to exit at once)...\n');
    stopping = stopWithSavepoint();
  };
  process.on('SIGINT', handler);
  return { detach: () => process.off('SIGINT', handler), settled: async () => await stopping };
}

interface JobView {
  jid: string;
  state: string;
  duration: number;
  restarts: number;
  watermark: number | null;
  collected: Record<string, number>;
  error: string | null;
  vertices: { inputs: number[]; id: number; metrics: Record<string, number | string | null> }[];
}

async function runOnCluster(file: string, params: JsonValue | undefined, values: Values, client: RestClient, url: string, resumeAs: string): Promise<number> {
  const from = parseSavepoint(values['from-savepoint']);
  const submitted = await client.post<{ jobid: string; state: string }>('/jobs', {
    module: path.resolve(file),
    params,
    parallelism: num(values.parallelism, '--parallelism'),
    fromSavepoint: typeof from === 'string' ? from : from?.location,
    allowNonRestoredState: values['allow-non-restored-state'] === true,
    checkpointInterval: num(values['checkpoint-interval'], '--checkpoint-interval'),
    waitForSlots: values['wait-for-slots'] === true,
  });
  const id = submitted.jobid;
  const announce = (): void => console.error(`job ${id} submitted to the cluster at ${url} (${submitted.state.toLowerCase()})`);
  if (values.detached) {
    announce();
    console.log(id);
    return 0;
  }
  // Ctrl-C is handled before the job is announced: whoever reacts to the announcement (a user, a
  // script) must not find the process still without a handler, where SIGINT kills it outright.
  const interrupt = onInterrupt(async () => {
    try {
      const r = await client.post<{ savepoint: SavepointRef }>(`/jobs/${id}/stop`, {});
      console.error(resumeHint(resumeAs, r.savepoint));
    } catch (e) {
      console.error(`could not stop with a savepoint: ${(e as Error).message}; cancel with: weir cancel ${id}`);
    }
  });
  announce();
  const progress = progressReporter(async () => {
    const [j, cps] = await Promise.all([
      client.get<JobView>(`/jobs/${id}`),
      client.get<{ history: { id: number; status: string; end_to_end_duration: number | null; is_savepoint: boolean }[] }>(`/jobs/${id}/checkpoints`),
    ]);
    if (j.state !== 'RUNNING') return undefined;
    const sources = j.vertices.filter((v) => v.inputs.length === 0);
    const sinks = j.vertices.filter((v) => !j.vertices.some((w) => w.inputs.includes(v.id)));
    const last = cps.history.find((c) => c.status === 'COMPLETED');
    const levels = j.vertices.map((v) => String(v.metrics.backPressureLevel));
    return {
      elapsedMs: j.duration,
      inPerSecond: sources.reduce((a, v) => a + Number(v.metrics.numRecordsOutPerSecond), 0),
      outPerSecond: sinks.reduce((a, v) => a + Number(v.metrics.numRecordsInPerSecond), 0),
      watermark: j.watermark ?? undefined,
      lastCheckpoint: last && { id: last.id, durationMs: last.end_to_end_duration ?? undefined, savepoint: last.is_savepoint },
      backPressure: levels.includes('high') ? 'high' : levels.includes('low') ? 'low' : 'ok',
      restarts: j.restarts,
    } satisfies Progress;
  });
  try {
    for (;;) {
      const j = await client.get<JobView>(`/jobs/${id}`);
      if (!['RUNNING', 'RESTARTING', 'WAITING'].includes(j.state)) {
        progress.stop();
        await interrupt.settled();
        for (const [topic, n] of Object.entries(j.collected)) console.log(`${topic}: ${n} records`);
        console.error(`${j.state.toLowerCase()} in ${(j.duration / 1000).toFixed(1)} s${j.error ? `: ${j.error}` : ''}`);
        return j.state === 'FAILED' || j.state === 'CANCELED' ? 1 : 0;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    progress.stop();
    interrupt.detach();
  }
}

/** Progress of an in-process job: rates from the difference between two metric samples. */
function inProcessProgress(handle: JobHandle): () => Promise<Progress | undefined> {
  let prev: { at: number; ops: OperatorMetrics[] } | undefined;
  return async () => {
    const m = await handle.metrics();
    const now = performance.now();
    const sources = new Set(handle.graph.nodes.filter((n) => n.kind === 'source').map((n) => n.id));
    const sinks = new Set(handle.graph.nodes.filter((n) => n.kind === 'sink').map((n) => n.id));
    const sum = (ops: OperatorMetrics[], ids: Set<number>, f: (o: OperatorMetrics) => number): number => ops.filter((o) => ids.has(o.nodeId)).reduce((a, o) => a + f(o), 0);
    const dt = prev ? (now - prev.at) / 1000 : 0;
    const d = (f: (o: OperatorMetrics) => number, ids: Set<number>): number => (prev && dt > 0 ? Math.max(0, sum(m.operators, ids, f) - sum(prev.ops, ids, f)) / dt : 0);
    const all = new Set(m.operators.map((o) => o.nodeId));
    const bp = prev && dt > 0 ? d((o) => o.backPressuredMs / Math.max(1, o.parallelism), all) / 1000 / Math.max(1, all.size) : 0;
    const wms = m.operators.filter((o) => sinks.has(o.nodeId)).map((o) => o.watermark).filter((w) => Number.isFinite(w));
    const last = handle.checkpoints().filter((c) => c.status === 'completed').pop();
    const out: Progress = {
      elapsedMs: m.elapsedMs,
      inPerSecond: d((o) => o.recordsOut, sources),
      outPerSecond: d((o) => o.recordsIn, sinks),
      watermark: wms.length ? Math.min(...wms) : undefined,
      lastCheckpoint: last && { id: last.id, durationMs: last.durationMs, savepoint: last.savepoint },
      backPressure: bp > 0.5 ? 'high' : bp > 0.1 ? 'low' : 'ok',
      restarts: handle.restarts,
    };
    prev = { at: now, ops: m.operators };
    return out;
  };
}

async function runInProcess(file: string, params: JsonValue | undefined, values: Values, resumeAs: string): Promise<number> {
  const moduleUrl = pathToFileURL(path.resolve(file)).href;
  const job = await loadJob(moduleUrl);
  const state = values.state ?? 'lmdb';
  if (state !== 'lmdb' && state !== 'heap') throw new ConfigError('--state', `must be lmdb or heap, got '${state}'`);
  const cluster = new MiniCluster({
    workers: num(values.workers, '--workers'),
    stateBackend: state,
    checkpoints: {
      intervalMs: num(values['checkpoint-interval'], '--checkpoint-interval') ?? 0,
      ...(values['checkpoint-dir'] === undefined ? {} : { storage: { kind: 'local' as const, dir: path.resolve(values['checkpoint-dir']) } }),
    },
  });
  const from = parseSavepoint(values['from-savepoint']);
  const restoreFrom = typeof from === 'string' ? savepointFromPath(from) : from;
  const handle = await cluster.submit(job, {
    params,
    parallelism: num(values.parallelism, '--parallelism'),
    restoreFrom,
    allowNonRestoredState: values['allow-non-restored-state'] === true,
  });
  // Ctrl-C is handled before anything is announced (see runOnCluster).
  const interrupt = onInterrupt(async () => {
    try {
      console.error(resumeHint(resumeAs, await handle.stopWithSavepoint()));
    } catch (e) {
      console.error(`could not take a savepoint: ${(e as Error).message}; canceling`);
      await handle.cancel();
    }
  });
  let progress: { stop(): void } | undefined;
  let service: SingleJobService | undefined;
  let dashboard: Awaited<ReturnType<typeof startRestServer>> | undefined;
  try {
    console.error(`job ${handle.jobId} running (${handle.plan.tasks.length} tasks on ${handle.liveTaskManagers} task managers)`);
    service = values.dashboard === undefined ? undefined : new SingleJobService(handle, moduleUrl, params);
    dashboard = service && (await startRestServer(service, { port: num(values.dashboard, '--dashboard') }));
    if (dashboard) console.error(`dashboard and REST API: ${dashboard.url}`);
    progress = progressReporter(inProcessProgress(handle));
    const result = await handle.result();
    progress.stop();
    await interrupt.settled();
    for (const topic of result.topics()) console.log(`${topic}: ${result.get({ topic }).length} records`);
    console.error(`${handle.status} in ${(result.durationMs / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    progress?.stop();
    interrupt.detach();
    service?.close();
    await dashboard?.close();
  }
}

/**
 * Runs `weir run`'s arguments (the module, then options); `resumeAs` is the command the resume hint
 * shows (`weir pipeline run` passes its own).
 */
export async function runJob(args: string[], resumeAs?: string): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options });
  if (values.help || positionals.length !== 1) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  const file = positionals[0]!;
  const resume = resumeAs ?? `weir run ${file}`;
  let params: JsonValue | undefined;
  try {
    params = values.params === undefined ? undefined : (JSON.parse(values.params) as JsonValue);
  } catch (e) {
    throw new ConfigError('--params', `is not JSON: ${(e as Error).message}`);
  }
  const dir = clusterDir(values.dir);
  const info = values.local ? undefined : runningCluster(dir);
  if (info) return runOnCluster(file, params, values, new RestClient(info.url, clusterToken(dir)), info.url, resume);
  if (values.dir) throw new WeirError(`no cluster is running from ${dir}; start one (weir cluster start --dir ${values.dir}) or leave out --dir to run in this process`, { domain: 'user' });
  if (values.detached) throw new ConfigError('--detached', `needs a running cluster (none runs from ${dir}): start one with weir cluster start`);
  return runInProcess(file, params, values, resume);
}

export const runCommand: Command = {
  summary: 'run a job module: on the running cluster, else in this process (Ctrl-C: stop with a savepoint)',
  run: (args) => runJob(args),
};
