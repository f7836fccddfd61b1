/**
 * What a barrier starts, as Flink's snapshot types (FLIP-193 semantics):
 *
 * - `checkpoint`: periodic, for failover. When it completes, sinks commit (`notifyCheckpointComplete`);
 *   it is subject to retention.
 * - `savepoint`: user-triggered and *intermediate*: the job goes on. It commits no side effects (no
 *   complete notification: what sinks pre-committed at its barrier stays pending and is committed with
 *   the next completed checkpoint) and is never used for failover. Its files live under its own
 *   directory, outside retention, until the user deletes them.
 * - `stop-savepoint`: the savepoint of stop-with-savepoint. Synchronous: sources emit nothing after its
 *   barrier and nothing is triggered after it; when it completes, sinks commit what it covers and
 *   every task ends. If the job fails after it completed, failover restores from it.
 * - `drain-savepoint`: stop-with-savepoint with drain (Flink's --drain): like `stop-savepoint`, but
 *   sources first end their input (final watermark, operators' end of input: windows and timers
 *   fire), and the barrier follows; meant for a job that is not coming back as it was.
 * - `final-checkpoint`: the checkpoint a bounded job takes once every source ended (FLIP-147), whose
 *   completion lets the tasks commit and end. Every operator has finished by its barrier (its input
 *   ended, event time reached its end, end of input ran), so, as Flink does for finished operators,
 *   tasks write no keyed state into it (subtask-checkpointer.ts): a failover after it restores the
 *   operators empty, their inputs end again at once, and they emit nothing, as they would with their
 *   state. Otherwise a checkpoint (retention, failover, commits). No job can start from it
 *   (metadata.ts); Flink discards it with the finished job.
 */
import type { CheckpointScope } from '../../state/index.ts';

export type SnapshotKind = 'checkpoint' | 'final-checkpoint' | 'savepoint' | 'stop-savepoint' | 'drain-savepoint';

/** A checkpoint, periodic or final (not a savepoint): retained, used for failover. */
export function isCheckpoint(kind: SnapshotKind): boolean {
  return kind === 'checkpoint' || kind === 'final-checkpoint';
}

/** Whether the job ends with it (stop-with-savepoint, with or without drain). */
export function endsJob(kind: SnapshotKind): boolean {
  return kind === 'stop-savepoint' || kind === 'drain-savepoint';
}

/** Where the snapshot's files go in checkpoint storage. */
export function storageScope(kind: SnapshotKind): CheckpointScope {
  return isCheckpoint(kind) ? 'checkpoint' : 'savepoint';
}

/** Whether tasks are told when it completes (the point where sinks commit). */
export function commitsSideEffects(kind: SnapshotKind): boolean {
  return kind !== 'savepoint';
}
