/**
 * A whole cluster in the calling process, for tests and the demo: a job manager on this thread and
 * task managers on worker threads (or on this thread with `workers: 0`).
 *
 *     const cluster = new MiniCluster({ workers: 2 });
 *     const result = await cluster.execute(wordCountJob, { parallelism: 2, params: { lines: 1000 } });
 *     result.get(counts); // what the job's collect sink received
 */
import type { JobDefinition } from '../graph/job-definition.ts';
import { JobManager, type ClusterOptions, type SubmitOptions } from './job-manager.ts';
import type { JobHandle } from './job-master.ts';
import type { JobResult } from './job-handle.ts';

export class MiniCluster {
  private readonly jobManager: JobManager;

  constructor(options: ClusterOptions = {}) {
    this.jobManager = new JobManager(options);
  }

  submit<P>(job: JobDefinition<P>, options: SubmitOptions<P> = {}): Promise<JobHandle> {
    return this.jobManager.submit(job, options);
  }

  /** Runs a bounded job to its end and returns what it produced. */
  async execute<P>(job: JobDefinition<P>, options: SubmitOptions<P> = {}): Promise<JobResult> {
    const handle = await this.submit(job, options);
    return handle.result();
  }
}
