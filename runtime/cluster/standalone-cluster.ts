/**
 * A standalone cluster (`weir cluster start`): one job manager and long-lived task managers whose
 * slots several jobs share. Jobs are submitted by module path (TypeScript run directly), run until
 * they end or are canceled, stopped or savepointed through this class (the REST API calls it), and
 * leave a log each. A job that asks for more slots than are free is refused, or waits in line with
 * `waitForSlots`. What differs from Flink is written down in docs/cluster.md.
 */
import { mkdirSync, statSync } from 'node:fs';
import { cp, rm } from '../worker-safe-fs.ts';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { WeirError } from '../errors.ts';
import { loadJob, validateParams } from '../graph/job-definition.ts';
import { JobManager, slotsNeeded } from './job-manager.ts';
import type { JobHandle, SavepointRef } from './job-master.ts';
import { ClusterJob, JobNotFoundError, type JobService, type SubmitRequest } from './cluster-job.ts';
import { NotEnoughSlotsError, SlotPool, type TaskManagerInfo } from './slot-pool.ts';

export interface StandaloneClusterOptions {
  /** The cluster's directory: logs, checkpoints, working files. */
  dir: string;
  taskManagers: number;
  slotsPerTaskManager: number;
  stateBackend?: 'heap' | 'lmdb';
  heartbeatMs?: number;
  /** How often running jobs' metrics are sampled for rates (records/s, back-pressure). */
  sampleMs?: number;
  log?: (line: string) => void;
}

export { ClusterJob, JobNotFoundError, type JobService, type SubmitRequest } from './cluster-job.ts';

export class StandaloneCluster implements JobService {
  readonly pool: SlotPool;
  private readonly jobManager: JobManager;
  private readonly jobs = new Map<string, ClusterJob>();
  private readonly sampler: NodeJS.Timeout;
  private closed = false;
  readonly startedAt = Date.now();

  constructor(private readonly options: StandaloneClusterOptions) {
    const log = options.log ?? (() => {});
    mkdirSync(path.join(options.dir, 'jobs'), { recursive: true });
    this.pool = new SlotPool({ taskManagers: options.taskManagers, slotsPerTaskManager: options.slotsPerTaskManager, heartbeatMs: options.heartbeatMs, log });
    this.jobManager = new JobManager({
      workers: options.taskManagers,
      slots: this.pool,
      stateBackend: options.stateBackend ?? 'lmdb',
      workDir: path.join(options.dir, 'work'),
      checkpoints: { storage: { kind: 'local', dir: path.join(options.dir, 'checkpoints') } },
      onWarning: (m) => log(`warning: ${m}`),
    });
    this.sampler = setInterval(() => void this.sample(), options.sampleMs ?? 1000);
    this.sampler.unref();
  }

  get checkpointDir(): string {
    return path.join(this.options.dir, 'checkpoints');
  }

  ready(): Promise<void> {
    return this.pool.ready();
  }

  list(): ClusterJob[] {
    return [...this.jobs.values()];
  }

  taskManagers(): TaskManagerInfo[] {
    return this.pool.taskManagers();
  }

  /** A job by id, unique id prefix, or name (the newest job of that name). */
  job(ref: string): ClusterJob {
    const exact = this.jobs.get(ref);
    if (exact) return exact;
    const byPrefix = this.list().filter((j) => j.id.startsWith(ref));
    if (byPrefix.length === 1) return byPrefix[0]!;
    const byName = this.list().filter((j) => j.name === ref);
    if (byName.length > 0) return byName[byName.length - 1]!;
    throw new JobNotFoundError(byPrefix.length > 1 ? `'${ref}' names ${byPrefix.length} jobs; give more of the id` : `no job '${ref}'; see weir list`);
  }

