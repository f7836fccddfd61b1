/**
 * The job manager: turns a job into an execution plan, runs it as execution attempts (task
 * managers on worker threads, or one in-process), coordinates checkpoints, and fails over: when a
 * task fails or a worker thread dies, the attempt is stopped and, as the restart strategy allows, a
 * new one starts from the latest completed checkpoint. The job ends finished (every task finished,
 * after the final checkpoint when checkpointing is on), failed, or canceled.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { buildGraph, validateParams, type JobDefinition, type JsonValue } from '../api/job.ts';
import { checkpointConfig, createCheckpointStorage, type CheckpointConfig } from '../checkpoint/config.ts';
import { CheckpointCoordinator, type CheckpointStats } from '../checkpoint/coordinator.ts';
import { planRestore, type CheckpointMetadata, type TaskRestore } from '../checkpoint/metadata.ts';
import { WeirError } from '../errors.ts';
import { RestartStrategy, type RestartStrategyConfig } from '../failover/restart-strategy.ts';
import { planExecution, type ExecutionPlan } from '../graph/execution-plan.ts';
import type { StreamGraph } from '../graph/stream-graph.ts';
import { validateGraph } from '../graph/validate.ts';
import type { TaskMetrics, TaskSettings } from '../task/stream-task.ts';
import type { CheckpointStorage, CompletedCheckpoint } from '../../state/index.ts';
import { ExecutionAttempt } from './execution-attempt.ts';
import { SourceCoordinators } from './source-coordinator.ts';
import type { Source, SourceSplit } from '../source/contract.ts';
import { aggregateMetrics, JobResult, type CollectTopic, type JobMetrics, type JobStatus } from './job-handle.ts';
import { RemoteTaskError, type Deployment, type TaskManagerEvent } from './protocol.ts';
import { WorkerTaskManager } from './task-manager-gateway.ts';

export interface ClusterOptions {
  /** Task manager worker threads; 0 runs one task manager on the calling thread. Default: one per core. */
  workers?: number;
  /** Records per exchange batch (default 4096). */
  batchSize?: number;
  /** Batches an input channel may hold (default 4). */
  credits?: number;
  /** Longest a partial batch waits before it is sent (default 50 ms). */
  bufferTimeoutMs?: number;
  /** Where keyed state lives: 'lmdb' (default, on disk, larger than memory) or 'heap'. */
  stateBackend?: 'heap' | 'lmdb';
  /** Working files of task managers (default `.weir/work` under the current directory). */
  workDir?: string;
  /** Heap limit per worker thread, MB. */
  workerHeapMb?: number;
  /** Checkpointing; off unless `intervalMs` > 0 (savepoints work either way). */
  checkpoints?: Partial<CheckpointConfig>;
  /** What to do when a job fails; default: no restart without checkpoints, else fixed-delay 3 x 1 s. */
  restartStrategy?: RestartStrategyConfig;
}

/** A completed savepoint (or checkpoint) a job can start from. */
export interface SavepointRef {
  jobId: string;
  checkpointId: number;
  scope: 'savepoint' | 'checkpoint';
  location: string;
}

