import { userFunctionError } from '../runtime/errors.ts';
import type { Operator, OperatorContext, Output } from './operator.ts';

export class MapOperator<IN, OUT> implements Operator<IN, OUT> {
  private out!: Output<OUT>;

  constructor(
    readonly name: string,
    private readonly fn: (value: IN) => OUT,
  ) {}

  open(ctx: OperatorContext<OUT>): void {
    this.out = ctx.output;
  }

  processBatch(values: readonly IN[], times: ArrayLike<number>): void {
    const { fn, out } = this;
    let i = 0;
    try {
      for (; i < values.length; i++) out.emit(fn(values[i]!), times[i]!);
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
  }
}
