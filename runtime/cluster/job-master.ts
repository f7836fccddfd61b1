/**
 * One job's run (Flink's JobMaster), as the submitter sees it through its handle: runs the job as
 * execution attempts, coordinates its checkpoints and savepoints, and fails over: when a task fails
 * or a worker thread dies, the attempt is stopped and, as the restart strategy allows, a new one
 * starts from the latest completed checkpoint. The job ends finished (every task finished, after the
 * final checkpoint when checkpointing is on), stopped, failed, or canceled.
 */
import { EventEmitter } from 'node:events';
import { type CheckpointConfig } from '../checkpoint/config.ts';
import { CheckpointCoordinator, type CheckpointStats } from '../checkpoint/coordinator.ts';
import { planRestore, type CheckpointMetadata, type TaskRestore } from '../checkpoint/metadata.ts';
import { endsJob, isCheckpoint } from '../checkpoint/snapshot-kind.ts';
import { ConfigError, WeirError } from '../errors.ts';
import { RestartStrategy } from '../failover/restart-strategy.ts';
import { FailoverHistory, failureCause, type FailoverRecord } from '../failover/failover-history.ts';
import { runsKeyedOperators, type ExecutionPlan } from '../graph/execution-plan.ts';
import type { StreamGraph } from '../graph/stream-graph.ts';
import type { TaskMetrics } from '../task/task-metrics.ts';
import type { CheckpointStorage, CompletedCheckpoint } from '../../state/index.ts';
import { ExecutionAttempt } from './execution-attempt.ts';
import { type HeartbeatSettings } from './heartbeat-monitor.ts';
import { SourceCoordinators } from './source-coordinator.ts';
import type { Source, SourceSplit } from '../source/contract.ts';
import { restorePointForFailover, StopRequest } from './stop-with-savepoint.ts';
import { TaskManagerPool } from './task-manager-pool.ts';
import type { SlotReservation } from './slot-pool.ts';
import { aggregateMetrics, JobResult, type CollectTopic, type JobMetrics, type JobStatus } from './job-handle.ts';
import { RemoteTaskError, type Deployment, type TaskManagerEvent } from './protocol.ts';
import { WorkerTaskManager } from './task-manager-gateway.ts';
import { HostedTaskManager } from './task-manager-host.ts';

/** How long `handle.metrics()` waits for each task manager before reporting it unresponsive. */
const METRICS_TIMEOUT_MS = 2000;

/** A completed savepoint (or checkpoint) a job can start from. */
export interface SavepointRef {
  jobId: string;
  checkpointId: number;
  scope: 'savepoint' | 'checkpoint';
  location: string;
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

export interface JobSetup {
  jobId: string;
  graph: StreamGraph;
  plan: ExecutionPlan;
  deployment: Omit<Deployment, 'worker' | 'restore'>;
  storage: CheckpointStorage;
  checkpoint: CheckpointConfig;
  checkpointing: boolean;
  workers: number;
  workerHeapMb?: number;
  heartbeat: HeartbeatSettings;
  spareTaskManagers: number;
  restartStrategy: RestartStrategy;
  initialRestore?: { completed: CompletedCheckpoint; jobId: string };
  allowNonRestoredState: boolean;
  /** Slots held on a standalone cluster for the job's life. */
  reservation?: SlotReservation;
  inProcess: boolean;
}

/**
 * Where a failover is (`handle.restartPhase`): stopping the failed attempt, waiting out the restart
 * strategy's delay, finding the checkpoint to restore, deploying the next attempt.
 */
export type RestartPhase = 'stopping' | 'delay' | 'finding-checkpoint' | 'deploying';

export interface JobEvents {
  'checkpoint-triggered': [checkpointId: number];
  'checkpoint-completed': [checkpointId: number];
  /** A new execution attempt is running after a failover. */
  restarted: [attempt: number];
  /** A failure was seen (the record says whether the job restarts); emitted before the restart. */
  failover: [record: FailoverRecord];
  /** Every task of the attempt started after a failover has opened and restored its state. */
  recovered: [record: FailoverRecord];
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
  /**
   * Whether the current attempt's tasks are deployed (its start finished): the coordinator exists
   * from the attempt's creation, but a checkpoint or savepoint triggered before its tasks run would
   * wait for acknowledgements until the checkpoint timeout (Flink declines such a trigger at once).
   */
  private attemptDeployed = false;
  private sources: SourceCoordinators | undefined;
  private readonly history: CheckpointStats[] = [];
  private lastCheckpointId = 0;
  private failingOver = false;
  private phase: RestartPhase | undefined;
  /** Stop-with-savepoint in progress. */
  private stopRequest: StopRequest | undefined;
  /** A completed stop-savepoint: failover never goes back before it (its sinks may have committed). */
  private stopSavepoint: CompletedCheckpoint | undefined;
  private readonly sourceTasks: Set<number>;
  /** Failovers so far. */
  restarts = 0;
  private readonly failoverHistory = new FailoverHistory();
  /** Tasks of the current attempt that have opened (restored their state). */
  private openedTasks = new Set<number>();
  /** Worker task managers, kept across attempts (none for an in-process task manager). */
  private readonly pool: TaskManagerPool | undefined;

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
    if (setup.workers > 0 && !setup.reservation && !setup.inProcess) {
      this.pool = new TaskManagerPool({
        workers: setup.workers,
        workerHeapMb: setup.workerHeapMb,
        heartbeatMs: setup.heartbeat.intervalMs,
        moduleUrl: setup.deployment.moduleUrl,
        writerThread: setup.deployment.stateBackend === 'lmdb' && runsKeyedOperators(setup.graph, setup.plan),
        spares: setup.spareTaskManagers,
      });
    }
  }

