/** Prints every record to stdout, prefixed with the subtask (`2> {...}`), as Flink's print sink. */
import type { Sink } from '../../runtime/api/sink.ts';
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink/contract.ts';

class PrintWriter<T> implements SinkWriter<T, never> {
  private readonly prefix: string;

  constructor(
    ctx: SinkWriterContext,
    private readonly format: (value: T) => string,
  ) {
    this.prefix = ctx.parallelism > 1 ? `${ctx.subtaskIndex + 1}> ` : '';
  }

  write(values: readonly T[]): void {
    let text = '';
    for (const v of values) text += `${this.prefix}${this.format(v)}\n`;
    process.stdout.write(text);
  }

  prepareCommit(): never[] {
    return [];
  }
}

export function printSink<T>(options: { name?: string; format?: (value: T) => string } = {}): Sink<T> {
  const format = options.format ?? ((v: T) => JSON.stringify(v));
  return { name: options.name ?? 'print', createWriter: (ctx) => new PrintWriter<T>(ctx, format) };
}