  async submit(request: SubmitRequest): Promise<ClusterJob> {
    if (this.closed) throw new WeirError('the cluster is shutting down', { domain: 'user' });
    validateParams(request.params);
    const modulePath = path.resolve(request.module);
    let version: number;
    try {
      version = statSync(modulePath).mtimeMs;
    } catch {
      throw new WeirError(`no job module at ${modulePath} (the path is read by the cluster, on this machine)`, { domain: 'user' });
    }
    // A changed file is a new module for the cluster (Node caches modules by URL): resubmitting after
    // an edit runs the edit. Modules it imports are cached as they are (docs/cluster.md).
    const moduleUrl = `${pathToFileURL(modulePath).href}?v=${Math.floor(version)}`;
    let definition: Awaited<ReturnType<typeof loadJob>>;
    try {
      definition = await loadJob(moduleUrl);
    } catch (e) {
      if (e instanceof WeirError) throw e;
      throw new WeirError(`could not load the job module ${modulePath}: ${e instanceof Error ? e.message : String(e)}`, { domain: 'user', cause: e });
    }
    const parallelism = request.parallelism ?? this.options.taskManagers;
    const graph = definition.buildGraph(request.params, { parallelism, maxParallelism: 128 });
    const slots = slotsNeeded(graph);
    if (slots > this.pool.totalSlots) throw new NotEnoughSlotsError(slots, this.pool.freeSlots, this.pool.totalSlots);
    const id = randomUUID().replaceAll('-', '');
    const name = path.basename(modulePath).replace(/\.[mc]?[tj]sx?$/, '');
    const job = new ClusterJob(id, name, modulePath, moduleUrl, request.params, slots, request, path.join(this.options.dir, 'jobs', `${id}.log`));
    if (slots > this.pool.freeSlots && !request.waitForSlots) throw new NotEnoughSlotsError(slots, this.pool.freeSlots, this.pool.totalSlots);
    this.jobs.set(id, job);
    job.log(`submitted ${modulePath} with parallelism ${parallelism} (${slots} slots), params ${JSON.stringify(job.shownParams ?? null)}`);
    this.options.log?.(`job ${id} (${name}) submitted`);
    if (slots > this.pool.freeSlots) {
      job.log(`waiting for ${slots} free slots (${this.pool.freeSlots} of ${this.pool.totalSlots} free)`);
      void this.startWhenFree(job, parallelism);
      return job;
    }
    await this.start(job, parallelism);
    return job;
  }

  private async startWhenFree(job: ClusterJob, parallelism: number): Promise<void> {
    let canceled = false;
    job.cancelWaiting = () => (canceled = true);
    while (!canceled && !this.closed && job.slots > this.pool.freeSlots) await this.pool.changed();
    job.cancelWaiting = undefined;
    if (canceled || this.closed) return;
    await this.start(job, parallelism).catch(() => {});
  }

  private async start(job: ClusterJob, parallelism: number): Promise<void> {
    const r = job.request;
    const restoreFrom = r.fromSavepoint === undefined ? undefined : typeof r.fromSavepoint === 'string' ? savepointFromPath(r.fromSavepoint) : r.fromSavepoint;
    try {
      job.handle = await this.jobManager.submit(await loadJob(job.moduleUrl), {
          jobId: job.id,
          params: job.params,
          parallelism,
          restoreFrom,
          allowNonRestoredState: r.allowNonRestoredState,
          checkpoints: r.checkpointIntervalMs !== undefined ? { intervalMs: r.checkpointIntervalMs } : undefined,
          restartStrategy: r.restartStrategy,
      });
    } catch (e) {
      job.status = 'failed';
      job.endedAt = Date.now();
      job.error = e instanceof Error ? e.message : String(e);
      job.log(`could not start: ${job.error}`);
      throw e;
    }
    const h = job.handle;
    job.attach(h, (status) => {
      this.options.log?.(`job ${job.id} (${job.name}) ${status}`);
      // Its task managers removed their state files; the job's folder goes too (checkpoints stay).
      void rm(path.join(this.options.dir, 'work', job.id), { recursive: true, force: true }).catch(() => {});
    });
    job.log(`running: ${h.plan.tasks.length} tasks on task managers ${this.taskManagers().filter((t) => t.jobs.includes(job.id)).map((t) => t.id).join(', ')}${restoreFrom ? `, restored from ${restoreFrom.location}` : ''}`);
  }

