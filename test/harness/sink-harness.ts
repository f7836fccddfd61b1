/**
 * Runs one subtask of a Sink V2 by hand, with the runtime's writer and committer operators wired
 * as `sinkTo` wires them (the writer's committables go to the committer ahead of the barrier):
 *
 *     const h = await SinkHarness.open(mySink);
 *     await h.write([1, 2, 3]);
 *     const snap = await h.checkpoint(1);      // prepareCommit; committables kept under checkpoint 1
 *     await h.complete(1);                     // the committer commits them
 *     const restored = await SinkHarness.open(mySink, { restore: snap });   // commits what snap held
 *
 * A "crash" is dropping a harness without closing it; restore a fresh one from the last snapshot
 * whose checkpoint completed.
 */
import type { Operator, OperatorContext, Output } from '../../operators/operator.ts';
import type { Sink } from '../../runtime/api/sink.ts';
import { CommitterOperator } from '../../runtime/sink/committer-operator.ts';
import { DEFAULT_COMMIT_RETRY } from '../../runtime/sink/contract.ts';
import { SinkWriterOperator } from '../../runtime/sink/writer-operator.ts';
import { OperatorStateStore, type OperatorStateHandle } from '../../state/operator-state.ts';
import { inThreadSideWork } from './operator-harness.ts';

export interface SinkSnapshot {
  checkpointId: number;
  writer: OperatorStateHandle;
  committer: OperatorStateHandle;
}

class Buffer<T> implements Output<T> {
  values: T[] = [];
  emit(value: T): void {
    this.values.push(value);
  }
}

function context<OUT>(name: string, store: OperatorStateStore, output: Output<OUT>, counters: Map<string, number>, subtask: number, parallelism: number): OperatorContext<OUT> {
  return {
    operatorName: name,
    uid: store.operatorUid,
    subtaskIndex: subtask,
    parallelism,
    maxParallelism: 128,
    output,
    sideOutput: () => ({ emit: () => {} }),
    sideWork: inThreadSideWork,
    keyedState: undefined,
    operatorState: store,
    processingTime: { now: () => 0, schedule: () => {} },
    currentWatermark: () => -Infinity,
    metrics: { count: (n, d = 1) => void counters.set(n, (counters.get(n) ?? 0) + d) },
    client: { send: () => {} },
  };
}

export class SinkHarness<T, C> {
  /** Operator metrics counters (commits, commit-retries, ...). */
  readonly counters = new Map<string, number>();
  private readonly committables = new Buffer<C>();
  private readonly writerState: OperatorStateStore;
  private readonly committerState: OperatorStateStore;
  private readonly writer: SinkWriterOperator<T, C>;
  private readonly committer: CommitterOperator<C> | undefined;

  private constructor(sink: Sink<T, C, T>, options: { restore?: SinkSnapshot; subtask?: number; parallelism?: number }) {
    const subtask = options.subtask ?? 0;
    this.writerState = new OperatorStateStore('sink', subtask, options.restore?.writer);
    this.committerState = new OperatorStateStore('sink-committer', subtask, options.restore?.committer);
    const createCommitter = sink.createCommitter ?? sink.createGlobalCommitter;
    this.writer = new SinkWriterOperator<T, C>(sink.name, (ctx) => sink.createWriter(ctx), createCommitter !== undefined);
    this.committer = createCommitter
      ? new CommitterOperator<C>(`${sink.name}-committer`, () => createCommitter.call(sink), { ...DEFAULT_COMMIT_RETRY, ...sink.commitRetry }, false)
      : undefined;
  }

  static async open<T, C>(sink: Sink<T, C, T>, options: { restore?: SinkSnapshot; subtask?: number; parallelism?: number } = {}): Promise<SinkHarness<T, C>> {
    const h = new SinkHarness(sink, options);
    const subtask = options.subtask ?? 0;
    const parallelism = options.parallelism ?? 1;
    await h.committer?.open(context(`${sink.name}-committer`, h.committerState, new Buffer<C>(), h.counters, subtask, parallelism));
    await h.writer.open(context(sink.name, h.writerState, h.committables, h.counters, subtask, parallelism));
    return h;
  }

  async write(values: readonly T[]): Promise<void> {
    await this.writer.processBatch(values);
  }

  private async handOver(): Promise<void> {
    const batch = this.committables.values;
    this.committables.values = [];
    if (batch.length > 0) this.committer?.processBatch(batch);
  }

  /** Barrier `id`: the writer prepares, its committables reach the committer, both take their state. */
  async checkpoint(id: number): Promise<SinkSnapshot> {
    await this.writer.snapshotState(id);
    await this.handOver();
    this.committer?.snapshotState(id);
    return { checkpointId: id, writer: this.writerState.snapshot(id), committer: this.committerState.snapshot(id) };
  }

  /** Checkpoint `id` completed. */
  async complete(id: number): Promise<void> {
    await this.writer.notifyCheckpointComplete(id);
    await this.committer?.notifyCheckpointComplete(id);
  }

  async endInput(): Promise<void> {
    await this.writer.endInput();
    await this.handOver();
  }

  async close(): Promise<void> {
    await (this.writer as Operator<T, C>).close?.();
    await this.committer?.close();
  }
}