export interface SubmitOptions<P> {
  params?: P;
  /** Default parallelism of the job's operators (default: the number of workers, at least 1). */
  parallelism?: number;
  maxParallelism?: number;
  /** Start from this savepoint or checkpoint (also at another parallelism). */
  restoreFrom?: SavepointRef;
  /** Start even if the savepoint has state for operators (uids) the job no longer has; that state is dropped. */
  allowNonRestoredState?: boolean;
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

interface JobSetup {
  jobId: string;
  graph: StreamGraph;
  plan: ExecutionPlan;
  deployment: Omit<Deployment, 'worker' | 'restore'>;
  storage: CheckpointStorage;
  checkpoint: CheckpointConfig;
  checkpointing: boolean;
  workers: number;
  workerHeapMb?: number;
  restartStrategy: RestartStrategy;
  initialRestore?: { completed: CompletedCheckpoint; jobId: string };
  allowNonRestoredState: boolean;
}

export interface JobEvents {
  'checkpoint-triggered': [checkpointId: number];
  'checkpoint-completed': [checkpointId: number];
  /** A new execution attempt is running after a failover. */
  restarted: [attempt: number];
}

export class JobHandle extends EventEmitter<JobEvents> {
  status: JobStatus = 'running';
  readonly jobId: string;
  readonly graph: StreamGraph;
  readonly plan: ExecutionPlan;
  private readonly startedAt = performance.now();
  private readonly collected = new Map<string, unknown[]>();
  private finishedTasks = new Set<number>();
  private endedSources = new Set<number>();
  private finalCheckpointId: number | undefined;
  private finalMetrics: TaskMetrics[] | undefined;
  private settle!: { resolve: (r: JobResult) => void; reject: (e: Error) => void };
  private readonly done: Promise<JobResult>;
  private attempt: ExecutionAttempt | undefined;
  private coordinator: CheckpointCoordinator | undefined;
  private sources: SourceCoordinators | undefined;
  private readonly history: CheckpointStats[] = [];
  private lastCheckpointId = 0;
  private failingOver = false;
  private readonly sourceTasks: Set<number>;
  /** Failovers so far. */
  restarts = 0;
  /** Wall-clock times of the last failover: when the failure was seen and when the new attempt was running. */
  lastRecovery: { failedAt: number; runningAt?: number } | undefined;

  constructor(private readonly setup: JobSetup) {
    super();
    this.jobId = setup.jobId;
    this.graph = setup.graph;
    this.plan = setup.plan;
    this.sourceTasks = new Set(setup.plan.tasks.filter((t) => setup.graph.node(setup.plan.chains[t.chainId]!.nodeIds[0]!).kind === 'source').map((t) => t.id));
    this.done = new Promise<JobResult>((resolve, reject) => (this.settle = { resolve, reject }));
    // Callers that only cancel must not see an unhandled rejection.
    this.done.catch(() => {});
    if (setup.initialRestore) this.lastCheckpointId = setup.initialRestore.completed.checkpointId;
  }

  /** Resolves when the job finished; rejects with JobFailedError or JobCanceledError. */
  result(): Promise<JobResult> {
    return this.done;
  }

  /** What a collect sink has received so far (for jobs that do not end by themselves). */
  collectedSoFar<T>(sink: CollectTopic<T>): T[] {
    return [...((this.collected.get(sink.topic) ?? []) as T[])];
  }

  /** Task manager threads running now. */
  get liveTaskManagers(): number {
    return this.attempt?.alive ?? 0;
  }

  /** Checkpoint and savepoint history, oldest first, across failovers. */
  checkpoints(): CheckpointStats[] {
    return [...this.history, ...(this.coordinator?.history ?? [])];
  }

  async metrics(): Promise<JobMetrics> {
    const tasks = this.finalMetrics ?? (await Promise.all((this.attempt?.managers ?? []).map((m) => m.metrics().catch(() => [])))).flat();
    return aggregateMetrics(this.graph, this.plan, tasks, performance.now() - this.startedAt);
  }

  /** Takes a savepoint: a checkpoint kept until deleted, to start this job (or a new version) from. */
  async triggerSavepoint(): Promise<SavepointRef> {
    if (this.status !== 'running' || !this.coordinator) throw new WeirError(`job ${this.jobId} is ${this.status}; savepoints need a running job`, { domain: 'user' });
    const completed = await this.coordinator.trigger(true);
    return { jobId: this.jobId, checkpointId: completed.checkpointId, scope: 'savepoint', location: completed.location };
  }

  /** Takes a savepoint, then stops the job; the result resolves with what was collected. */
  async stopWithSavepoint(): Promise<SavepointRef> {
    const ref = await this.triggerSavepoint();
    await this.finish();
    return ref;
  }

  async cancel(): Promise<void> {
    if (this.status !== 'running') return;
    this.status = 'canceled';
    await this.stopAttempt('the job was canceled');
    this.settle.reject(new JobCanceledError(this.jobId));
  }