  async cancel(ref: string): Promise<ClusterJob> {
    const job = this.job(ref);
    if (job.status === 'waiting') {
      job.cancelWaiting?.();
      job.status = 'canceled';
      job.endedAt = Date.now();
      job.log('canceled while waiting for slots');
      return job;
    }
    if (job.status !== 'running') throw new WeirError(`job ${job.id} is ${job.status}; only running or waiting jobs can be canceled`, { domain: 'user' });
    job.log('cancel requested');
    await job.handle!.cancel();
    return job;
  }

  private running(ref: string, what: string): { job: ClusterJob; handle: JobHandle } {
    const job = this.job(ref);
    if (job.status !== 'running' || !job.handle) throw new WeirError(`job ${job.id} is ${job.status}; ${what} needs a running job`, { domain: 'user' });
    return { job, handle: job.handle };
  }

  /** An intermediate savepoint; with `targetDir` it is copied there as `<targetDir>/<jobId>/savepoints/sp-<id>` (resume from that path). */
  async savepoint(ref: string, targetDir?: string): Promise<SavepointRef> {
    const { job, handle } = this.running(ref, 'a savepoint');
    job.log('savepoint requested');
    let sp = await handle.triggerSavepoint();
    if (targetDir) sp = await copySavepoint(sp, targetDir);
    job.savepoints.push(sp);
    job.log(`savepoint ${sp.checkpointId} at ${sp.location}`);
    return sp;
  }

  /** Stop-with-savepoint: the job ends 'stopped'; resume from the savepoint returned. */
  async stop(ref: string, options: { targetDir?: string; drain?: boolean } = {}): Promise<SavepointRef> {
    const { job, handle } = this.running(ref, 'stop-with-savepoint');
    job.log(`stop with savepoint requested${options.drain ? ' (drain)' : ''}`);
    let sp = await handle.stopWithSavepoint({ drain: options.drain });
    if (options.targetDir) sp = await copySavepoint(sp, options.targetDir);
    job.savepoints.push(sp);
    job.log(`stopped with savepoint ${sp.checkpointId} at ${sp.location}`);
    return sp;
  }

  logOf(ref: string): string {
    return this.job(ref).logText();
  }

  private async sample(): Promise<void> {
    await Promise.all(this.list().map((j) => j.sample()));
  }

  get totalSlots(): number {
    return this.pool.totalSlots;
  }

  get freeSlots(): number {
    return this.pool.freeSlots;
  }

  /** Failure injection: ends task manager `id`'s thread as a crash would. */
  killTaskManager(id: number): void {
    this.pool.kill(id);
  }

  /** Cancels every job and ends the task managers. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sampler);
    for (const j of this.list()) j.cancelWaiting?.();
    await Promise.all(this.list().filter((j) => j.status === 'running').map((j) => j.handle!.cancel().catch(() => {})));
    await this.pool.close();
  }
}

/** `<root>/<jobId>/savepoints/sp-<id>` (or `<root>/<jobId>/chk-<id>`, a retained checkpoint) as a reference. */
export function savepointFromPath(location: string): SavepointRef {
  const dir = path.resolve(location);
  const name = path.basename(dir);
  const sp = /^sp-(\d+)$/.exec(name);
  if (sp) return { jobId: path.basename(path.dirname(path.dirname(dir))), checkpointId: Number(sp[1]), scope: 'savepoint', location: dir };
  const chk = /^chk-(\d+)$/.exec(name);
  if (chk) return { jobId: path.basename(path.dirname(dir)), checkpointId: Number(chk[1]), scope: 'checkpoint', location: dir };
  throw new WeirError(`${location} is not a savepoint or checkpoint directory (.../<job id>/savepoints/sp-<n> or .../<job id>/chk-<n>)`, { domain: 'user' });
}

export async function copySavepoint(sp: SavepointRef, targetDir: string): Promise<SavepointRef> {
  const location = path.join(path.resolve(targetDir), sp.jobId, 'savepoints', `sp-${sp.checkpointId}`);
  await cp(sp.location, location, { recursive: true });
  return { ...sp, location };
}
