import { userFunctionError } from '../runtime/errors.ts';
import { DeadLetterRouter, type DeadLetter } from './dead-letter.ts';
import type { Operator, OperatorContext, Output, OutputTag } from './operator.ts';

export class FilterOperator<T> implements Operator<T, T> {
  private out!: Output<T>;

  constructor(
    readonly name: string,
    private readonly predicate: (value: T) => boolean,
    deadLetter?: OutputTag<DeadLetter<T>>,
  ) {
    this.deadLetters = new DeadLetterRouter(name, deadLetter);
  }

  private readonly deadLetters: DeadLetterRouter<T>;

  open(ctx: OperatorContext<T>): void {
    this.out = ctx.output;
    this.deadLetters.open(ctx);
  }

  processBatch(values: readonly T[], times: ArrayLike<number>): void {
    const { predicate, out } = this;
    for (let i = 0; i < values.length; i++) {
      try {
        for (; i < values.length; i++) {
          const v = values[i]!;
          if (predicate(v)) out.emit(v, times[i]!);
        }
      } catch (e) {
        const err = userFunctionError(this.name, values[i], e);
        if (!this.deadLetters.divert(values[i]!, times[i]!, err)) throw err;
      }
    }
  }
}