  /** Failure injection for tests: ends task manager thread `index` as a crash would. */
  killTaskManager(index: number): void {
    const m = this.attempt?.managers[index];
    if (!(m instanceof WorkerTaskManager)) throw new WeirError(`no worker-thread task manager ${index} to kill (workers: ${this.setup.workers})`, { domain: 'user' });
    m.kill();
  }

  /** @internal */
  async start(): Promise<void> {
    const restore = this.setup.initialRestore;
    await this.runAttempt(restore?.completed, restore?.jobId);
  }

  private restoreAssignment(completed: CompletedCheckpoint): Record<number, TaskRestore> {
    const metadata = completed.metadata as CheckpointMetadata;
    const lookup = planRestore(this.graph, metadata, { allowNonRestoredState: this.setup.allowNonRestoredState });
    const out: Record<number, TaskRestore> = {};
    for (const t of this.plan.tasks) {
      const nodes: TaskRestore['nodes'] = {};
      for (const id of this.plan.chains[t.chainId]!.nodeIds) {
        const uid = this.graph.uidOf(this.graph.node(id));
        const r = lookup(uid, t.subtask);
        if (r) nodes[uid] = r;
      }
      out[t.id] = { checkpointId: metadata.checkpointId, nodes };
    }
    return out;
  }

  private async runAttempt(restore: CompletedCheckpoint | undefined, restoreFromJobId: string | undefined): Promise<void> {
    const number = (this.attempt?.number ?? 0) + 1;
    const attempt = new ExecutionAttempt(number, {
      workers: this.setup.workers,
      workerHeapMb: this.setup.workerHeapMb,
      onEvent: (e) => {
        if (this.attempt === attempt) this.onEvent(e);
      },
      onManagerExit: (index, code, error) => {
        if (this.attempt !== attempt || this.status !== 'running') return;
        const why = error ? `: ${error.message}` : '';
        void this.onFailure(new WeirError(`task manager ${index} died with exit code ${code}${why}`, { domain: 'internal', cause: error }));
      },
    });
    this.attempt = attempt;
    this.finishedTasks = new Set();
    this.endedSources = new Set();
    this.finalCheckpointId = undefined;
    const sources = this.sourceCoordinators(attempt);
    this.sources = sources;
    await sources.start(restore ? (restore.metadata as CheckpointMetadata).enumerators : undefined);
    const coordinator = new CheckpointCoordinator({
      jobId: this.jobId,
      config: this.setup.checkpoint,
      storage: this.setup.storage,
      maxParallelism: this.plan.maxParallelism,
      tasks: this.plan.tasks.map((t) => ({
        taskId: t.id,
        subtask: t.subtask,
        nodes: this.plan.chains[t.chainId]!.nodeIds.map((id) => {
          const n = this.graph.node(id);
          return { uid: this.graph.uidOf(n), name: n.name, parallelism: this.graph.parallelismOf(n) };
        }),
      })),
      firstCheckpointId: this.lastCheckpointId + 1,
      triggerSources: async (id, savepoint) => {
        this.lastCheckpointId = Math.max(this.lastCheckpointId, id);
        this.emit('checkpoint-triggered', id);
        await Promise.all(attempt.managers.map((m) => m.triggerCheckpoint(id, savepoint)));
      },
      snapshotEnumerators: (id) => sources.snapshot(id),
      notifyComplete: (id) => {
        sources.checkpointComplete(id);
        const final = id === this.finalCheckpointId;
        this.emit('checkpoint-completed', id);
        for (const m of attempt.managers) void m.notifyCheckpointComplete(id, final).catch(() => {});
      },
      notifyAborted: (id) => {
        for (const m of attempt.managers) void m.notifyCheckpointAborted(id).catch(() => {});
      },
    });
    this.coordinator = coordinator;
    await attempt.start(
      { ...this.setup.deployment, restoreFromJobId: restore ? restoreFromJobId : undefined },
      restore ? this.restoreAssignment(restore) : undefined,
    );
    if (this.lastRecovery && this.lastRecovery.runningAt === undefined) {
      this.lastRecovery.runningAt = Date.now();
      this.emit('restarted', number);
    }
    if (this.setup.checkpointing) coordinator.startPeriodic();
  }

