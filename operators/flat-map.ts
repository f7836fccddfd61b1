import type { Collector } from './functions.ts';
import { userFunctionError } from '../runtime/errors.ts';
import { DeadLetterRouter, type DeadLetter } from './dead-letter.ts';
import type { Operator, OperatorContext, Output, OutputTag } from './operator.ts';

export class FlatMapOperator<IN, OUT> implements Operator<IN, OUT> {
  private out!: Output<OUT>;
  private time = 0;
  private readonly collector: Collector<OUT> = { collect: (v) => this.out.emit(v, this.time) };

  constructor(
    readonly name: string,
    private readonly fn: (value: IN, out: Collector<OUT>) => void,
    deadLetter?: OutputTag<DeadLetter<IN>>,
  ) {
    this.deadLetters = new DeadLetterRouter(name, deadLetter);
  }

  private readonly deadLetters: DeadLetterRouter<IN>;

  open(ctx: OperatorContext<OUT>): void {
    this.out = ctx.output;
    this.deadLetters.open(ctx);
  }

  /** With a dead-letter output, what a failing call emitted before it threw stays emitted (as in a Flink side output). */
  processBatch(values: readonly IN[], times: ArrayLike<number>): void {
    const { fn, collector } = this;
    for (let i = 0; i < values.length; i++) {
      try {
        for (; i < values.length; i++) {
          this.time = times[i]!;
          fn(values[i]!, collector);
        }
      } catch (e) {
        const err = userFunctionError(this.name, values[i], e);
        if (!this.deadLetters.divert(values[i]!, times[i]!, err)) throw err;
      }
    }
  }
}
