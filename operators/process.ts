/** Non-keyed process functions, one input (`ProcessFunction`) or two (`CoProcessFunction`). */
import type { Collector, CoProcessFunction, ProcessContext, ProcessFunction } from './functions.ts';
import { userFunctionError } from '../runtime/errors.ts';
import type { Operator, OperatorContext, Output, OutputTag } from './operator.ts';

/** The context and collector handed to user code, reused for every record. */
export class RecordContext<OUT> implements ProcessContext, Collector<OUT> {
  timestamp = Number.NaN;
  private out!: Output<OUT>;
  private op!: OperatorContext<OUT>;

  bind(op: OperatorContext<OUT>): void {
    this.op = op;
    this.out = op.output;
  }

  collect(value: OUT): void {
    this.out.emit(value, this.timestamp);
  }

  output<S>(tag: OutputTag<S>, value: S): void {
    this.op.sideOutput(tag).emit(value, this.timestamp);
  }

  currentWatermark(): number {
    return this.op.currentWatermark();
  }

  currentProcessingTime(): number {
    return this.op.processingTime.now();
  }
}

export class ProcessOperator<IN, OUT> implements Operator<IN, OUT> {
  private readonly ctx = new RecordContext<OUT>();

  constructor(
    readonly name: string,
    private readonly fn: ProcessFunction<IN, OUT>,
  ) {}

  open(op: OperatorContext<OUT>): void | Promise<void> {
    this.ctx.bind(op);
    return this.fn.open?.({ operatorName: op.operatorName, subtaskIndex: op.subtaskIndex, parallelism: op.parallelism });
  }

  processBatch(values: readonly IN[], times: ArrayLike<number>): void {
    const { fn, ctx } = this;
    let i = 0;
    try {
      for (; i < values.length; i++) {
        ctx.timestamp = times[i]!;
        fn.processElement(values[i]!, ctx, ctx);
      }
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
  }

  endInput(): void {
    this.ctx.timestamp = Number.NaN;
    this.fn.endInput?.(this.ctx);
  }

  close(): void | Promise<void> {
    return this.fn.close?.();
  }
}

export class CoProcessOperator<IN1, IN2, OUT> implements Operator<IN1 | IN2, OUT> {
  private readonly ctx = new RecordContext<OUT>();

  constructor(
    readonly name: string,
    private readonly fn: CoProcessFunction<IN1, IN2, OUT>,
  ) {}

  open(op: OperatorContext<OUT>): void | Promise<void> {
    this.ctx.bind(op);
    return this.fn.open?.({ operatorName: op.operatorName, subtaskIndex: op.subtaskIndex, parallelism: op.parallelism });
  }

  processBatch(values: readonly (IN1 | IN2)[], times: ArrayLike<number>, input: number): void {
    const { fn, ctx } = this;
    let i = 0;
    try {
      if (input === 0) {
        for (; i < values.length; i++) {
          ctx.timestamp = times[i]!;
          fn.processElement1(values[i] as IN1, ctx, ctx);
        }
      } else {
        for (; i < values.length; i++) {
          ctx.timestamp = times[i]!;
          fn.processElement2(values[i] as IN2, ctx, ctx);
        }
      }
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
  }

  close(): void | Promise<void> {
    return this.fn.close?.();
  }
}