  /** The split enumerators of this attempt's sources; their events go to the readers' task managers. */
  private sourceCoordinators(attempt: ExecutionAttempt): SourceCoordinators {
    const specs = this.graph.nodes
      .filter((n) => n.kind === 'source')
      .map((n) => ({
        uid: this.graph.uidOf(n),
        name: n.name,
        parallelism: this.graph.parallelismOf(n),
        source: n.source as Source<unknown, SourceSplit, unknown>,
        tasks: this.plan.tasks
          .filter((t) => this.plan.chains[t.chainId]!.nodeIds[0] === n.id)
          .map((t) => ({ taskId: t.id, subtask: t.subtask, worker: t.worker })),
      }));
    return new SourceCoordinators(
      specs,
      (worker, taskId, event) => {
        if (this.attempt !== attempt) return;
        void attempt.managers[worker]?.sendSourceEvent(taskId, event).catch(() => {});
      },
      (error) => {
        if (this.attempt === attempt) void this.onFailure(error);
      },
    );
  }

  private onEvent(event: TaskManagerEvent): void {
    switch (event.type) {
      case 'source-event':
        this.sources?.handle(event.taskId, event.event);
        return;
      case 'client': {
        let list = this.collected.get(event.topic);
        if (!list) this.collected.set(event.topic, (list = []));
        for (const v of event.payload as unknown[]) list.push(v);
        return;
      }
      case 'checkpoint-ack':
        this.coordinator?.acknowledge(event.taskId, event.checkpointId, event.snapshot);
        return;
      case 'checkpoint-declined':
        this.coordinator?.decline(event.taskId, event.checkpointId, event.reason);
        return;
      case 'end-of-data':
        this.endedSources.add(event.taskId);
        if (this.endedSources.size === this.sourceTasks.size) this.triggerFinalCheckpoint();
        return;
      case 'task-finished':
        this.finishedTasks.add(event.taskId);
        this.coordinator?.taskFinished(event.taskId);
        if (this.finishedTasks.size === this.plan.tasks.length) void this.finish();
        return;
      case 'task-failed':
        void this.onFailure(new RemoteTaskError(event.error));
        return;
    }
  }

  /** Every source ended: one more checkpoint, whose completion lets the tasks finish (and sinks commit). */
  private triggerFinalCheckpoint(): void {
    const coordinator = this.coordinator;
    if (!coordinator || this.status !== 'running') return;
    this.finalCheckpointId = coordinator.lastTriggeredId + 1;
    coordinator.trigger(false).catch(() => {
      if (this.coordinator === coordinator && this.status === 'running') setTimeout(() => this.triggerFinalCheckpoint(), 50);
    });
  }

  /** A failure seen while a failover was already starting the next attempt. */
  private failedDuringFailover: WeirError | undefined;

  private async onFailure(cause: WeirError): Promise<void> {
    if (this.status !== 'running') return;
    if (this.failingOver) {
      this.failedDuringFailover = cause;
      return;
    }
    this.failingOver = true;
    try {
      let failure: WeirError | undefined = cause;
      while (failure && this.status === 'running') {
        const failedAt = Date.now();
        await this.stopAttempt(`failover: ${failure.message}`);
        const decision = this.setup.restartStrategy.onFailure();
        if (!decision.restart) {
          await this.fail(failure, decision.reason);
          return;
        }
        this.restarts++;
        this.lastRecovery = { failedAt };
        if (decision.delayMs > 0) await new Promise((r) => setTimeout(r, decision.delayMs));
        if (this.status !== 'running') return;
        this.failedDuringFailover = undefined;
        try {
          const latest = await this.setup.storage.latestCompleted();
          const restore = latest ?? this.setup.initialRestore?.completed;
          const fromJob = latest ? this.jobId : this.setup.initialRestore?.jobId;
          await this.runAttempt(restore, fromJob);
          failure = this.failedDuringFailover;
        } catch (e) {
          // Starting the new attempt failed (e.g. a worker died while deploying): that is one more failure.
          failure = e instanceof WeirError ? e : new WeirError(e instanceof Error ? e.message : String(e), { cause: e });
        }
      }
    } finally {
      this.failingOver = false;
    }
  }

