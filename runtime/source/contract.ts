/**
 * The source contract, in the shape of Flink's FLIP-27. A source is three parts:
 *
 *   split        a unit of input with its position (a Kafka partition and offset, a CDC snapshot chunk or
 *                the binlog, a lake bucket, a range of generated records): plain structured-clonable
 *                data with an `id` that stays the same across restarts
 *   enumerator   one per source, on the job manager: discovers splits (at start, or periodically while the
 *                job runs), assigns them to readers when they register or ask, takes back splits with
 *                `addSplitsBack`, and snapshots what it has not assigned yet with every checkpoint
 *   reader       one per source subtask: gets splits with `addSplits`, keeps each split's position, says
 *                when a split finished, and never blocks its task: I/O runs in the background, `poll`
 *                returns what is buffered and `available()` says when to ask again
 *
 * At the checkpoint barrier the runtime stores `reader.snapshotState()` (the reader's splits with their
 * positions) in the checkpoint as split list state, so on restore, also at another parallelism, the
 * splits are dealt out one by one (by split, never as a union); the enumerator comes back with the
 * splits it had not assigned. A source whose uid has no state in the restored checkpoint starts fresh.
 *
 * Watermarks stay in the runtime: records go out through `output.forSplit(id)`, each split's event
 * time counts separately, and `releaseSplit(id)` takes a finished split out of the minimum.
 */

/** A unit of a source's input together with its position; plain data (it crosses threads and is checkpointed). */
export interface SourceSplit {
  /** Stable across restarts: per-split state and watermarks are kept under it. */
  readonly id: string;
}

export interface SplitEnumeratorContext<Split extends SourceSplit> {
  /** The source's parallelism: readers are subtasks 0 .. parallelism - 1. */
  readonly parallelism: number;
  /** Subtasks whose reader registered (and is running). */
  registeredReaders(): ReadonlySet<number>;
  /** Sends splits to a registered reader (delivered in order with checkpoint barriers). */
  assignSplits(subtask: number, splits: readonly Split[]): void;
  /** No more splits will come for this reader: a bounded reader ends once its splits are finished. */
  signalNoMoreSplits(subtask: number): void;
  /**
   * Runs `work` off the enumerator's calls (once, or every `periodMs`), then `handle` with its result
   * on the job manager. For discovery: list partitions, find new snapshots. A failure of `work` or
   * `handle` fails the job (and it restarts from the last checkpoint, as the restart strategy allows).
   */
  callAsync<R>(work: () => Promise<R>, handle: (result: R) => void, periodMs?: number): void;
}

export interface SplitEnumerator<Split extends SourceSplit, Checkpoint> {
  /** Called once before any reader registers; start discovery here. */
  start(): void | Promise<void>;
  /** A reader registered (at start, or after a restart). */
  addReader(subtask: number): void;
  /** A reader asked for a split (pull-based assignment). */
  handleSplitRequest(subtask: number): void;
  /** Splits assigned to `subtask` since the last checkpoint came back (its reader failed): assign them again. */
  addSplitsBack(splits: readonly Split[], subtask: number): void;
  /** What the enumerator needs to come back: splits not yet assigned, discovery progress. Plain data. */
  snapshotState(checkpointId: number): Checkpoint;
  /** A reader's `sendSourceEvent` (plain data; the source defines what it means). */
  handleSourceEvent?(subtask: number, event: unknown): void;
  notifyCheckpointComplete?(checkpointId: number): void;
  close?(): void | Promise<void>;
}

export interface SourceReaderContext {
  readonly subtaskIndex: number;
  readonly parallelism: number;
  /** Asks the enumerator for a split (its `handleSplitRequest`). */
  sendSplitRequest(): void;
  /**
   * Sends a source-specific event (plain data) to the enumerator's `handleSourceEvent` (Flink's
   * SourceEvent: e.g. a CDC reader reporting the binlog position of a finished snapshot chunk). Not
   * ordered with checkpoints: a reader keeps what it reported in its own state until it is no longer
   * needed, and reports it again after a restore.
   */
  sendSourceEvent?(event: unknown): void;
}

/** Where a reader puts one split's records. */
export interface SplitOutput<T> {
  /** `timestamp`: the record's own event time (used when the watermark strategy has no timestamp assigner). */
  collect(value: T, timestamp?: number): void;
}

export interface ReaderOutput<T> {
  /** The output of one split: each split's event time makes its own watermark. Keep it; it is the same object every call. */
  forSplit(splitId: string): SplitOutput<T>;
  /** The split finished: its watermark no longer holds the source back. */
  releaseSplit(splitId: string): void;
}

/** `more`: poll again; `wait`: nothing buffered, await `available()`; `end`: no more splits and all finished. */
export type PollStatus = 'more' | 'wait' | 'end';

export interface SourceReader<T, Split extends SourceSplit> {
  /** Splits to read: restored from the checkpoint (before the reader registers) or assigned by the enumerator. */
  addSplits(splits: readonly Split[]): void;
  /** The enumerator will send no more splits. */
  notifyNoMoreSplits(): void;
  /**
   * Emits up to about `max` records from what is buffered. Never waits: it is called on the task's loop,
   * between checkpoint barriers and mails, so I/O must run in the background (start it here or in
   * `addSplits`, and resolve `available()` when it delivered).
   */
  poll(output: ReaderOutput<T>, max: number): PollStatus;
  /** Resolves when a poll after `wait` may find records. */
  available(): Promise<void>;
  /** The reader's unfinished splits with their current positions (taken at the checkpoint barrier). */
  snapshotState(checkpointId: number): Split[];
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  close?(): void | Promise<void>;
}

export interface Source<T, Split extends SourceSplit = SourceSplit, EnumState = unknown> {
  readonly name: string;
  readonly bounded: boolean;
  createEnumerator(ctx: SplitEnumeratorContext<Split>): SplitEnumerator<Split, EnumState>;
  /** The enumerator of a restored job, from what `snapshotState` returned. */
  restoreEnumerator(ctx: SplitEnumeratorContext<Split>, state: EnumState): SplitEnumerator<Split, EnumState>;
  createReader(ctx: SourceReaderContext): SourceReader<T, Split>;
}

/** Control messages between an enumerator (job manager) and a reader (task); plain data. */
export type ReaderEvent = { type: 'add-splits'; splits: SourceSplit[] } | { type: 'no-more-splits' };
export type EnumeratorEvent = { type: 'register' } | { type: 'split-request' } | { type: 'source-event'; event: unknown };
