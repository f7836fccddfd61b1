/**
 * The operator that runs a sink's committer (Flink's CommitterOperator): collects the committables
 * that arrive ahead of barrier n, keeps them in state under n, and commits everything up to n when
 * checkpoint n completes. On restore it first commits what the restored checkpoint holds (that
 * checkpoint completed; whether its commit went through is unknown, so commits are idempotent).
 * Each commit is retried with exponential backoff; when the attempts run out the task fails with
 * the store's answer, and the job fails over (or fails) as its restart strategy says.
 */
import type { Operator, OperatorContext, Output } from '../../operators/operator.ts';
import { NO_TIMESTAMP } from '../../operators/operator.ts';
import type { OperatorListState } from '../../state/operator-state.ts';
import { ExternalError } from '../errors.ts';
import type { CommitRetryPolicy, Committer } from './contract.ts';

const PENDING_STATE = 'sink-committer-pending';

interface Pending<C> {
  checkpointId: number;
  committables: C[];
}

export class CommitterOperator<C> implements Operator<C, C> {
  private committer!: Committer<C>;
  private state!: OperatorListState<Pending<C>>;
  private pending: Pending<C>[] = [];
  private current: C[] = [];
  private output!: Output<C>;
  private ctx!: OperatorContext<C>;

  constructor(
    readonly name: string,
    private readonly createCommitter: () => Committer<C>,
    private readonly retry: CommitRetryPolicy,
    /** Committed committables go on downstream (to a global committer after per-subtask committers). */
    private readonly forward: boolean,
  ) {}

  async open(ctx: OperatorContext<C>): Promise<void> {
    this.ctx = ctx;
    this.output = ctx.output;
    this.committer = this.createCommitter();
    await this.committer.open?.({ subtaskIndex: ctx.subtaskIndex, parallelism: ctx.parallelism, operatorState: ctx.operatorState, metrics: ctx.metrics });
    this.state = ctx.operatorState.getListState<Pending<C>>(PENDING_STATE);
    // Split list state: after a rescale each committer gets some of the old ones' pending commits.
    this.pending = mergeByCheckpoint(this.state.get());
    await this.commitUpTo(Number.MAX_SAFE_INTEGER);
  }

  processBatch(values: readonly C[]): void {
    for (const v of values) this.current.push(v);
  }

  snapshotState(checkpointId: number): void {
    if (this.current.length > 0) {
      this.pending.push({ checkpointId, committables: this.current });
      this.current = [];
    }
    this.state.update(this.pending);
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await this.commitUpTo(checkpointId);
  }

  private async commitUpTo(checkpointId: number): Promise<void> {
    const due = this.pending.filter((p) => p.checkpointId <= checkpointId).sort((a, b) => a.checkpointId - b.checkpointId);
    if (due.length === 0) return;
    for (const p of due) {
      await this.commitWithRetry(p);
      // Committed: out of the pending list at once, so a failure of a later one does not repeat it in this attempt.
      this.pending = this.pending.filter((q) => q !== p);
      if (this.forward) for (const c of p.committables) this.output.emit(c, NO_TIMESTAMP);
    }
    this.state.update(this.pending);
  }

  private async commitWithRetry(p: Pending<C>): Promise<void> {
    const { attempts, backoffMs, maxBackoffMs } = this.retry;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.committer.commit(p.committables, p.checkpointId);
        this.ctx.metrics.count('commits');
        return;
      } catch (e) {
        if (attempt >= attempts) {
          const answer = e instanceof Error ? e.message : String(e);
          throw new ExternalError(`${this.name} could not commit checkpoint ${p.checkpointId} after ${attempts} attempts: ${answer}`, { retriable: true, cause: e });
        }
        this.ctx.metrics.count('commit-retries');
        const wait = Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1));
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async close(): Promise<void> {
    await this.committer?.close?.();
  }
}

/** Restored pending commits of several old subtasks: one entry per checkpoint id, committables together. */
function mergeByCheckpoint<C>(restored: readonly Pending<C>[]): Pending<C>[] {
  const byId = new Map<number, C[]>();
  for (const p of restored) byId.set(p.checkpointId, [...(byId.get(p.checkpointId) ?? []), ...p.committables]);
  return [...byId].sort((a, b) => a[0] - b[0]).map(([checkpointId, committables]) => ({ checkpointId, committables }));
}