  private async stopAttempt(reason: string): Promise<void> {
    if (this.coordinator) {
      this.coordinator.stop(reason);
      this.history.push(...this.coordinator.history);
      this.coordinator = undefined;
    }
    await this.sources?.close();
    this.sources = undefined;
    await this.attempt?.stop();
  }

  private async finish(): Promise<void> {
    if (this.status !== 'running') return;
    this.status = 'finished';
    this.finalMetrics = (await Promise.all((this.attempt?.managers ?? []).map((m) => m.metrics().catch(() => [])))).flat();
    const elapsed = performance.now() - this.startedAt;
    await this.stopAttempt('the job finished');
    this.settle.resolve(new JobResult(this.jobId, elapsed, this.collected, aggregateMetrics(this.graph, this.plan, this.finalMetrics, elapsed)));
  }

  private async fail(cause: WeirError, why?: string): Promise<void> {
    if (this.status !== 'running') return;
    this.status = 'failed';
    await this.stopAttempt('the job failed');
    const suffix = why && this.restarts > 0 ? ` (not restarted: ${why})` : '';
    this.settle.reject(new JobFailedError(`job ${this.jobId} failed: ${cause.message}${suffix}`, cause));
  }
}

export class JobManager {
  readonly options: Required<Omit<ClusterOptions, 'workerHeapMb' | 'checkpoints' | 'restartStrategy'>> & Pick<ClusterOptions, 'workerHeapMb' | 'restartStrategy'> & { checkpoints: CheckpointConfig };

  constructor(options: ClusterOptions = {}) {
    this.options = {
      workers: options.workers ?? os.availableParallelism(),
      batchSize: options.batchSize ?? 4096,
      credits: options.credits ?? 4,
      bufferTimeoutMs: options.bufferTimeoutMs ?? 50,
      stateBackend: options.stateBackend ?? 'lmdb',
      workDir: options.workDir ?? path.resolve('.weir/work'),
      workerHeapMb: options.workerHeapMb,
      checkpoints: checkpointConfig(options.checkpoints),
      restartStrategy: options.restartStrategy,
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
    const checkpoint = this.options.checkpoints;
    const checkpointing = checkpoint.intervalMs > 0;
    const storage = createCheckpointStorage(checkpoint.storage, jobId, checkpoint.retained);
    let initialRestore: JobSetup['initialRestore'];
    if (options.restoreFrom) {
      const from = options.restoreFrom;
      const completed = await createCheckpointStorage(checkpoint.storage, from.jobId, checkpoint.retained).readCompleted(from.checkpointId, { scope: from.scope });
      initialRestore = { completed, jobId: from.jobId };
    }
    const handle = new JobHandle({
      jobId,
      graph: env.graph,
      plan,
      deployment: {
        jobId,
        moduleUrl: job.moduleUrl,
        params: options.params,
        defaults,
        plan,
        settings,
        stateBackend: this.options.stateBackend,
        workDir: path.join(this.options.workDir, jobId),
        checkpoint: checkpointing ? checkpoint : undefined,
      },
      storage,
      checkpoint,
      checkpointing,
      workers,
      workerHeapMb: this.options.workerHeapMb,
      restartStrategy: new RestartStrategy(this.options.restartStrategy ?? (checkpointing ? { kind: 'fixed-delay', attempts: 3, delayMs: 1000 } : { kind: 'none' })),
      initialRestore,
      allowNonRestoredState: options.allowNonRestoredState ?? false,
    });
    await handle.start();
    return handle;
  }
}
