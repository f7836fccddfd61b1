/**
 * Drives one StarRocks sink subtask through checkpoints with the real writer and committer operators
 * (test/harness/sink-harness.ts), crashing and restoring the way the runtime does: any error is a
 * crash; the next attempt restores from the last completed checkpoint and replays the batches after
 * it. Checkpoint ids keep growing across attempts, as the job manager's do.
 *
 *   before('write' | 'checkpoint' | 'prepared' | 'complete', id)   hooks where a test injects faults
 *   'prepared'  after the barrier, before the checkpoint counts as complete (throw: it never completes)
 *   'complete'  after the checkpoint completed, before the committer hears of it (throw: crash between
 *               prepare and commit; the restore commits)
 */
import type { Sink } from 'weir';
import { SinkHarness, type SinkSnapshot } from '../../harness/sink-harness.ts';

export type Phase = 'write' | 'checkpoint' | 'prepared' | 'complete';

export interface RunOptions {
  before?: (phase: Phase, checkpointId: number) => void | Promise<void>;
  /** Called after each crash, before the restore (e.g. wait for a restarted server). */
  afterCrash?: (error: unknown) => void | Promise<void>;
  maxCrashes?: number;
}

export interface RunResult {
  crashes: unknown[];
  checkpoints: number;
}

export async function runWithCrashes<T, C>(sink: Sink<T, C, T>, batches: readonly (readonly T[])[], options: RunOptions = {}): Promise<RunResult> {
  let completed: { snap: SinkSnapshot | undefined; position: number } = { snap: undefined, position: 0 };
  let nextId = 1;
  const crashes: unknown[] = [];
  for (;;) {
    let h: SinkHarness<T, C> | undefined;
    try {
      h = await SinkHarness.open(sink, completed.snap ? { restore: completed.snap } : {});
      for (let position = completed.position; position < batches.length; ) {
        const id = nextId++;
        await options.before?.('write', id);
        await h.write(batches[position]!);
        await options.before?.('checkpoint', id);
        const snap = await h.checkpoint(id);
        await options.before?.('prepared', id);
        position++;
        completed = { snap, position };
        await options.before?.('complete', id);
        await h.complete(id);
      }
      await h.close();
      return { crashes, checkpoints: nextId - 1 };
    } catch (e) {
      crashes.push(e);
      if (crashes.length > (options.maxCrashes ?? 10)) throw e;
      await options.afterCrash?.(e);
    }
  }
}
