/**
 * The source contract. A source is a factory of readers, one per source subtask; a reader emits
 * batches of records when polled by its task and writes its position (offsets, binlog position,
 * generator position) into operator state at each checkpoint, so that after a failure it resumes
 * exactly there. The runtime assigns timestamps, tracks watermarks per split and handles idleness.
 */
import type { OperatorStateStore } from '../state/operator-state.ts';

export interface SourceReaderContext {
  readonly subtaskIndex: number;
  readonly parallelism: number;
  /** Restored after a failure or from a savepoint; write positions here in `snapshotState`. */
  readonly operatorState: OperatorStateStore;
  /** True when the reader starts from a checkpoint rather than from the beginning. */
  readonly restored: boolean;
}

export interface SourceOutput<T> {
  /**
   * One record. `timestamp` is the source's own event time (e.g. a Kafka record timestamp), used when
   * the watermark strategy has no timestamp assigner; `split` is the index (below `splits`) of the
   * split it came from, for per-split watermarks.
   */
  collect(value: T, timestamp?: number, split?: number): void;
}

/** `more`: poll again; `wait`: nothing now, await `available()`; `end`: this reader is done (bounded). */
export type PollStatus = 'more' | 'wait' | 'end';

export interface SourceReader<T> {
  /** How many splits this reader reads (each gets its own watermark); 1 if not given. */
  readonly splits?: number;
  /** Emits up to about `max` records. */
  poll(output: SourceOutput<T>, max: number): PollStatus | Promise<PollStatus>;
  /** Resolves when a poll after `wait` may find records. */
  available?(): Promise<void>;
  /** Write the reader's position into operator state (called at the checkpoint barrier). */
  snapshotState?(checkpointId: number): void;
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  close?(): void | Promise<void>;
}

export interface Source<T> {
  readonly name: string;
  readonly bounded: boolean;
  createReader(context: SourceReaderContext): SourceReader<T> | Promise<SourceReader<T>>;
}
