/**
 * Stop-with-savepoint, the job manager's side (Flink's synchronous savepoint, without --drain):
 *
 * 1. the coordinator triggers a `stop-savepoint` and from then on triggers nothing else (no periodic
 *    checkpoint can slip in after it and commit);
 * 2. each source task takes its part and emits nothing after the savepoint's barrier (no
 *    end-of-input, no final watermark: windows still open stay open in the savepoint's state);
 * 3. when every task acknowledged, the savepoint completes and is notified as final: each task
 *    commits (sinks commit exactly what the savepoint covers) and ends; the job ends 'stopped';
 * 4. if the savepoint is aborted, sources resume and the job goes on running (the stop failed); if the
 *    job fails after the savepoint completed but before every task ended, failover restores from the
 *    savepoint itself (never from an older checkpoint, which would repeat what it committed), the job
 *    goes on running, and the stop call fails saying so.
 */
import type { CheckpointStorage, CompletedCheckpoint } from '../../state/index.ts';
import { WeirError } from '../errors.ts';

export class StopRequest {
  /** The completed stop-savepoint, once it completed. */
  completed: CompletedCheckpoint | undefined;
  private settle!: { resolve: () => void; reject: (e: Error) => void };
  /** Resolves when the job ended 'stopped'. */
  readonly ended = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));

  constructor(readonly jobId: string) {
    this.ended.catch(() => {});
  }

  jobEnded(): void {
    this.settle.resolve();
  }

  /** The job failed (and, with `restarted`, failed over and runs on), or was canceled, while stopping: the stop did not happen. */
  failed(cause: Error, restarted = false): void {
    const after = this.completed ? ` after savepoint ${this.completed.checkpointId} completed` : '';
    const then = restarted ? (this.completed ? '; it was restarted from that savepoint and is running' : '; it was restarted and is running') : '';
    this.settle.reject(new WeirError(`stopping job ${this.jobId} with a savepoint failed: the job ended or failed${after}${then}: ${cause.message}`, { domain: 'internal', cause, retriable: true }));
  }
}

/**
 * What a failover restores: the latest completed checkpoint, or the job's stop-savepoint when that
 * is newer (its sinks may have committed already: going back before it would repeat their output).
 * Intermediate savepoints are never used for failover.
 */
export async function restorePointForFailover(storage: CheckpointStorage, stopSavepoint: CompletedCheckpoint | undefined): Promise<CompletedCheckpoint | undefined> {
  const latest = await storage.latestCompleted();
  if (stopSavepoint && (!latest || stopSavepoint.checkpointId > latest.checkpointId)) return stopSavepoint;
  return latest;
}
