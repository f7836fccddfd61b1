/**
 * What the job manager and task managers say to each other. Control calls (deploy, start, cancel,
 * metrics) are methods of `TaskManagerApi`, called through comlink for worker threads or directly
 * for an in-process task manager; task managers report back with `TaskManagerEvent`s. Everything
 * here is plain data, so it can cross a thread (and later a socket): the data links between task
 * managers are made by the transport (transport.ts), not passed through these calls.
 */
import type { JsonValue } from '../graph/job-definition.ts';
import type { CheckpointConfig, CheckpointStorageConfig } from '../checkpoint/config.ts';
import type { SnapshotKind } from '../checkpoint/snapshot-kind.ts';
import type { TaskRestore, TaskSnapshot } from '../checkpoint/metadata.ts';
import type { ExecutionPlan } from '../graph/execution-plan.ts';
import type { TaskSettings } from '../task/stream-task.ts';
import type { TaskMetrics } from '../task/task-metrics.ts';
import { WeirError, type ErrorDomain } from '../errors.ts';
import type { EnumeratorEvent, ReaderEvent } from '../source/contract.ts';

export interface Deployment {
  jobId: string;
  moduleUrl: string;
  params: JsonValue | undefined;
  defaults: { parallelism: number; maxParallelism: number };
  plan: ExecutionPlan;
  settings: TaskSettings;
  /** This task manager's index; it runs the plan's tasks whose `worker` equals it. */
  worker: number;
  stateBackend: 'heap' | 'lmdb';
  /** Where the task manager may keep working files (LMDB state). */
  workDir: string;
  /** Absent: checkpointing is off (two-phase-commit sinks then commit at the end of input). */
  checkpoint?: CheckpointConfig;
  /** Where state files of checkpoints and savepoints go (savepoints are taken with checkpointing off too). */
  checkpointStorage: CheckpointStorageConfig;
  /** State to start from, for this task manager's tasks, by task id. */
  restore?: Record<number, TaskRestore>;
  /** The job whose checkpoint storage holds the restored files, when it is another job (a savepoint). */
  restoreFromJobId?: string;
  /** Where that job's files are, when not in `checkpointStorage` (a savepoint copied elsewhere: `weir savepoint <job> <dir>`). */
  restoreStorage?: CheckpointStorageConfig;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  domain?: ErrorDomain;
  operator?: string;
  subtask?: number;
  retriable?: boolean;
  /** The record a BadRecordError or UserFunctionError names. */
  record?: string;
}

export type TaskManagerEvent =
  | { type: 'task-finished'; taskId: number }
  | { type: 'task-failed'; taskId: number; error: SerializedError }
  | { type: 'client'; topic: string; payload: unknown }
  /** A source task reached the end of its input (it waits for the final checkpoint before finishing). */
  | { type: 'end-of-data'; taskId: number }
  | { type: 'checkpoint-ack'; taskId: number; checkpointId: number; snapshot: TaskSnapshot }
  | { type: 'checkpoint-declined'; taskId: number; checkpointId: number; reason: string }
  /** A task opened its operators and restored its state: it processes records from now on. */
  | { type: 'task-opened'; taskId: number }
  /** Sent at the end of cancel(): every event of the canceled tasks came before it. */
  | { type: 'drained' }
  /** The task manager's event loop is turning (sent every heartbeat interval; see heartbeat-monitor.ts). */
  | { type: 'heartbeat' }
  /** A source task's reader to its split enumerator (registration, split request). */
  | { type: 'source-event'; taskId: number; event: EnumeratorEvent };

export interface TaskManagerApi {
  /** Loads the job module and starts what deploy will need (the LMDB writer thread, if `writerThread`), ahead of time. */
  prepare(moduleUrl: string, writerThread: boolean): Promise<void>;
  deploy(deployment: Deployment): Promise<void>;
  start(): Promise<void>;
  cancel(): Promise<void>;
  metrics(): Promise<TaskMetrics[]>;
  /** Starts checkpoint (or savepoint) `id` at this task manager's source tasks. */
  triggerCheckpoint(id: number, kind: SnapshotKind): Promise<void>;
  /** Checkpoint `id` is complete; `final`: it was the last one (the final checkpoint or a stop-savepoint), tasks end after committing. */
  notifyCheckpointComplete(id: number, final: boolean): Promise<void>;
  notifyCheckpointAborted(id: number): Promise<void>;
  /** A split enumerator's event for the reader of source task `taskId`. */
  sendSourceEvent(taskId: number, event: ReaderEvent): Promise<void>;
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof WeirError) {
    const record = (e as { record?: unknown }).record;
    return {
      name: e.name,
      message: e.message,
      stack: e.stack,
      domain: e.domain,
      operator: e.operator,
      subtask: e.subtask,
      retriable: e.retriable,
      ...(typeof record === 'string' ? { record } : {}),
    };
  }
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

/** An error that happened in a task manager, rebuilt in the job manager. */
export class RemoteTaskError extends WeirError {
  readonly record: string | undefined;
  constructor(readonly remote: SerializedError) {
    super(remote.message, { domain: remote.domain ?? 'internal', retriable: remote.retriable ?? true });
    this.record = remote.record;
    this.name = remote.name;
    this.operator = remote.operator;
    this.subtask = remote.subtask;
    if (remote.stack) this.stack = remote.stack;
  }
}
