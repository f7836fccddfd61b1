/**
 * The sink contract, in the shape of Flink's Sink V2. A sink is a writer per subtask and, for
 * exactly-once output, a committer:
 *
 *   records      -> writer.write: buffer, or write into an open transaction
 *   barrier n    -> writer.prepareCommit: flush and pre-commit (durable, not visible); what it returns
 *                   are committables, which travel to the committer ahead of the barrier and are kept
 *                   in the committer's state under checkpoint n
 *   n complete   -> committer.commit(committables of n, n): make them visible. Called again for the
 *                   same committables after a restore (the restored checkpoint's are committed when the
 *                   job starts), so a commit must be idempotent. Failures are retried with backoff;
 *                   a commit that keeps failing fails the job with the store's answer.
 *   end of input -> one last prepareCommit; committed with the final checkpoint (or right away when
 *                   checkpointing is off)
 *
 * The committer runs either beside each writer (`createCommitter`: per subtask, chained to it) or
 * once for the whole sink (`createGlobalCommitter`: parallelism 1, every writer's committables of a
 * checkpoint in one commit, e.g. one table snapshot). A sink without either is at-least-once (print,
 * collect). Savepoints: an intermediate savepoint's completion commits nothing; what was pre-committed
 * at it is committed with the next completed checkpoint (the runtime does not notify the savepoint).
 *
 * Committables and state are plain data: they cross threads and go into checkpoints.
 */
import type { ClientChannel, OperatorMetricsView, SideWork } from '../../operators/operator.ts';
import type { OperatorStateStore } from '../../state/operator-state.ts';

export interface SinkWriterContext {
  readonly subtaskIndex: number;
  readonly parallelism: number;
  /** The checkpoint the job restored from, 0 on a fresh start: transactions begun after it are lingering. */
  readonly restoredCheckpointId: number;
  /** Operator state of the writer (e.g. sequence numbers a writer must continue after a restore). */
  readonly operatorState: OperatorStateStore;
  readonly metrics: OperatorMetricsView;
  /** Sends data back to the submitting program (what collect sinks use). */
  readonly client: ClientChannel;
  /** The task manager's pool for blocking or CPU-heavy side work (file encoding, compaction). */
  readonly sideWork: SideWork;
  /**
   * The writer's current input watermark (-Infinity before the first), as Flink's
   * `SinkWriter.Context#currentWatermark`: a lake writer records it with its files so that the
   * table's snapshot says how complete its data is.
   */
  currentWatermark(): number;
}

export interface SinkWriter<T, C> {
  /**
   * Records of one batch (borrowed: copy what you keep). A property, not a method, so that its
   * parameter is checked strictly: a writer of A is not a writer of A | B.
   */
  readonly write: (values: readonly T[]) => void | Promise<void>;
  /**
   * At the barrier of checkpoint `checkpointId` (or at the end of input, `endOfInput`): flush and
   * pre-commit what was written since the last call; the returned committables are committed when
   * the checkpoint completes. A writer without a committer returns nothing.
   */
  prepareCommit(checkpointId: number, endOfInput: boolean): readonly C[] | Promise<readonly C[]>;
  /** Writes the writer's own state into `operatorState` (after prepareCommit, at the barrier). */
  snapshotState?(checkpointId: number): void;
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  close?(): void | Promise<void>;
}

export interface CommitterContext {
  readonly subtaskIndex: number;
  readonly parallelism: number;
  /** Operator state of the committer (e.g. a commit user kept across restarts). */
  readonly operatorState: OperatorStateStore;
  readonly metrics: OperatorMetricsView;
}

export interface Committer<C> {
  /** Optional setup before the restored checkpoint's committables are committed. */
  open?(ctx: CommitterContext): void | Promise<void>;
  /**
   * Makes the committables of checkpoint `checkpointId` visible. Idempotent: it is called again with
   * the same committables after a restore. Throw to have it retried; the error's message is what the
   * job fails with when retries run out.
   */
  commit(committables: readonly C[], checkpointId: number): Promise<void>;
  close?(): void | Promise<void>;
}

export interface CommitRetryPolicy {
  /** Attempts per commit before the job fails (default 5). */
  attempts: number;
  /** Wait before the first retry, doubled each time (default 100 ms) ... */
  backoffMs: number;
  /** ... up to this (default 5000 ms). */
  maxBackoffMs: number;
}

export const DEFAULT_COMMIT_RETRY: CommitRetryPolicy = { attempts: 5, backoffMs: 100, maxBackoffMs: 5000 };