  /** Resolves when the job finished; rejects with JobFailedError or JobCanceledError. */
  result(): Promise<JobResult> {
    return this.done;
  }

  /** What a collect sink has received so far (for jobs that do not end by themselves). */
  collectedSoFar<T>(sink: CollectTopic<T>): T[] {
    return [...((this.collected.get(sink.topic) ?? []) as T[])];
  }

  /** Records each collect sink has received so far, by topic. */
  collectedCounts(): Record<string, number> {
    return Object.fromEntries([...this.collected].map(([topic, list]) => [topic, list.length]));
  }

  /** Every failover so far, oldest first: cause, restart decision, recovery times and breakdown. */
  failovers(): FailoverRecord[] {
    return this.failoverHistory.list();
  }

  /** Wall-clock times of the last restart: when the failure was seen and when the new attempt was running. */
  get lastRecovery(): { failedAt: number; runningAt?: number; recoveredAt?: number } | undefined {
    const r = [...this.failovers()].reverse().find((f) => f.restarted);
    return r && { failedAt: r.at, runningAt: r.runningAt, recoveredAt: r.recoveredAt };
  }

  /** The job is failing over: its failed attempt is being stopped or the next one started. */
  get restarting(): boolean {
    return this.status === 'running' && this.failingOver;
  }

  /** The step the failover under way is at; undefined while none runs (or the job has ended). */
  get restartPhase(): RestartPhase | undefined {
    return this.restarting ? this.phase : undefined;
  }

  /** The execution attempt running or being deployed (1 is the first run; each failover starts the next). */
  get attemptNumber(): number {
    return this.attempt?.number ?? 0;
  }

  /** Task manager threads running now. */
  get liveTaskManagers(): number {
    return this.attempt?.alive ?? 0;
  }

  /** Checkpoint and savepoint history, oldest first, across failovers. */
  checkpoints(): CheckpointStats[] {
    return [...this.history, ...(this.coordinator?.history ?? [])];
  }

