/**
 * Errors of the lake connector. Each names the table, file or setting involved and what to do next.
 */
import { WeirError, ExternalError, ConfigError, BadRecordError } from '../../runtime/errors.ts';

export { WeirError, ExternalError, ConfigError, BadRecordError };

/** A table's files do not match what the Paimon format requires (corrupt, unsupported version). */
export class LakeFormatError extends WeirError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { domain: 'external', retriable: false, cause: options.cause });
  }
}

/** Another writer changed the table in a way that conflicts with this commit (e.g. compacted the same files). */
export class CommitConflictError extends WeirError {
  constructor(message: string) {
    super(message, { domain: 'external', retriable: true });
  }
}

/** A wait on a table (its watermark) ran out of time. */
export class LakeWaitTimeoutError extends WeirError {
  constructor(message: string) {
    super(message, { domain: 'external', retriable: false });
  }
}
