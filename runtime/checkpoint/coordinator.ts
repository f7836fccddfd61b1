/**
 * The job-side checkpoint coordinator. It triggers checkpoint n at the source tasks (which emit
 * barrier n into their streams), collects every task's acknowledgement with its state handles, and
 * when all tasks acknowledged, writes the checkpoint's metadata (last, atomically) and tells the
 * tasks it is complete, which is when two-phase-commit sinks commit. A checkpoint that a task
 * declines or that times out is aborted, and its partial files discarded.
 *
 * Savepoints (see snapshot-kind.ts) go through the same protocol, with two differences when they
 * complete: an intermediate savepoint notifies no task (sinks commit nothing; what they pre-committed
 * is committed with the next checkpoint), never becomes `latestCompleted` and subsumes nothing; a
 * stop-savepoint is notified like a checkpoint (sinks commit what it covers), and once it is
 * triggered nothing else is, so no checkpoint can slip in after it.
 *
 * Its clock, first checkpoint id and storage are constructor arguments, so tests can drive it.
 */
import type { CheckpointStorage, CompletedCheckpoint } from '../../state/index.ts';
import { WeirError } from '../errors.ts';
import type { CheckpointConfig } from './config.ts';
import type { CheckpointMetadata, OperatorCheckpointState, TaskSnapshot } from './metadata.ts';
import { commitsSideEffects, endsJob, isCheckpoint, storageScope, type SnapshotKind } from './snapshot-kind.ts';

export interface CheckpointStats {
  id: number;
  kind: SnapshotKind;
  savepoint: boolean;
  status: 'in-progress' | 'completed' | 'aborted';
  triggeredAt: number;
  durationMs?: number;
  /** Bytes of state written by all tasks. */
  bytes?: number;
  /** Longest barrier alignment of any task. */
  alignmentMs?: number;
  location?: string;
  reason?: string;
}

export interface CoordinatorTask {
  taskId: number;
  subtask: number;
  /** The task's nodes: uid, name, parallelism. */
  nodes: { uid: string; name: string; parallelism: number }[];
}

export interface CoordinatorDeps {
  jobId: string;
  config: CheckpointConfig;
  storage: CheckpointStorage;
  maxParallelism: number;
  tasks: CoordinatorTask[];
  /** Ids start here (after a restore: above the restored checkpoint's). */
  firstCheckpointId: number;
  now?: () => number;
  /** Asks the source tasks to start checkpoint `id`. */
  triggerSources(id: number, kind: SnapshotKind): Promise<void>;
  /** Checkpoint (or stop-savepoint) `id` completed: tasks commit. Never called for intermediate savepoints. */
  notifyComplete(id: number, kind: SnapshotKind): void;
  /** Snapshots the sources' split enumerators (by source uid), just before the trigger goes out. */
  snapshotEnumerators?(id: number): Record<string, string>;
  notifyAborted(id: number): void;
  log?: (message: string) => void;
}

interface Pending {
  stats: CheckpointStats;
  acks: Map<number, TaskSnapshot>;
  enumerators: Record<string, string> | undefined;
  timer: NodeJS.Timeout;
  waiters: { resolve: (c: CompletedCheckpoint) => void; reject: (e: Error) => void }[];
}

export class CheckpointCoordinator {
  private nextId: number;
  private readonly pending = new Map<number, Pending>();
  readonly history: CheckpointStats[] = [];
  private periodic: NodeJS.Timeout | undefined;
  private lastCompletedAt = -Infinity;
  private stopped = false;
  /** The stop-savepoint in progress: nothing else is triggered while it is. */
  private stopping: number | undefined;
  private readonly now: () => number;
  latestCompleted: CompletedCheckpoint | undefined;
  /** Tasks that will ack no more checkpoints (they finished). */
  private readonly finished = new Set<number>();

  constructor(private readonly deps: CoordinatorDeps) {
    this.nextId = deps.firstCheckpointId;
    this.now = deps.now ?? Date.now;
  }

  get lastTriggeredId(): number {
    return this.nextId - 1;
  }

  startPeriodic(): void {
    const { intervalMs } = this.deps.config;
    if (intervalMs <= 0 || this.periodic) return;
    this.periodic = setInterval(() => {
      if (this.stopped || this.stopping !== undefined || this.pending.size >= this.deps.config.maxConcurrent) return;
      if (this.now() - this.lastCompletedAt < this.deps.config.minPauseMs) return;
      this.trigger('checkpoint').catch((e: unknown) => this.deps.log?.(`checkpoint failed: ${e instanceof Error ? e.message : String(e)}`));
    }, intervalMs);
  }

  taskFinished(taskId: number): void {
    this.finished.add(taskId);
  }

  /** The stop-savepoint being taken, if any. */
  get stoppingWith(): number | undefined {
    return this.stopping;
  }

