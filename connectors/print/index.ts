/** Prints every record to stdout, prefixed with the subtask (`2> {...}`), as Flink's print sink. */
import type { Operator, OperatorContext } from '../../operators/operator.ts';
import type { Sink } from '../sink.ts';

class PrintWriter<T> implements Operator<T, never> {
  private prefix = '';

  constructor(
    readonly name: string,
    private readonly format: (value: T) => string,
  ) {}

  open(ctx: OperatorContext<never>): void {
    this.prefix = ctx.parallelism > 1 ? `${ctx.subtaskIndex + 1}> ` : '';
  }

  processBatch(values: readonly T[]): void {
    let text = '';
    for (const v of values) text += `${this.prefix}${this.format(v)}\n`;
    process.stdout.write(text);
  }
}

export function printSink<T>(options: { name?: string; format?: (value: T) => string } = {}): Sink<T> {
  const format = options.format ?? ((v: T) => JSON.stringify(v));
  const name = options.name ?? 'print';
  return { name, createWriter: () => new PrintWriter<T>(name, format) };
}
