/** Errors of the StarRocks sink: they quote StarRocks' answer (Status, Message, ErrorURL) and never a password. */
import { ExternalError } from '../../runtime/errors.ts';

/** The fields of a StarRocks HTTP answer that the sink reads. */
export interface StarRocksAnswer {
  Status?: string;
  Message?: string;
  Label?: string;
  TxnId?: number;
  ErrorURL?: string;
  ExistingJobStatus?: string;
  /** get_load_state */
  state?: string;
  NumberLoadedRows?: number;
  NumberFilteredRows?: number;
  [field: string]: unknown;
}

/** StarRocks refused or failed a request, or could not be reached. */
export class StarRocksError extends ExternalError {
  constructor(
    readonly operation: string,
    readonly label: string | undefined,
    readonly answer: StarRocksAnswer | undefined,
    advice: string,
    options: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(`StarRocks ${operation}${label ? ` of label '${label}'` : ''} failed: ${describeAnswer(answer)}${advice ? `. ${advice}` : ''}`, options);
  }
}

/** Status, Message and ErrorURL of an answer, as StarRocks gave them. */
export function describeAnswer(answer: StarRocksAnswer | undefined): string {
  if (!answer) return 'no answer';
  const parts = [`Status '${answer.Status ?? '(none)'}'`, `Message '${answer.Message ?? ''}'`];
  if (answer.ExistingJobStatus) parts.push(`ExistingJobStatus '${answer.ExistingJobStatus}'`);
  if (answer.state) parts.push(`state '${answer.state}'`);
  if (answer.ErrorURL) parts.push(`ErrorURL ${answer.ErrorURL} (the rejected rows)`);
  return parts.join(', ');
}
