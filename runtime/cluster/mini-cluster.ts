/**
 * A whole cluster in the calling process, for tests and the demo: a job manager on this thread and
 * task managers on worker threads (or on this thread with `workers: 0`).
 *
 *     const cluster = new MiniCluster({ workers: 2 });
 *     const result = await cluster.execute(wordCountJob, { parallelism: 2, params: { lines: 1000 } });
 *     result.get(counts); // what the job's collect sink received
 *
 * By default each job starts task manager threads of its own and ends them when it ends. With
 * `reuseTaskManagers` the cluster is a session, as Flink's MiniCluster is: its task manager threads
 * start once and run job after job (in slots, as a standalone cluster's do) until `close()`. A job
 * then starts without loading the runtime into new threads, and its code runs already compiled by
 * the JIT from the jobs before it.
 */
import os from 'node:os';
import { WeirError } from '../errors.ts';
import type { JobDefinition } from '../graph/job-definition.ts';
import { JobManager, type ClusterOptions, type SubmitOptions } from './job-manager.ts';
import type { JobHandle } from './job-master.ts';
import type { JobResult } from './job-handle.ts';
import { SlotPool } from './slot-pool.ts';

export interface MiniClusterOptions extends Omit<ClusterOptions, 'slots'> {
  /**
   * Keep the task manager threads between jobs (a session cluster; default false: threads per job).
   * Call `close()` when done: the threads keep the process alive until then. Needs `workers` > 0
   * and the 'worker-threads' transport.
   */
  reuseTaskManagers?: boolean;
}

/**
 * Slots of each session task manager: enough for any parallelism up to the default max parallelism
 * (128) on one thread, as a per-job MiniCluster allows, with room for jobs that run side by side.
 */
const SESSION_SLOTS_PER_TASK_MANAGER = 256;

export class MiniCluster {
  private readonly jobManager: JobManager;
  private readonly sessionPool: SlotPool | undefined;

  constructor(options: MiniClusterOptions = {}) {
    const { reuseTaskManagers, ...clusterOptions } = options;
    if (reuseTaskManagers) {
      const workers = options.workers ?? os.availableParallelism();
      if (workers < 1 || options.transport === 'in-process') {
        throw new WeirError(`MiniCluster: reuseTaskManagers keeps task manager threads, so it needs workers >= 1 and the 'worker-threads' transport (got workers: ${workers}, transport: '${options.transport ?? 'worker-threads'}')`, { domain: 'user' });
      }
      this.sessionPool = new SlotPool({ taskManagers: workers, slotsPerTaskManager: SESSION_SLOTS_PER_TASK_MANAGER, heartbeatMs: options.heartbeat?.intervalMs, workerHeapMb: options.workerHeapMb });
    }
    this.jobManager = new JobManager({ ...clusterOptions, ...(this.sessionPool ? { slots: this.sessionPool } : {}) });
  }

  async submit<P>(job: JobDefinition<P>, options: SubmitOptions<P> = {}): Promise<JobHandle> {
    // A session's first job waits for its threads, as a per-job cluster's job waits for its own.
    await this.sessionPool?.ready();
    return this.jobManager.submit(job, options);
  }

  /** Runs a bounded job to its end and returns what it produced. */
  async execute<P>(job: JobDefinition<P>, options: SubmitOptions<P> = {}): Promise<JobResult> {
    const handle = await this.submit(job, options);
    return handle.result();
  }

  /** Ends a session's task manager threads (jobs still running on them fail); nothing to do without `reuseTaskManagers`. */
  async close(): Promise<void> {
    await this.sessionPool?.close();
  }
}
