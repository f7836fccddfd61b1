/**
 * The operator that runs a sink's writer: hands it the records, and at each barrier (and at the end
 * of input) emits what `prepareCommit` returned downstream, ahead of the barrier, to the committer.
 * The highest checkpoint id it saw is union state, so that after a restore the writer knows which
 * transactions are lingering (begun after the restored checkpoint).
 */
import type { Operator, OperatorContext, Output } from '../../operators/operator.ts';
import { NO_TIMESTAMP } from '../../operators/operator.ts';
import type { OperatorListState } from '../../state/operator-state.ts';
import { END_OF_INPUT_CHECKPOINT } from '../checkpoint/subtask-checkpointer.ts';
import type { SinkWriter, SinkWriterContext } from './contract.ts';

const CHECKPOINT_STATE = 'sink-writer-checkpoint';

export class SinkWriterOperator<T, C> implements Operator<T, C> {
  private writer!: SinkWriter<T, C>;
  private output!: Output<C>;
  private checkpoints!: OperatorListState<number>;
  private ended = false;

  constructor(
    readonly name: string,
    private readonly createWriter: (ctx: SinkWriterContext) => SinkWriter<T, C> | Promise<SinkWriter<T, C>>,
    /** Whether committables go anywhere (a sink without a committer has no downstream). */
    private readonly emitsCommittables: boolean,
  ) {}

  async open(ctx: OperatorContext<C>): Promise<void> {
    this.output = ctx.output;
    this.checkpoints = ctx.operatorState.getUnionListState<number>(CHECKPOINT_STATE);
    const seen = this.checkpoints.get();
    const restoredCheckpointId = seen.length > 0 ? Math.max(...seen) : 0;
    this.writer = await this.createWriter({
      subtaskIndex: ctx.subtaskIndex,
      parallelism: ctx.parallelism,
      restoredCheckpointId,
      operatorState: ctx.operatorState,
      metrics: ctx.metrics,
      client: ctx.client,
      sideWork: ctx.sideWork,
      currentWatermark: () => ctx.currentWatermark(),
    });
  }

  processBatch(values: readonly T[]): void | Promise<void> {
    if (values.length === 0) return;
    return this.writer.write(values);
  }

  private async prepare(checkpointId: number, endOfInput: boolean): Promise<void> {
    const committables = await this.writer.prepareCommit(checkpointId, endOfInput);
    if (!this.emitsCommittables) return;
    for (const c of committables) this.output.emit(c, NO_TIMESTAMP);
  }

  async snapshotState(checkpointId: number): Promise<void> {
    // After the end of input everything was prepared already; later barriers only carry state.
    if (!this.ended) await this.prepare(checkpointId, false);
    this.writer.snapshotState?.(checkpointId);
    if (checkpointId !== END_OF_INPUT_CHECKPOINT) this.checkpoints.update([checkpointId]);
  }

  notifyCheckpointComplete(checkpointId: number): void | Promise<void> {
    return this.writer.notifyCheckpointComplete?.(checkpointId);
  }

  /** End of input: what comes after the downstream end marker is not read, so the last committables go now. */
  async endInput(): Promise<void> {
    await this.prepare(END_OF_INPUT_CHECKPOINT, true);
    this.ended = true;
  }

  async close(): Promise<void> {
    await this.writer?.close?.();
  }
}
