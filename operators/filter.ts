import { userFunctionError } from '../runtime/errors.ts';
import type { Operator, OperatorContext, Output } from './operator.ts';

export class FilterOperator<T> implements Operator<T, T> {
  private out!: Output<T>;

  constructor(
    readonly name: string,
    private readonly predicate: (value: T) => boolean,
  ) {}

  open(ctx: OperatorContext<T>): void {
    this.out = ctx.output;
  }

  processBatch(values: readonly T[], times: ArrayLike<number>): void {
    const { predicate, out } = this;
    let i = 0;
    try {
      for (; i < values.length; i++) {
        const v = values[i]!;
        if (predicate(v)) out.emit(v, times[i]!);
      }
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
  }
}
