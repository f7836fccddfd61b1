/**
 * Compaction for a lake writer, off its loop: after each checkpoint's flush the writer asks for a
 * round; the round plans from the latest snapshot (buckets of this writer with at least
 * `num-sorted-run.compaction-trigger` sorted runs), runs the tasks in the side-work pool, and keeps
 * the results until the writer's next barrier, which sends them to the committer with that
 * checkpoint's files. A checkpoint never waits for a compaction.
 *
 * A bucket whose compaction was sent with checkpoint n is left alone while the latest snapshot still
 * holds that compaction's input files (not committed yet: the committer commits n when n completes,
 * on its own loop), but no longer than until checkpoint n + 2 has completed (by then it was committed
 * or dropped as a conflict); two compactions of one bucket do not race each other.
 */
import type { S3Options } from '../fs/s3.ts';
import { planCompaction, sortedRunCount, type CompactTask } from '../table/compact.ts';
import { liveFilesByBucket, type LiveFilesByBucket } from '../table/commit.ts';
import type { FileStoreTable } from '../table/table.ts';
import type { CommitMessage } from '../table/writer.ts';

/** More unseen files of one bucket than any stop trigger allows means some were compacted elsewhere. */
const UNSEEN_LIMIT = 64;

export type CompactRunner = (task: CompactTask) => Promise<CommitMessage>;

export class BackgroundCompactor {
  private round: Promise<void> | undefined;
  private finished: CommitMessage[] = [];
  /** `partition|bucket` -> the checkpoint its last compaction was sent with, and that compaction's input files. */
  private readonly sent = new Map<string, { checkpointId: number; inputs: Set<string> }>();
  private lastCompleted = 0;
  /** The most sorted runs of one of this writer's buckets when the running round planned. */
  private runsAtPlan = 0;
  /** Flushes (a new level-0 file per bucket) since the running round planned. */
  private flushesSincePlan = 0;
  /**
   * `partition|bucket` -> names of level-0 files this writer sent that no snapshot showed yet. The
   * snapshot a round plans from lags the writer's own flushes by as many checkpoints as the committer
   * is behind (more on a loaded machine), so those files count as sorted runs on top of the snapshot's.
   */
  private readonly unseenFlushes = new Map<string, Set<string>>();
  /** Rounds that failed (the round's work is dropped; its files are orphans). */
  failures = 0;
  lastError: unknown;

  constructor(
    private readonly table: FileStoreTable,
    private readonly run: CompactRunner,
    private readonly s3?: S3Options,
  ) {}

  get running(): boolean {
    return this.round !== undefined;
  }

  /** Starts a round unless one is running; `owns` says which buckets belong to this writer. */
  start(owns: (bucket: number) => boolean, full = false): void {
    if (this.round) return;
    this.round = (async () => {
      const live = await liveFilesByBucket(this.table);
      this.noteRunsAtPlan(live, owns);
      const tasks = (await planCompaction(this.table, { full, live, ...(this.s3 ? { s3: this.s3 } : {}) })).filter((t) => owns(t.bucket) && !this.busy(t));
      const results = await Promise.all(tasks.map((t) => this.run(t)));
      this.finished.push(...results);
    })()
      .catch((e: unknown) => {
        this.failures++;
        this.lastError = e;
      })
      .finally(() => {
        this.round = undefined;
      });
  }

  /** Sorted runs of the most loaded bucket: the snapshot's, plus this writer's files it does not show yet. */
  private noteRunsAtPlan(live: LiveFilesByBucket, owns: (bucket: number) => boolean): void {
    let most = 0;
    for (const [key, unseen] of this.unseenFlushes) {
      const g = live.get(key);
      if (g) for (const f of g.files) unseen.delete(f.fileName);
      if (unseen.size === 0) this.unseenFlushes.delete(key);
      if (!g) most = Math.max(most, unseen.size);
    }
    for (const [key, g] of live) if (owns(g.bucket)) most = Math.max(most, sortedRunCount(g.files) + (this.unseenFlushes.get(key)?.size ?? 0));
    this.runsAtPlan = most;
    this.flushesSincePlan = 0;
  }

  private busy(task: CompactTask): boolean {
    const sent = this.sent.get(`${task.partition}|${task.bucket}`);
    if (!sent || this.lastCompleted > sent.checkpointId) return false;
    return task.files.some((f) => sent.inputs.has(f.fileName));
  }

  /** The writer sent these files (level 0) with a checkpoint. */
  flushed(messages: readonly CommitMessage[]): void {
    let any = false;
    for (const m of messages) {
      if (m.newFiles.length === 0) continue;
      any = true;
      const key = `${m.partition}|${m.bucket}`;
      let unseen = this.unseenFlushes.get(key);
      if (!unseen) this.unseenFlushes.set(key, (unseen = new Set()));
      for (const f of m.newFiles) unseen.add(f.fileName);
      // a file compacted away by another job's commit before a round saw it would count forever
      for (const name of unseen) {
        if (unseen.size <= UNSEEN_LIMIT) break;
        unseen.delete(name); // the oldest first: a Set keeps insertion order
      }
    }
    if (any) this.flushesSincePlan++;
  }

  /**
   * Whether the writer should wait for the running round before it writes more files: a bucket would
   * reach `stopTrigger` sorted runs (Paimon's num-sorted-run.stop-trigger), so compaction fell behind.
   */
  shouldStall(stopTrigger: number): boolean {
    return this.round !== undefined && this.runsAtPlan + this.flushesSincePlan + 1 >= stopTrigger;
  }

  /** Results ready to go with checkpoint `checkpointId`. */
  take(checkpointId: number): CommitMessage[] {
    const out = this.finished;
    this.finished = [];
    for (const m of out) this.sent.set(`${m.partition}|${m.bucket}`, { checkpointId, inputs: new Set(m.compactBefore.map((f) => f.fileName)) });
    return out;
  }

  checkpointCompleted(checkpointId: number): void {
    // the committer commits checkpoint n when n completes; from n + 1 on the table shows it
    if (checkpointId > this.lastCompleted) this.lastCompleted = checkpointId - 1;
  }

  /** Waits for the running round (end of input: its results go with the last commit). */
  async drain(): Promise<void> {
    while (this.round) await this.round;
  }
}