  /** Starts a checkpoint or savepoint; resolves when it is complete. */
  trigger(kind: SnapshotKind = 'checkpoint'): Promise<CompletedCheckpoint> {
    if (this.stopped) return Promise.reject(new WeirError('the checkpoint coordinator is stopped (the job is not running)', { domain: 'user' }));
    if (this.stopping !== undefined) {
      return Promise.reject(new WeirError(`the job is stopping with savepoint ${this.stopping}: nothing is triggered after it`, { domain: 'user' }));
    }
    const id = this.nextId++;
    if (endsJob(kind)) this.stopping = id;
    const stats: CheckpointStats = { id, kind, savepoint: !isCheckpoint(kind), status: 'in-progress', triggeredAt: this.now() };
    this.history.push(stats);
    return new Promise<CompletedCheckpoint>((resolve, reject) => {
      const timer = setTimeout(() => this.abort(id, `not complete after ${this.deps.config.timeoutMs} ms`), this.deps.config.timeoutMs);
      let enumerators: Record<string, string> | undefined;
      try {
        enumerators = this.deps.snapshotEnumerators?.(id);
      } catch (e) {
        clearTimeout(timer);
        Object.assign(stats, { status: 'aborted', durationMs: 0, reason: `snapshot of a split enumerator failed: ${e instanceof Error ? e.message : String(e)}` });
        reject(new WeirError(`checkpoint ${id} aborted: ${stats.reason}`, { domain: 'internal', retriable: true, cause: e }));
        return;
      }
      this.pending.set(id, { stats, acks: new Map(), enumerators, timer, waiters: [{ resolve, reject }] });
      this.deps.triggerSources(id, kind).catch((e: unknown) => this.abort(id, `could not reach the sources: ${e instanceof Error ? e.message : String(e)}`));
    });
  }

  acknowledge(taskId: number, id: number, snapshot: TaskSnapshot): void {
    const p = this.pending.get(id);
    if (!p) return;
    p.acks.set(taskId, snapshot);
    const expected = this.deps.tasks.filter((t) => !this.finished.has(t.taskId) || p.acks.has(t.taskId)).length;
    if (p.acks.size >= expected) void this.complete(id, p);
  }

  decline(taskId: number, id: number, reason: string): void {
    this.abort(id, `task ${taskId} declined: ${reason}`);
  }

  private metadata(id: number, p: Pending): CheckpointMetadata {
    const operators: Record<string, OperatorCheckpointState> = {};
    for (const t of this.deps.tasks) {
      const snap = p.acks.get(t.taskId);
      for (const n of t.nodes) {
        const op = (operators[n.uid] ??= { name: n.name, parallelism: n.parallelism, maxParallelism: this.deps.maxParallelism, subtasks: [] });
        const state = snap?.nodes[n.uid];
        if (state) op.subtasks.push(state);
      }
    }
    return {
      format: 'weir.job-checkpoint/1',
      checkpointId: id,
      jobId: this.deps.jobId,
      savepoint: p.stats.savepoint,
      ...(p.stats.kind === 'final-checkpoint' ? { final: true } : {}),
      createdAt: this.now(),
      operators,
      ...(p.enumerators ? { enumerators: p.enumerators } : {}),
    };
  }

  private async complete(id: number, p: Pending): Promise<void> {
    if (p.stats.status !== 'in-progress') return;
    clearTimeout(p.timer);
    try {
      const kind = p.stats.kind;
      const completed = await this.deps.storage.writeMetadata(id, this.metadata(id, p), { scope: storageScope(kind) });
      if (p.stats.status !== 'in-progress') return;
      this.pending.delete(id);
      const acks = [...p.acks.values()];
      Object.assign(p.stats, {
        status: 'completed',
        durationMs: this.now() - p.stats.triggeredAt,
        bytes: acks.reduce((a, s) => a + s.bytes, 0),
        alignmentMs: acks.reduce((a, s) => Math.max(a, s.alignmentMs), 0),
        location: completed.location,
      } satisfies Partial<CheckpointStats>);
      this.lastCompletedAt = this.now();
      if (commitsSideEffects(kind)) {
        // A checkpoint, or the stop-savepoint (failover after it must not go back before what it committed).
        if (!this.latestCompleted || id > this.latestCompleted.checkpointId) this.latestCompleted = completed;
        // Older checkpoints still pending can never be the latest: drop them (pending savepoints go on).
        for (const older of [...this.pending.keys()].filter((k) => k < id && isCheckpoint(this.pending.get(k)!.stats.kind))) this.abort(older, `subsumed by ${kind} ${id}`);
        this.deps.notifyComplete(id, kind);
      }
      for (const w of p.waiters) w.resolve(completed);
    } catch (e) {
      this.abort(id, `writing its metadata failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  abort(id: number, reason: string): void {
    const p = this.pending.get(id);
    if (!p || p.stats.status !== 'in-progress') return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    // A failed stop-savepoint leaves the job running: checkpoints go on.
    if (this.stopping === id) this.stopping = undefined;
    Object.assign(p.stats, { status: 'aborted', durationMs: this.now() - p.stats.triggeredAt, reason } satisfies Partial<CheckpointStats>);
    this.deps.log?.(`checkpoint ${id} aborted: ${reason}`);
    this.deps.notifyAborted(id);
    void this.deps.storage.discard(id, { scope: storageScope(p.stats.kind) }).catch(() => {});
    for (const w of p.waiters) w.reject(new WeirError(`checkpoint ${id} aborted: ${reason}`, { domain: 'internal', retriable: true }));
  }

  /** Stops triggering and aborts what is pending (the job is failing over or ending). */
  stop(reason: string): void {
    this.stopped = true;
    if (this.periodic) clearInterval(this.periodic);
    this.periodic = undefined;
    for (const id of [...this.pending.keys()]) this.abort(id, reason);
  }
}
