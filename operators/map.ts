import { userFunctionError } from '../runtime/errors.ts';
import { DeadLetterRouter, type DeadLetter } from './dead-letter.ts';
import type { Operator, OperatorContext, Output, OutputTag } from './operator.ts';

export class MapOperator<IN, OUT> implements Operator<IN, OUT> {
  private out!: Output<OUT>;

  constructor(
    readonly name: string,
    private readonly fn: (value: IN) => OUT,
    deadLetter?: OutputTag<DeadLetter<IN>>,
  ) {
    this.deadLetters = new DeadLetterRouter(name, deadLetter);
  }

  private readonly deadLetters: DeadLetterRouter<IN>;

  open(ctx: OperatorContext<OUT>): void {
    this.out = ctx.output;
    this.deadLetters.open(ctx);
  }

  processBatch(values: readonly IN[], times: ArrayLike<number>): void {
    const { fn, out } = this;
    for (let i = 0; i < values.length; i++) {
      try {
        for (; i < values.length; i++) out.emit(fn(values[i]!), times[i]!);
      } catch (e) {
        const err = userFunctionError(this.name, values[i], e);
        if (!this.deadLetters.divert(values[i]!, times[i]!, err)) throw err;
      }
    }
  }
}