  /**
   * Metrics of the current attempt (counters start again at each failover: see `attempt`). A task
   * manager that does not answer within 2 s (busy or stuck) is left out and listed in `unresponsive`.
   */
  async metrics(): Promise<JobMetrics> {
    const attempt = this.attempt?.number ?? 0;
    if (this.finalMetrics) return { ...aggregateMetrics(this.graph, this.plan, this.finalMetrics, performance.now() - this.startedAt), attempt, restarts: this.restarts, unresponsive: [] };
    const unresponsive: number[] = [];
    const answers = await Promise.all(
      (this.attempt?.managers ?? []).map(async (m) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), METRICS_TIMEOUT_MS)));
        const r = await Promise.race([m.metrics().catch(() => 'late' as const), late]).finally(() => clearTimeout(timer));
        if (r === 'late') {
          unresponsive.push(m.index);
          return [];
        }
        return r;
      }),
    );
    return { ...aggregateMetrics(this.graph, this.plan, answers.flat(), performance.now() - this.startedAt), attempt, restarts: this.restarts, unresponsive };
  }

  /**
   * Takes an intermediate savepoint: the job goes on, no side effects are committed (sinks commit what
   * they pre-committed at it with the next checkpoint), it is never used for failover, and its files
   * stay under its own directory, outside checkpoint retention, until deleted: start this job (or a
   * new version of it) from it.
   */
  async triggerSavepoint(): Promise<SavepointRef> {
    const completed = await this.savepointCoordinator('savepoints').trigger('savepoint');
    return { jobId: this.jobId, checkpointId: completed.checkpointId, scope: 'savepoint', location: completed.location };
  }

  /** The coordinator of a running attempt whose tasks are deployed; otherwise an error saying why `what` cannot run now. */
  private savepointCoordinator(what: 'savepoints' | 'stop-with-savepoint'): CheckpointCoordinator {
    if (this.status === 'running' && this.coordinator && this.attemptDeployed) return this.coordinator;
    const state = this.status === 'running' ? 'restarting after a failure (its tasks are being deployed); try again once it runs' : this.status;
    throw new WeirError(`job ${this.jobId} is ${state}; ${what} ${what === 'savepoints' ? 'need' : 'needs'} a running job`, { domain: 'user' });
  }

  /**
   * Stops the job with a savepoint (see stop-with-savepoint.ts): sources emit nothing after its
   * barrier, nothing is triggered after it, sinks commit exactly what it covers, and the job ends
   * 'stopped' (the result resolves with what was collected). Resolves once the job ended.
   *
   * Without `drain` (the default, as in Flink) windows and timers still open stay open in the
   * savepoint and go on after a resume. With `drain: true` sources end their input first (final
   * watermark, every window and timer fires, operators' end of input), then the savepoint is taken:
   * for a job that is not coming back as it was. Drain needs checkpointing on (`intervalMs` > 0).
   */
  async stopWithSavepoint(options: { drain?: boolean } = {}): Promise<SavepointRef> {
    if (this.stopRequest) throw new WeirError(`job ${this.jobId} is already stopping; stop-with-savepoint needs a running job`, { domain: 'user' });
    const coordinator = this.savepointCoordinator('stop-with-savepoint');
    if (options.drain && !this.setup.checkpointing) {
      throw new ConfigError('drain', 'stop-with-savepoint with drain needs checkpointing on (checkpoints.intervalMs > 0): tasks that end their input without it commit and exit at once');
    }
    const request = (this.stopRequest = new StopRequest(this.jobId));
    let completed: CompletedCheckpoint;
    try {
      completed = await coordinator.trigger(options.drain ? 'drain-savepoint' : 'stop-savepoint');
    } catch (e) {
      if (this.stopRequest === request) this.stopRequest = undefined;
      throw e;
    }
    await request.ended;
    return { jobId: this.jobId, checkpointId: completed.checkpointId, scope: 'savepoint', location: completed.location };
  }

  async cancel(): Promise<void> {
    if (this.status !== 'running') return;
    this.status = 'canceled';
    this.stopRequest?.failed(new JobCanceledError(this.jobId));
    await this.stopAttempt('the job was canceled');
    this.settle.reject(new JobCanceledError(this.jobId));
  }

  /**
   * Failure injection for tests: ends task manager thread `index` of the current attempt as a crash
   * would. A thread running tasks (the attempt runs, or is being deployed by a failover) makes the job
   * fail over (again). During a failover's stop or restart delay the thread holds no tasks: the
   * restart under way replaces it and no other restart follows (as in Flink, a lost task manager
   * without tasks restarts nothing). To count one restart per kill, kill while `restarting` is false.
   */
  killTaskManager(index: number): void {
    const m = this.attempt?.managers[index];
    // A session's or standalone cluster's task manager is a thread shared with other jobs: it dies for all of them.
    if (!(m instanceof WorkerTaskManager || m instanceof HostedTaskManager)) throw new WeirError(`no worker-thread task manager ${index} to kill (workers: ${this.setup.workers})`, { domain: 'user' });
    m.kill();
  }

  /** @internal */
  async start(): Promise<void> {
    const restore = this.setup.initialRestore;
    try {
      await this.runAttempt(restore?.completed, restore?.jobId);
    } catch (e) {
      // The job never ran and its submitter gets the error, not a handle: end every thread it started
      // (the warm spare too, which would keep the process alive), and let no failover of a task
      // manager lost meanwhile start another attempt.
      this.status = 'failed';
      await this.stopAttempt('the job could not start');
      throw e;
    }
  }

  private restoreAssignment(completed: CompletedCheckpoint): Record<number, TaskRestore> {
    const metadata = completed.metadata as CheckpointMetadata;
    const lookup = planRestore(this.graph, metadata, { allowNonRestoredState: this.setup.allowNonRestoredState, fromOtherJob: metadata.jobId !== this.jobId });
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
    const placed = this.setup.reservation ? await this.setup.reservation.place(this.plan, number, () => this.status !== 'running') : undefined;
    const attempt = new ExecutionAttempt(number, {
      placed,
      inProcess: this.setup.inProcess,
      workers: this.setup.workers,
      workerHeapMb: this.setup.workerHeapMb,
      heartbeat: this.setup.heartbeat,
      pool: this.pool,
      onManagerLost: (_index, message) => {
        if (this.attempt !== attempt || this.status !== 'running') return;
        void this.onFailure(new WeirError(message, { domain: 'internal', retriable: true }));
      },
      onEvent: (e) => {
        if (this.attempt === attempt) this.onEvent(e);
      },
      onManagerExit: (index, code, error) => {
        if (this.attempt !== attempt || this.status !== 'running') return;
        const why = error ? `: ${error.message}` : '';
        void this.onFailure(new WeirError(`task manager ${index} died with exit code ${code}${why}`, { domain: 'internal', retriable: true, cause: error }));
      },
    });
    this.attempt = attempt;
    this.openedTasks = new Set();
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
      triggerSources: async (id, kind) => {
        this.lastCheckpointId = Math.max(this.lastCheckpointId, id);
        this.emit('checkpoint-triggered', id);
        await Promise.all(attempt.managers.map((m) => m.triggerCheckpoint(id, kind)));
      },
      snapshotEnumerators: (id) => sources.snapshot(id),
      notifyComplete: (id, kind) => {
        // Intermediate savepoints are never notified; a stop-savepoint ends the tasks like the final checkpoint.
        sources.checkpointComplete(id);
        const final = id === this.finalCheckpointId || endsJob(kind);
        if (endsJob(kind)) {
          this.stopSavepoint = coordinator.latestCompleted;
          if (this.stopRequest) this.stopRequest.completed = this.stopSavepoint;
        }
        if (isCheckpoint(kind)) this.emit('checkpoint-completed', id);
        for (const m of attempt.managers) void m.notifyCheckpointComplete(id, final).catch(() => {});
      },
      notifyAborted: (id) => {
        for (const m of attempt.managers) void m.notifyCheckpointAborted(id).catch(() => {});
      },
    });
    this.coordinator = coordinator;
    // The first spare starts with the job's own task managers (it competes with their start, not
    // with processing); a spare used by a failover is replaced once the job has recovered.
    if (number === 1) this.pool?.fillSpares();
    await attempt.start(
      { ...this.setup.deployment, restoreFromJobId: restore ? restoreFromJobId : undefined },
      restore ? this.restoreAssignment(restore) : undefined,
    );
    const recovering = this.failoverHistory.last;
    if (recovering?.restarted && recovering.runningAt === undefined) {
      recovering.runningAt = Date.now();
      recovering.restoredCheckpointId = restore?.checkpointId;
      recovering.taskManagers = { kept: attempt.reused, fromSpare: attempt.fromSpare, started: attempt.managers.length - attempt.reused - attempt.fromSpare };
      if (recovering.breakdown) Object.assign(recovering.breakdown, attempt.timings);
      this.emit('restarted', number);
      this.noteOpened();
    }
    // A failure during the start stopped this attempt (and may have started the next): not deployed.
    if (this.coordinator === coordinator) this.attemptDeployed = true;
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
      case 'task-opened':
        this.openedTasks.add(event.taskId);
        this.noteOpened();
        return;
      case 'heartbeat':
      case 'drained':
        return;
    }
  }

  /** After a failover: once every task has opened (restored its state), the recovery is complete. */
  private noteOpened(): void {
    const r = this.failoverHistory.last;
    if (!r?.restarted || r.runningAt === undefined || r.recoveredAt !== undefined || this.openedTasks.size < this.plan.tasks.length) return;
    r.recoveredAt = Date.now();
    if (r.breakdown) r.breakdown.restoreMs = r.recoveredAt - r.runningAt;
    this.pool?.fillSpares();
    this.emit('recovered', { ...r });
  }

  /** Every source ended: one more checkpoint, whose completion lets the tasks finish (and sinks commit). */
  private triggerFinalCheckpoint(): void {
    const coordinator = this.coordinator;
    if (!coordinator || this.status !== 'running') return;
    // A stop-savepoint in progress ends the tasks itself, and nothing may be triggered after it; if it
    // is aborted instead, the final checkpoint is still needed.
    if (coordinator.stoppingWith !== undefined) {
      setTimeout(() => this.triggerFinalCheckpoint(), 50);
      return;
    }
    this.finalCheckpointId = coordinator.lastTriggeredId + 1;
    coordinator.trigger('final-checkpoint').catch(() => {
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
        const seen: WeirError = failure;
        const record: FailoverRecord = { attempt: this.attempt?.number ?? 0, at: Date.now(), cause: failureCause(failure), restarted: false };
        const stop = this.stopRequest;
        this.stopRequest = undefined;
        const t0 = performance.now();
        this.phase = 'stopping';
        await this.stopAttempt(`failover: ${failure.message}`, true);
        const stopMs = performance.now() - t0;
        const decision = record.cause.retriable
          ? this.setup.restartStrategy.onFailure()
          : { restart: false, delayMs: 0, reason: 'the failure is not retriable (a user error marked retriable: false, such as a bad record)' };
        this.failoverHistory.add(record);
        if (!decision.restart) {
          stop?.failed(failure);
          record.notRestartedBecause = decision.reason;
          this.emit('failover', { ...record });
          await this.fail(failure, decision.reason);
          return;
        }
        record.restarted = true;
        this.emit('failover', { ...record });
        this.restarts++;
        this.phase = 'delay';
        if (decision.delayMs > 0) await new Promise((r) => setTimeout(r, decision.delayMs));
        // Canceled meanwhile: a stop-with-savepoint caller still waits for word (cancel() no longer sees its request).
        if (this.status !== 'running') return stop?.failed(failure);
        this.failedDuringFailover = undefined;
        try {
          const t1 = performance.now();
          this.phase = 'finding-checkpoint';
          const latest = await restorePointForFailover(this.setup.storage, this.stopSavepoint);
          if (this.status !== 'running') return stop?.failed(failure);
          stop?.failed(failure, true);
          record.breakdown = { stopMs, delayMs: decision.delayMs, findCheckpointMs: performance.now() - t1, startWorkersMs: 0, deployMs: 0 };
          const restore = latest ?? this.setup.initialRestore?.completed;
          const fromJob = latest ? this.jobId : this.setup.initialRestore?.jobId;
          this.phase = 'deploying';
          await this.runAttempt(restore, fromJob);
          failure = this.failedDuringFailover;
        } catch (e) {
          // Starting the new attempt failed (e.g. a worker died while deploying): that is one more failure.
          stop?.failed(seen, true);
          failure = e instanceof WeirError ? e : new WeirError(e instanceof Error ? e.message : String(e), { cause: e });
        }
      }
    } finally {
      this.failingOver = false;
      this.phase = undefined;
    }
  }

  /** Stops the current attempt; a failover keeps the task managers that stopped cleanly, the end of the job ends every thread. */
  private async stopAttempt(reason: string, failover = false): Promise<void> {
    this.attemptDeployed = false;
    if (this.coordinator) {
      this.coordinator.stop(reason);
      this.history.push(...this.coordinator.history);
      this.coordinator = undefined;
    }
    await this.sources?.close();
    this.sources = undefined;
    await this.attempt?.stop(failover);
    if (!failover) {
      await this.pool?.close();
      this.setup.reservation?.release();
    }
  }

  private async finish(): Promise<void> {
    if (this.status !== 'running') return;
    const stop = this.stopRequest?.completed ? this.stopRequest : undefined;
    this.status = stop ? 'stopped' : 'finished';
    this.finalMetrics = (await Promise.all((this.attempt?.managers ?? []).map((m) => m.metrics().catch(() => [])))).flat();
    const elapsed = performance.now() - this.startedAt;
    await this.stopAttempt('the job finished');
    this.settle.resolve(new JobResult(this.jobId, elapsed, this.collected, aggregateMetrics(this.graph, this.plan, this.finalMetrics, elapsed)));
    stop?.jobEnded();
  }

  private async fail(cause: WeirError, why?: string): Promise<void> {
    if (this.status !== 'running') return;
    this.status = 'failed';
    this.stopRequest?.failed(cause);
    await this.stopAttempt('the job failed');
    const suffix = why && (this.restarts > 0 || !failureCause(cause).retriable) ? ` (not restarted: ${why})` : '';
    this.settle.reject(new JobFailedError(`job ${this.jobId} failed: ${cause.message}${suffix}`, cause));
  }
}

