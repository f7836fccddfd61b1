/**
 * One error type for the whole system. Every error says which part of the world it comes from
 * (`domain`), whether trying again can help (`retriable`), and carries the context a user needs to
 * act on it (operator, subtask, record, setting). Subclasses add context; the runtime adds the
 * operator with `withOperator` where an error leaves an operator.
 */
export type ErrorDomain = 'user' | 'external' | 'internal';

export interface WeirErrorOptions {
  domain?: ErrorDomain;
  retriable?: boolean;
  cause?: unknown;
}

const WEIR_ERROR = Symbol.for('weir.error');

export class WeirError extends Error {
  readonly domain: ErrorDomain;
  readonly retriable: boolean;
  operator?: string;
  subtask?: number;

  constructor(message: string, options: WeirErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.domain = options.domain ?? 'internal';
    this.retriable = options.retriable ?? false;
  }

  /** Works across worker threads and module copies, where `instanceof` on the class would not. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    const kinds = (value as Record<symbol, unknown>)[WEIR_ERROR];
    return Array.isArray(kinds) ? kinds.includes(this.name) : Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /** The class names from this error's class up to WeirError; what `instanceof` checks. */
  get [WEIR_ERROR](): string[] {
    const kinds: string[] = [];
    for (let p = Object.getPrototypeOf(this) as { constructor: { name: string } } | null; p && p !== Error.prototype; p = Object.getPrototypeOf(p) as typeof p) {
      kinds.push(p.constructor.name);
    }
    return kinds;
  }

  withOperator(operator: string, subtask?: number): this {
    if (this.operator === undefined) {
      this.operator = operator;
      this.subtask = subtask;
      this.message = `${this.message} [operator '${operator}'${subtask === undefined ? '' : `, subtask ${subtask}`}]`;
    }
    return this;
  }
}

/** A job graph that cannot run as written; the message names the operator and the fix. */
export class JobValidationError extends WeirError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { domain: 'user', cause: options.cause });
  }
}

/** A setting that is missing or has a value that cannot work. */
export class ConfigError extends WeirError {
  constructor(readonly setting: string, message: string) {
    super(`${setting}: ${message}`, { domain: 'user' });
  }
}

/** A user function threw while processing a record; retriable unless it threw a non-retriable WeirError. */
export class UserFunctionError extends WeirError {
  constructor(operator: string, readonly record: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    // Retriable unless the function threw a WeirError that says otherwise (a poison record): a
    // plain exception may be transient (as in Flink, where restarts are the default).
    super(`user function of operator '${operator}' failed on record ${record}: ${why}`, { domain: 'user', cause, retriable: cause instanceof WeirError ? cause.retriable : true });
  }
}

/** A record that fails validation or decoding; routed to a dead-letter output or fails the job. */
export class BadRecordError extends WeirError {
  constructor(message: string, readonly record: string, readonly field?: string) {
    super(message, { domain: 'user' });
  }
}

/** A call to an outside system (Kafka, MySQL, S3, an OLAP store) failed. */
export class ExternalError extends WeirError {
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { domain: 'external', retriable: options.retriable ?? true, cause: options.cause });
  }
}

/** Render a record for an error message: JSON, cut to a readable length. */
export function describeRecord(record: unknown, max = 200): string {
  let text: string;
  try {
    text = JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(record);
  } catch {
    text = String(record);
  }
  return text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text;
}

/** Wraps what a user function threw on `record`, keeping errors that already name an operator. */
export function userFunctionError(operator: string, record: unknown, cause: unknown): WeirError {
  if (cause instanceof WeirError && cause.operator !== undefined) return cause;
  return new UserFunctionError(operator, describeRecord(record), cause);
}

/**
 * Whether restarting can help. Only user errors say no: a user-domain WeirError with
 * `retriable: false` (a BadRecordError, a configuration or validation error, a user function that
 * threw a WeirError it marked non-retriable) fails the job at once with the record (or goes to the
 * operator's dead-letter output), as Flink's non-recoverable errors suppress restarts. Internal and
 * external failures (a dead task manager, a lost connection) are restarted as the restart strategy
 * allows.
 */
export function isRetriable(e: WeirError): boolean {
  return !(e.domain === 'user' && e.retriable === false);
}
