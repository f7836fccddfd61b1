/**
 * The operator contract. An operator processes batches of records; everything else has a default.
 * The runtime owns the loop: it aligns checkpoint barriers, tracks watermarks over inputs, and calls
 * these hooks from the task's mailbox, one at a time, so operator code never needs locks.
 *
 * Batches are borrowed: `values` and `times` are valid only during the call and must not be
 * modified or kept (copy what you keep). Records themselves are treated as immutable once emitted.
 *
 * Every hook may return a promise (async I/O, e.g. a lookup join); the runtime awaits it before the
 * next mail. Synchronous operators should return nothing, so the hot path stays free of promises.
 *
 * Members that take a record type are written as function-typed properties, not methods: TypeScript
 * checks method parameters bivariantly, which would let an `Operator<A, _>` stand where an
 * `Operator<A | B, _>` is needed (a stream of A|B into an operator that only reads A). Classes still
 * implement them with ordinary methods.
 */
import type { KeyedStateBackend } from '../state/backend.ts';
import type { OperatorStateStore } from '../state/operator-state.ts';

/** Event time of a record without one (a source without a timestamp assigner). */
export const NO_TIMESTAMP = Number.NaN;

/** Where an operator puts its results. `time` is the record's event time (NO_TIMESTAMP if none). */
export interface Output<T> {
  readonly emit: (value: T, time: number) => void;
}

/** A side output, identified by its id; a record type flows with it. */
export class OutputTag<T> {
  /** Phantom field carrying the record type; never set. */
  declare readonly __type?: T;
  constructor(readonly id: string) {
    if (!/^[\w.-]+$/.test(id)) throw new Error(`OutputTag id '${id}' must be letters, digits, '_', '.' or '-'`);
  }
}

/** Runs a callback on the task's mailbox at a processing time (wall clock, ms). */
export interface ProcessingTimeService {
  now(): number;
  /** The callback runs as a mail of the task, never concurrently with processing. */
  schedule(time: number, callback: () => void | Promise<void>): void;
}

/**
 * Worker threads for CPU-heavy or blocking work that is not per record (compaction, encoding,
 * uploads), owned by the task manager. `module` is a TypeScript module whose default export takes
 * `input` (plain data) and returns the result (plain data): it runs in another thread.
 */
export interface SideWork {
  run<I, O>(module: URL | string, input: I): Promise<O>;
}

export interface OperatorContext<OUT> {
  readonly operatorName: string;
  readonly uid: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly output: Output<OUT>;
  sideOutput<S>(tag: OutputTag<S>): Output<S>;
  /** Present on operators after `keyBy`. */
  readonly keyedState: KeyedStateBackend | undefined;
  readonly operatorState: OperatorStateStore;
  readonly processingTime: ProcessingTimeService;
  /** The operator's current input watermark (-Infinity before the first). */
  currentWatermark(): number;
  readonly metrics: OperatorMetricsView;
  /** Sends data back to the program that submitted the job (what collect sinks use). */
  readonly client: ClientChannel;
  /** The task manager's side-work threads: run heavy work off the task's loop. */
  readonly sideWork: SideWork;
}

export interface ClientChannel {
  send(topic: string, payload: unknown): void;
}

export interface OperatorMetricsView {
  /** Adds to a named counter shown with the operator's metrics. */
  count(name: string, delta?: number): void;
}

export interface Operator<IN, OUT> {
  readonly name: string;
  readonly open?: (ctx: OperatorContext<OUT>) => void | Promise<void>;
  /**
   * `input` is 0 for one-input operators, 0 or 1 for two-input operators. `keyGroups`, when given,
   * holds each record's key group under the key of the `keyBy` that partitioned this input: the
   * exchange computed it to pick the subtask and carries it here so that a keyed operator passes
   * `keyGroups[i]` to `setCurrentKey` instead of hashing the key again. It is undefined when the
   * batch did not come through a keyBy exchange (a chained or forward input, a keyBy into one
   * subtask, a test calling processBatch): then compute `keyGroupOf(key, maxParallelism)`.
   * `keyHashes` comes with `keyGroups`: each record's key hash (`keyGroupHash`, what its key group
   * was cut from), for `setCurrentKey`'s third argument (the heap backend indexes keys by it).
   */
  readonly processBatch: (values: readonly IN[], times: ArrayLike<number>, input: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>) => void | Promise<void>;
  /** The input watermark advanced; fire event-time timers. The runtime forwards it afterwards. */
  processWatermark?(watermark: number): void | Promise<void>;
  /** All inputs ended (bounded input). Emit what is still held; the final watermark came before. */
  endInput?(): void | Promise<void>;
  /** Checkpoint barrier reached this operator: flush and pre-commit (two-phase commit sinks). */
  snapshotState?(checkpointId: number): void | Promise<void>;
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  notifyCheckpointAborted?(checkpointId: number): void | Promise<void>;
  close?(): void | Promise<void>;
}
