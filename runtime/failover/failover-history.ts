/**
 * Every failover of a job, with its cause and how long each step of the recovery took; the job
 * handle returns the list (`handle.failovers()`) and emits each entry as a 'failover' event when
 * the failure is seen, and again as 'recovered' once the new attempt runs.
 */
import { WeirError, isRetriable } from '../errors.ts';

export { isRetriable };

export interface FailureCause {
  /** Error class name (e.g. UserFunctionError, BadRecordError). */
  name: string;
  message: string;
  operator?: string;
  subtask?: number;
  /** False: trying again cannot help (a poison record, a configuration error); the job fails without restarting. */
  retriable: boolean;
  /** The record the failure happened on, when the error names one. */
  record?: string;
}

/** Milliseconds spent in each step from the failure being seen to records flowing again. */
export interface RecoveryBreakdown {
  /** Stopping the failed attempt: cancelling tasks, ending or abandoning threads. */
  stopMs: number;
  /** The restart strategy's delay. */
  delayMs: number;
  /** Finding the checkpoint to restore from. */
  findCheckpointMs: number;
  /** Until every task manager of the new attempt was up (threads started or reused, peers connected). */
  startWorkersMs: number;
  /** Deploying the tasks (building the job graph in each task manager) and starting them. */
  deployMs: number;
  /** From the tasks starting to the last one having opened its operators and restored its state. */
  restoreMs?: number;
}

export interface FailoverRecord {
  /** The attempt that failed (1 is the first run). */
  attempt: number;
  /** Wall-clock time (ms since the epoch) the job manager saw the failure. */
  at: number;
  cause: FailureCause;
  /** False when the restart strategy (or a non-retriable cause) ended the job instead. */
  restarted: boolean;
  /** Why the job was not restarted. */
  notRestartedBecause?: string;
  /** Checkpoint the new attempt restored (undefined: started from scratch). */
  restoredCheckpointId?: number;
  /** Wall-clock time the new attempt was running (every task deployed and started). */
  runningAt?: number;
  /** Wall-clock time every task of the new attempt had opened and restored its state. */
  recoveredAt?: number;
  breakdown?: RecoveryBreakdown;
  /** Task managers of the new attempt: kept from the failed one, taken from the warm spares, started anew. */
  taskManagers?: { kept: number; fromSpare: number; started: number };
}

/** Describes a failure for the history (and for deciding whether to restart). */
export function failureCause(e: unknown): FailureCause {
  if (e instanceof WeirError) {
    const record = (e as { record?: unknown }).record;
    return {
      name: e.name,
      message: e.message,
      ...(e.operator !== undefined ? { operator: e.operator } : {}),
      ...(e.subtask !== undefined ? { subtask: e.subtask } : {}),
      retriable: isRetriable(e),
      ...(typeof record === 'string' ? { record } : {}),
    };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, retriable: true };
}

export class FailoverHistory {
  private readonly records: FailoverRecord[] = [];

  add(record: FailoverRecord): FailoverRecord {
    this.records.push(record);
    return record;
  }

  /** The last failover, if any. */
  get last(): FailoverRecord | undefined {
    return this.records.at(-1);
  }

  list(): FailoverRecord[] {
    return this.records.map((r) => ({
      ...r,
      cause: { ...r.cause },
      ...(r.breakdown ? { breakdown: { ...r.breakdown } } : {}),
      ...(r.taskManagers ? { taskManagers: { ...r.taskManagers } } : {}),
    }));
  }

  get size(): number {
    return this.records.length;
  }
}
