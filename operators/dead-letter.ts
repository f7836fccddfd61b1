/**
 * Dead-letter output of map, filter and flatMap (`{ deadLetter: tag }` in their options): a record
 * on which the user function fails with a non-retriable error (a BadRecordError, or a WeirError
 * marked `{ domain: 'user', retriable: false }`) goes to this side output with the error, and
 * processing goes on; without the option such a record fails the job. Retriable failures (a plain
 * exception) still fail the task, and the job restarts. The side output is part of the stream, so
 * checkpoints cover it like any other record: nothing is lost or duplicated.
 */
import { UserFunctionError, isRetriable, type WeirError } from '../runtime/errors.ts';
import type { OperatorContext, Output, OutputTag } from './operator.ts';

export interface DeadLetter<T = unknown> {
  record: T;
  /** The operator whose function failed. */
  operator: string;
  error: { name: string; message: string };
}

export class DeadLetterRouter<T> {
  private out: Output<DeadLetter<T>> | undefined;

  constructor(
    private readonly operator: string,
    private readonly tag: OutputTag<DeadLetter<T>> | undefined,
  ) {}

  open<O>(ctx: OperatorContext<O>): void {
    if (this.tag) this.out = ctx.sideOutput(this.tag);
  }

  /**
   * Sends `record` to the dead-letter output if there is one and `error` is this operator's own
   * non-retriable failure (not one thrown further down the chain); false: the caller throws it.
   */
  divert(record: T, time: number, error: WeirError): boolean {
    if (!this.out || !(error instanceof UserFunctionError) || error.operator !== undefined || isRetriable(error)) return false;
    const cause = error.cause instanceof Error ? error.cause : error;
    this.out.emit({ record, operator: this.operator, error: { name: cause.name, message: cause.message } }, time);
    return true;
  }
}
