/**
 * `weir cluster start|stop|status`: a standalone cluster as a background process. `start` launches
 * `weir cluster run` (the cluster in the foreground) detached, its output going to
 * `<dir>/cluster.log`, and returns once the cluster answers; `stop` asks it to shut down (every job
 * is canceled, every thread ended) and waits until its process is gone.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, WeirError } from '../errors.ts';
import { StandaloneCluster } from '../cluster/standalone-cluster.ts';
import { isLoopback } from '../rest/rest-auth.ts';
import { startRestServer } from '../rest/server.ts';
import { clusterDir, connect, isAlive, runningCluster, type ClusterInfo } from './cluster-client.ts';
import type { Command } from './command.ts';

const HELP = `usage: weir cluster start [--workers N] [--slots S] [--port P] [--host H] [--dir D] [--state lmdb|heap]
       weir cluster stop [--dir D]
       weir cluster status [--dir D]
       weir cluster run ...          (the cluster in the foreground; what start launches)

  --workers N   task managers (threads), default: one per core
  --slots S     slots per task manager, default 2
  --port P      REST API and dashboard port, default 8081 (0: any free port)
  --host H      address to bind, default 127.0.0.1; any other needs a token: --token or
                WEIR_TOKEN, else one is made and written to <dir>/token
  --dir D       the cluster's directory (logs, checkpoints, state), default $WEIR_HOME/cluster`;

const bin = fileURLToPath(new URL('./bin.mjs', import.meta.url));

function int(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(name, `expects a whole number >= ${min}, got '${v}'`);
  return n;
}

const options = {
  workers: { type: 'string' },
  slots: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  dir: { type: 'string' },
  state: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function runForeground(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options });
  const dir = clusterDir(values.dir);
  mkdirSync(dir, { recursive: true });
  if (runningCluster(dir)) throw new WeirError(`a cluster already runs from ${dir}; stop it first (weir cluster stop)`, { domain: 'user' });
  const host = values.host ?? '127.0.0.1';
  const token = values.token ?? process.env.WEIR_TOKEN;
  const taskManagers = int(values.workers, '--workers', 1) ?? os.availableParallelism();
  const slotsPerTaskManager = int(values.slots, '--slots', 1) ?? 2;
  const state = values.state ?? 'lmdb';
  if (state !== 'lmdb' && state !== 'heap') throw new ConfigError('--state', `must be lmdb or heap, got '${state}'`);
  const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
  const cluster = new StandaloneCluster({ dir, taskManagers, slotsPerTaskManager, stateBackend: state, log });
  await cluster.ready();
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (why: string): Promise<void> =>
    (shuttingDown ??= (async () => {
      log(`shutting down (${why}): canceling jobs, ending task managers`);
      await rest.close().catch(() => {});
      await cluster.shutdown();
      for (const f of ['cluster.json', 'cluster.pid']) rmSync(path.join(dir, f), { force: true });
      log('stopped');
      process.exit(0);
    })());
  let rest: Awaited<ReturnType<typeof startRestServer>>;
  try {
    rest = await startRestServer(cluster, { host, port: int(values.port, '--port', 0) ?? 8081, token, onShutdown: () => void shutdown('weir cluster stop') });
  } catch (e) {
    // The task manager threads would keep the process alive.
    await cluster.shutdown();
    throw e;
  }
  // Signals are handled before the cluster is announced (its files, its log line): a stop sent on
  // seeing them must shut down cleanly, not kill the process and leave the files behind.
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  const info: ClusterInfo = { pid: process.pid, url: rest.url, host, port: rest.port, startedAt: cluster.startedAt, taskManagers, slotsPerTaskManager };
  writeFileSync(path.join(dir, 'cluster.pid'), `${process.pid}\n`);
  writeFileSync(path.join(dir, 'cluster.json'), JSON.stringify(info, null, 2));
  log(`cluster up: ${taskManagers} task managers x ${slotsPerTaskManager} slots, REST API and dashboard at ${rest.url}${isLoopback(host) ? '' : ` (bound to ${host}; calls need the token)`}`);
  await new Promise<never>(() => {});
  return 0;
}

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options });
  const dir = clusterDir(values.dir);
  mkdirSync(dir, { recursive: true });
  const running = runningCluster(dir);
  if (running) throw new WeirError(`a cluster already runs from ${dir} (pid ${running.pid}, ${running.url}); stop it first (weir cluster stop)`, { domain: 'user' });
  const host = values.host ?? '127.0.0.1';
  let token = values.token ?? process.env.WEIR_TOKEN;
  const tokenFile = path.join(dir, 'token');
  rmSync(tokenFile, { force: true });
  if (!isLoopback(host) && !token) token = randomBytes(24).toString('base64url');
  if (token) writeFileSync(tokenFile, token, { mode: 0o600 });
  const logFile = path.join(dir, 'cluster.log');
  const fd = openSync(logFile, 'a');
  // The token goes through the environment, not the command line (which other users can read).
  const passed = args.filter((_a, i) => !(args[i] === '--token' || args[i - 1] === '--token') && !args[i]!.startsWith('--token='));
  const child = spawn(process.execPath, [bin, 'cluster', 'run', ...passed], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...(token ? { WEIR_TOKEN: token } : {}) },
  });
  closeSync(fd);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  child.unref();
  for (let waited = 0; waited < 120_000; waited += 100) {
    const info = runningCluster(dir);
    if (info && info.pid === child.pid) {
      console.log(`cluster started (pid ${info.pid}): ${info.taskManagers} task managers x ${info.slotsPerTaskManager} slots`);
      console.log(`REST API and dashboard: ${info.url}${token ? `  (token in ${tokenFile})` : ''}`);
      console.log(`log: ${logFile}`);
      return 0;
    }
    if (exited !== undefined) break;
    await sleep(100);
  }
  const tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
  if (exited === undefined && child.pid) process.kill(child.pid, 'SIGTERM');
  throw new WeirError(`the cluster did not start${exited !== undefined ? ` (exit code ${exited})` : ' within 120 s'}; the end of ${logFile}:\n${tail}`, { domain: 'internal' });
}

async function stop(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options });
  const dir = clusterDir(values.dir);
  const info = runningCluster(dir);
  if (!info) {
    console.log(`no cluster is running from ${dir}`);
    return 0;
  }
  const { client } = connect(values.dir);
  await client.request('DELETE', '/cluster').catch(() => process.kill(info.pid, 'SIGTERM'));
  for (let waited = 0; isAlive(info.pid); waited += 100) {
    if (waited === 30_000) process.kill(info.pid, 'SIGTERM');
    if (waited === 40_000) process.kill(info.pid, 'SIGKILL');
    await sleep(100);
  }
  for (const f of ['cluster.json', 'cluster.pid']) rmSync(path.join(dir, f), { force: true });
  console.log(`cluster stopped (pid ${info.pid})`);
  return 0;
}

async function status(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options });
  const { client, info } = connect(values.dir);
  const o = await client.get<Record<string, number>>('/overview');
  console.log(`cluster pid ${info.pid} at ${info.url}`);
  console.log(`task managers ${o.taskmanagers}, slots ${o['slots-available']} free of ${o['slots-total']}, jobs running ${o['jobs-running']}, waiting ${o['jobs-waiting']}`);
  return 0;
}

export const clusterCommand: Command = {
  summary: 'start, stop or inspect a standalone cluster (task managers that outlive jobs, REST API, dashboard)',
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === 'start') return start(rest);
    if (sub === 'stop') return stop(rest);
    if (sub === 'status') return status(rest);
    if (sub === 'run') return runForeground(rest);
    console.log(HELP);
    return sub === '--help' || sub === '-h' ? 0 : 2;
  },
};
