/**
 * `weir run <job-module> [options]`: runs a job on a local cluster (worker threads on this
 * machine) with a progress line, until it ends or Ctrl-C, which stops it with a savepoint that
 * `--from-savepoint` resumes.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadJob, type JsonValue } from '../graph/job-definition.ts';
import { MiniCluster } from '../cluster/mini-cluster.ts';
import type { JobHandle, SavepointRef } from '../cluster/job-manager.ts';
import { ConfigError } from '../errors.ts';
import { startDashboard } from '../rest/dashboard.ts';
import type { Command } from './command.ts';

const HELP = `usage: weir run <job-module.ts> [options]

options:
  --params JSON               job parameters (JSON)
  --parallelism N             default parallelism (default: number of workers)
  --workers N                 task manager threads (default: one per core)
  --checkpoint-interval MS    checkpoint every MS milliseconds (default: off)
  --checkpoint-dir DIR        where checkpoints and savepoints go (default: checkpoints/ in
                              $WEIR_HOME or ~/.weir)
  --state lmdb|heap           keyed state backend (default lmdb)
  --from-savepoint JSON       resume from the savepoint printed by a previous Ctrl-C
  --dashboard PORT            serve the web dashboard and REST API on 127.0.0.1:PORT (0: any free port)

Ctrl-C stops the job with a savepoint and prints how to resume it.`;

function num(value: string | undefined, setting: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(setting, `expects a number >= 0, got '${value}'`);
  return n;
}

function rate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M/s` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k/s` : `${n.toFixed(0)}/s`;
}

async function progressLine(handle: JobHandle, started: number): Promise<string> {
  const m = await handle.metrics();
  const source = m.operators.find((o) => o.nodeId === 0);
  const sinks = m.operators.filter((o) => o.recordsOut === 0 && o.recordsIn > 0);
  const checkpoints = handle.checkpoints().filter((c) => c.status === 'completed').length;
  const wm = Math.min(...sinks.map((s) => s.watermark));
  const parts = [
    `${((Date.now() - started) / 1000).toFixed(0)}s`,
    `source ${source ? `${source.recordsOut.toLocaleString('en-US')} (${rate(source.recordsInPerSecond)})` : '-'}`,
    `sinks ${sinks.reduce((a, s) => a + s.recordsIn, 0).toLocaleString('en-US')}`,
    Number.isFinite(wm) ? `watermark ${new Date(wm).toISOString()}` : '',
    `checkpoints ${checkpoints}`,
    handle.restarts > 0 ? `restarts ${handle.restarts}` : '',
  ];
  return parts.filter(Boolean).join('  ');
}

export const runCommand: Command = {
  summary: 'run a job module on a local cluster with a progress line (Ctrl-C: stop with a savepoint)',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        params: { type: 'string' },
        parallelism: { type: 'string' },
        workers: { type: 'string' },
        'checkpoint-interval': { type: 'string' },
        'checkpoint-dir': { type: 'string' },
        state: { type: 'string' },
        'from-savepoint': { type: 'string' },
        dashboard: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help || positionals.length !== 1) {
      console.log(HELP);
      return values.help ? 0 : 2;
    }
    const moduleUrl = pathToFileURL(path.resolve(positionals[0]!)).href;
    const job = await loadJob(moduleUrl);
    let params: JsonValue | undefined;
    try {
      params = values.params === undefined ? undefined : (JSON.parse(values.params) as JsonValue);
    } catch (e) {
      throw new ConfigError('--params', `is not JSON: ${(e as Error).message}`);
    }
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
    const restoreFrom = values['from-savepoint'] ? (JSON.parse(values['from-savepoint']) as SavepointRef) : undefined;
    const started = Date.now();
    const handle = await cluster.submit(job, { params, parallelism: num(values.parallelism, '--parallelism'), restoreFrom });
    console.error(`job ${handle.jobId} running (${handle.plan.tasks.length} tasks on ${handle.liveTaskManagers} task managers)`);
    const dashboard = values.dashboard === undefined ? undefined : await startDashboard(() => [handle], { port: num(values.dashboard, '--dashboard') });
    if (dashboard) console.error(`dashboard: ${dashboard.url}`);
    const tty = process.stderr.isTTY;
    const timer = setInterval(() => {
      void progressLine(handle, started).then((line) => process.stderr.write(tty ? `\r${line.padEnd(100)}` : `${line}\n`));
    }, tty ? 500 : 5000);
    let stopping = false;
    process.on('SIGINT', () => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stderr.write('\nstopping with a savepoint (Ctrl-C again to kill)...\n');
      handle.stopWithSavepoint().then(
        (sp) => console.error(`savepoint ${sp.checkpointId} at ${sp.location}\nresume with: weir run ${positionals[0]} --from-savepoint '${JSON.stringify(sp)}'`),
        (e: unknown) => console.error(`could not take a savepoint: ${(e as Error).message}; canceling`),
      );
    });
    try {
      const result = await handle.result();
      clearInterval(timer);
      if (tty) process.stderr.write('\n');
      for (const topic of result.topics()) console.log(`${topic}: ${result.get({ topic }).length} records`);
      console.error(`${handle.status} in ${(result.durationMs / 1000).toFixed(1)} s`);
      return 0;
    } catch (e) {
      clearInterval(timer);
      if (tty) process.stderr.write('\n');
      throw e;
    } finally {
      await dashboard?.close();
    }
  },
};
