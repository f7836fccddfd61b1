/**
 * The job manager: turns a job into an execution plan, starts task managers (worker threads, or
 * one in-process), deploys the plan to them, wires the data channels between them, and follows the
 * job to its end: finished when every task finished, failed at the first task failure or worker
 * death (every worker is then stopped), canceled on request.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { buildGraph, validateParams, type JobDefinition, type JsonValue } from '../api/job.ts';
import { WeirError } from '../errors.ts';
import { planExecution, type ExecutionPlan } from '../graph/execution-plan.ts';
import type { StreamGraph } from '../graph/stream-graph.ts';
import { validateGraph } from '../graph/validate.ts';
import type { TaskMetrics, TaskSettings } from '../task/stream-task.ts';
import { aggregateMetrics, JobResult, type CollectTopic, type JobMetrics, type JobStatus } from './job-handle.ts';
import { RemoteTaskError, type TaskManagerEvent } from './protocol.ts';
import { InProcessTaskManager, WorkerTaskManager, type TaskManagerGateway } from './task-manager-gateway.ts';

export interface ClusterOptions {
  /** Task manager worker threads; 0 runs one task manager on the calling thread. Default: one per core. */
  workers?: number;
  /** Records per exchange batch (default 4096). */
  batchSize?: number;
  /** Batches an input channel may hold (default 4). */
  credits?: number;
  /** Longest a partial batch waits before it is sent (default 50 ms). */
  bufferTimeoutMs?: number;
  stateBackend?: 'heap' | 'lmdb';
  /** Working files of task managers (default `.weir/work` under the current directory). */
  workDir?: string;
  /** Heap limit per worker thread, MB. */
  workerHeapMb?: number;
}

export interface SubmitOptions<P> {
  params?: P;
  /** Default parallelism of the job's operators (default: the number of workers, at least 1). */
  parallelism?: number;
  maxParallelism?: number;
}

export class JobFailedError extends WeirError {
  constructor(message: string, cause: unknown) {
    super(message, { domain: cause instanceof WeirError ? cause.domain : 'internal', cause });
    if (cause instanceof WeirError) {
      this.operator = cause.operator;
      this.subtask = cause.subtask;
    }
  }
}

export class JobCanceledError extends WeirError {
  constructor(jobId: string) {
    super(`job ${jobId} was canceled`, { domain: 'user' });
  }
}

export class JobHandle {
  status: JobStatus = 'running';
  private readonly startedAt = performance.now();
  private readonly collected = new Map<string, unknown[]>();
  private readonly finishedTasks = new Set<number>();
  private finalMetrics: TaskMetrics[] | undefined;
  private settle!: { resolve: (r: JobResult) => void; reject: (e: Error) => void };
  private readonly done: Promise<JobResult>;
  private stopping = false;

  constructor(
    readonly jobId: string,
    readonly graph: StreamGraph,
    readonly plan: ExecutionPlan,
    private readonly managers: TaskManagerGateway[],
  ) {
    this.done = new Promise<JobResult>((resolve, reject) => (this.settle = { resolve, reject }));
    // Callers that only cancel must not see an unhandled rejection.
    this.done.catch(() => {});
  }

  /** What a collect sink has received so far (for jobs that do not end by themselves). */
  collectedSoFar<T>(sink: CollectTopic<T>): T[] {
    return [...((this.collected.get(sink.topic) ?? []) as T[])];
  }

  /** Task manager threads still running (0 after the job ended or was canceled). */
  get liveTaskManagers(): number {
    return this.managers.filter((m) => m.alive).length;
  }

  /** Resolves when the job finished; rejects with JobFailedError or JobCanceledError. */
  result(): Promise<JobResult> {
    return this.done;
  }

  async metrics(): Promise<JobMetrics> {
    const tasks = this.finalMetrics ?? (await Promise.all(this.managers.map((m) => m.metrics().catch(() => [])))).flat();
    return aggregateMetrics(this.graph, this.plan, tasks, performance.now() - this.startedAt);
  }

  async cancel(): Promise<void> {
    if (this.status !== 'running') return;
    this.status = 'canceled';
    await this.stop();
    this.settle.reject(new JobCanceledError(this.jobId));
  }

