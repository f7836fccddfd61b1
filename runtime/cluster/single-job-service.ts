/**
 * The REST API's view of one job run in process (`weir run --dashboard`): the same endpoints and
 * dashboard as a standalone cluster's, over that job alone. It cannot take other jobs.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeirError } from '../errors.ts';
import type { JsonValue } from '../graph/job-definition.ts';
import { ClusterJob, JobNotFoundError, type JobService } from './cluster-job.ts';
import type { JobHandle, SavepointRef } from './job-master.ts';
import type { TaskManagerInfo } from './slot-pool.ts';
import { copySavepoint } from './standalone-cluster.ts';

export class SingleJobService implements JobService {
  readonly startedAt = Date.now();
  readonly only: ClusterJob;
  private readonly sampler: NodeJS.Timeout;

  constructor(
    private readonly handle: JobHandle,
    moduleUrl: string,
    params: JsonValue | undefined,
  ) {
    const file = moduleUrl.startsWith('file:') ? fileURLToPath(moduleUrl) : moduleUrl;
    const slots = Math.max(1, ...handle.plan.chains.map((c) => c.parallelism));
    this.only = new ClusterJob(handle.jobId, path.basename(file).replace(/\.[mc]?[tj]sx?$/, ''), file, moduleUrl, params, slots, { module: file, params }, undefined);
    this.only.log(`running in process: ${handle.plan.tasks.length} tasks`);
    this.only.attach(handle);
    this.sampler = setInterval(() => void this.only.sample(), 1000);
    this.sampler.unref();
  }

  get totalSlots(): number {
    return this.only.slots;
  }

  get freeSlots(): number {
    return this.only.status === 'running' ? 0 : this.only.slots;
  }

  list(): ClusterJob[] {
    return [this.only];
  }

  job(ref: string): ClusterJob {
    if (this.only.id.startsWith(ref) || this.only.name === ref) return this.only;
    throw new JobNotFoundError(`no job '${ref}'; this run serves job ${this.only.id}`);
  }

  taskManagers(): TaskManagerInfo[] {
    const running = this.only.status === 'running';
    return Array.from({ length: this.handle.plan.workers }, (_, id) => ({
      id,
      slots: 0,
      freeSlots: 0,
      alive: running,
      startedAt: this.startedAt,
      lastHeartbeat: undefined,
      replacements: 0,
      jobs: running ? [this.only.id] : [],
    }));
  }

  async submit(): Promise<ClusterJob> {
    throw new WeirError('this is an in-process run of one job: start a cluster (weir cluster start) to submit jobs', { domain: 'user' });
  }

  async cancel(ref: string): Promise<ClusterJob> {
    this.job(ref).log('cancel requested');
    await this.handle.cancel();
    return this.only;
  }

  async savepoint(ref: string, targetDir?: string): Promise<SavepointRef> {
    this.job(ref);
    let sp = await this.handle.triggerSavepoint();
    if (targetDir) sp = await copySavepoint(sp, targetDir);
    this.only.savepoints.push(sp);
    this.only.log(`savepoint ${sp.checkpointId} at ${sp.location}`);
    return sp;
  }

  async stop(ref: string, options: { targetDir?: string; drain?: boolean } = {}): Promise<SavepointRef> {
    this.job(ref);
    let sp = await this.handle.stopWithSavepoint({ drain: options.drain });
    if (options.targetDir) sp = await copySavepoint(sp, options.targetDir);
    this.only.savepoints.push(sp);
    this.only.log(`stopped with savepoint ${sp.checkpointId} at ${sp.location}`);
    return sp;
  }

  logOf(ref: string): string {
    return this.job(ref).logText();
  }

  killTaskManager(id: number): void {
    this.handle.killTaskManager(id);
  }

  close(): void {
    clearInterval(this.sampler);
  }
}
