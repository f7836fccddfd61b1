import type { Collector } from './functions.ts';
import { userFunctionError } from '../runtime/errors.ts';
import type { Operator, OperatorContext, Output } from './operator.ts';

export class FlatMapOperator<IN, OUT> implements Operator<IN, OUT> {
  private out!: Output<OUT>;
  private time = 0;
  private readonly collector: Collector<OUT> = { collect: (v) => this.out.emit(v, this.time) };

  constructor(
    readonly name: string,
    private readonly fn: (value: IN, out: Collector<OUT>) => void,
  ) {}

  open(ctx: OperatorContext<OUT>): void {
    this.out = ctx.output;
  }

  processBatch(values: readonly IN[], times: ArrayLike<number>): void {
    const { fn, collector } = this;
    let i = 0;
    try {
      for (; i < values.length; i++) {
        this.time = times[i]!;
        fn(values[i]!, collector);
      }
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
  }
}