  /** @internal */
  onEvent(event: TaskManagerEvent): void {
    switch (event.type) {
      case 'client': {
        let list = this.collected.get(event.topic);
        if (!list) this.collected.set(event.topic, (list = []));
        for (const v of event.payload as unknown[]) list.push(v);
        return;
      }
      case 'task-finished':
        this.finishedTasks.add(event.taskId);
        if (this.finishedTasks.size === this.plan.tasks.length) void this.complete();
        return;
      case 'task-failed':
        void this.fail(new RemoteTaskError(event.error));
        return;
    }
  }

  /** @internal A task manager's thread ended. */
  onManagerExit(index: number, code: number, error?: Error): void {
    if (this.stopping || this.status !== 'running') return;
    const why = error ? `: ${error.message}` : '';
    void this.fail(new WeirError(`task manager ${index} died with exit code ${code}${why}`, { domain: 'internal', cause: error }));
  }

  private async complete(): Promise<void> {
    if (this.status !== 'running') return;
    this.finalMetrics = (await Promise.all(this.managers.map((m) => m.metrics()))).flat();
    this.status = 'finished';
    const elapsed = performance.now() - this.startedAt;
    await this.stop();
    this.settle.resolve(new JobResult(this.jobId, elapsed, this.collected, aggregateMetrics(this.graph, this.plan, this.finalMetrics, elapsed)));
  }

  private async fail(cause: WeirError): Promise<void> {
    if (this.status !== 'running') return;
    this.status = 'failed';
    await this.stop();
    this.settle.reject(new JobFailedError(`job ${this.jobId} failed: ${cause.message}`, cause));
  }

  private async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.managers.map((m) => m.cancel().catch(() => {})));
    await Promise.all(this.managers.map((m) => m.shutdown().catch(() => {})));
  }
}

export class JobManager {
  readonly options: Required<Omit<ClusterOptions, 'workerHeapMb'>> & { workerHeapMb?: number };

  constructor(options: ClusterOptions = {}) {
    this.options = {
      workers: options.workers ?? os.availableParallelism(),
      batchSize: options.batchSize ?? 4096,
      credits: options.credits ?? 4,
      bufferTimeoutMs: options.bufferTimeoutMs ?? 50,
      stateBackend: options.stateBackend ?? 'heap',
      workDir: options.workDir ?? path.resolve('.weir/work'),
      workerHeapMb: options.workerHeapMb,
    };
  }

  async submit<P extends JsonValue | undefined>(job: JobDefinition<P>, options: SubmitOptions<P> = {}): Promise<JobHandle> {
    validateParams(options.params);
    const workers = this.options.workers;
    const defaults = {
      parallelism: options.parallelism ?? Math.max(1, workers),
      maxParallelism: options.maxParallelism ?? 128,
    };
    const env = buildGraph(job as JobDefinition<JsonValue | undefined>, options.params, defaults);
    validateGraph(env.graph);
    const plan = planExecution(env.graph, Math.max(1, workers));
    const jobId = randomUUID();
    const settings: TaskSettings = { batchSize: this.options.batchSize, credits: this.options.credits, bufferTimeoutMs: this.options.bufferTimeoutMs };

    let handle: JobHandle | undefined;
    const early: TaskManagerEvent[] = [];
    const onEvent = (e: TaskManagerEvent): void => (handle ? handle.onEvent(e) : void early.push(e));
    const managers: TaskManagerGateway[] =
      workers === 0
        ? [new InProcessTaskManager(0, onEvent)]
        : Array.from(
            { length: workers },
            (_, i) =>
              new WorkerTaskManager(i, onEvent, (code, error) => handle?.onManagerExit(i, code, error), this.options.workerHeapMb ? { maxOldGenerationSizeMb: this.options.workerHeapMb } : undefined),
          );
    handle = new JobHandle(jobId, env.graph, plan, managers);
    try {
      for (let a = 0; a < managers.length; a++) {
        for (let b = a + 1; b < managers.length; b++) {
          const { port1, port2 } = new MessageChannel();
          await managers[a]!.connectPeer(b, port1);
          await managers[b]!.connectPeer(a, port2);
        }
      }
      const deployment = { jobId, moduleUrl: job.moduleUrl, params: options.params, defaults, plan, settings, stateBackend: this.options.stateBackend, workDir: path.join(this.options.workDir, jobId) };
      await Promise.all(managers.map((m) => m.deploy({ ...deployment, worker: m.index })));
      await Promise.all(managers.map((m) => m.start()));
    } catch (e) {
      await Promise.all(managers.map((m) => m.shutdown().catch(() => {})));
      throw e;
    }
    for (const e of early.splice(0)) handle.onEvent(e);
    return handle;
  }
}
