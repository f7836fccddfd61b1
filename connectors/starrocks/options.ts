/** Options of the StarRocks sink, their defaults and their checks. */
import { ConfigError } from '../../runtime/errors.ts';
import type { CommitRetryPolicy } from '../../runtime/sink/contract.ts';
import { checkTableOptions, type OlapTableOptions } from '../olap/schema.ts';
import { checkBufferOptions, type BufferOptions } from '../olap/staged-writer.ts';
import { DEFAULT_RETRY, type RetryPolicy } from './http-client.ts';
import type { LoadFormat } from './encode.ts';
import { MAX_LABEL_LENGTH } from './labels.ts';

export const SINK = 'starrocks-sink';

/**
 * `table`, `primaryKey` and `columns` (types) as for every OLAP sink (connectors/olap): with a
 * `primaryKey` the StarRocks table is a Primary Key table (upserts and deletes via `__op`); without,
 * it is appended to (a Duplicate Key table) and a -U/-D record fails.
 */
export interface StarRocksSinkOptions<T> extends OlapTableOptions<T> {
  /** FE HTTP addresses (`http://fe:8030`); requests go to them in turn. */
  feUrl: string | readonly string[];
  database: string;
  user: string;
  /** Sent only in the Authorization header; never logged, never in an error. */
  password: string;
  /** 'exactly-once' (default): a Stream Load transaction per checkpoint; 'at-least-once': Stream Loads with label deduplication. */
  semantic?: 'exactly-once' | 'at-least-once';
  /** Load format (default 'json'). */
  format?: LoadFormat;
  /** Update only the columns the records carry (Primary Key tables; `partial_update`). */
  partialUpdate?: boolean;
  /** Label prefix (default 'weir'); give each job writing the same table its own. */
  labelPrefix?: string;
  /** Writer subtasks (default the sink's parallelism); with a primary key and several writers, records are keyed by it. */
  writers?: number;
  /** When a writer sends what it holds (default 10,000 rows, 16 MiB, 1 s). In exactly-once mode a load is invisible until its checkpoint commits. */
  buffer?: BufferOptions;
  /** `timeout` header at begin: seconds a transaction may stay open before it is prepared (default 600). */
  transactionTimeoutS?: number;
  /** `idle_transaction_timeout` header at begin: seconds without a load before StarRocks rolls back (default not sent). */
  idleTransactionTimeoutS?: number;
  /** `prepared_timeout` header at prepare: seconds a prepared transaction waits for its commit (default not sent: the FE's 86400). */
  preparedTimeoutS?: number;
  /** Checkpoints after the restored one whose leftover transactions are rolled back on restore (default 5). */
  lingeringProbeDepth?: number;
  /** Retries of idempotent requests (default 4 attempts from 100 ms up to 2 s). */
  retry?: Partial<RetryPolicy>;
  /** Per request (default 60 000 ms). */
  requestTimeoutMs?: number;
  /** How the runtime retries a failing commit before the job fails (default 5 attempts, 100 ms doubling up to 5 s). */
  commitRetry?: Partial<CommitRetryPolicy>;
}

export interface ResolvedOptions {
  feUrls: string[];
  database: string;
  table: string;
  user: string;
  password: string;
  semantic: 'exactly-once' | 'at-least-once';
  format: LoadFormat;
  partialUpdate: boolean;
  labelPrefix: string;
  writers: number | undefined;
  buffer: Required<BufferOptions>;
  transactionTimeoutS: number;
  idleTransactionTimeoutS: number | undefined;
  preparedTimeoutS: number | undefined;
  lingeringProbeDepth: number;
  retry: RetryPolicy;
  requestTimeoutMs: number;
}

const setting = (name: string): string => `${SINK}.${name}`;

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new ConfigError(setting(name), `must be a number > 0, got ${String(v)}`);
  return v;
}

function text(name: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(setting(name), `must be a non-empty string, got ${v === undefined ? 'nothing' : typeof v}`);
  return v;
}

export function resolveOptions<T>(o: StarRocksSinkOptions<T>): ResolvedOptions {
  checkTableOptions(o, SINK);
  const feUrls = (typeof o.feUrl === 'string' ? [o.feUrl] : [...(o.feUrl ?? [])]).map((u) => {
    let url: URL;
    try {
      url = new URL(text('feUrl', u));
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(setting('feUrl'), "is not a URL; give the FE's HTTP address, e.g. http://fe-host:8030");
    }
    if (url.username || url.password) throw new ConfigError(setting('feUrl'), 'must not carry credentials; give them as user and password');
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(setting('feUrl'), `'${url.origin}' must be an http(s) URL`);
    return url.origin;
  });
  if (feUrls.length === 0) throw new ConfigError(setting('feUrl'), 'give at least one FE address');
  if (typeof o.password !== 'string') throw new ConfigError(setting('password'), 'must be a string (empty for a user without a password)');
  const semantic = o.semantic ?? 'exactly-once';
  if (semantic !== 'exactly-once' && semantic !== 'at-least-once') throw new ConfigError(setting('semantic'), `must be 'exactly-once' or 'at-least-once', got '${String(semantic)}'`);
  const format = o.format ?? 'json';
  if (format !== 'json' && format !== 'csv') throw new ConfigError(setting('format'), `must be 'json' or 'csv', got '${String(format)}'`);
  const partialUpdate = o.partialUpdate ?? false;
  if (partialUpdate && (o.primaryKey ?? []).length === 0) throw new ConfigError(setting('partialUpdate'), 'needs a Primary Key table: give primaryKey');
  if (o.writers !== undefined && !(Number.isInteger(o.writers) && o.writers >= 1)) throw new ConfigError(setting('writers'), `must be a whole number >= 1, got ${o.writers}`);
  const retry = { ...DEFAULT_RETRY, ...o.retry };
  if (!(Number.isInteger(retry.attempts) && retry.attempts >= 1)) throw new ConfigError(setting('retry.attempts'), `must be a whole number >= 1, got ${retry.attempts}`);
  const labelPrefix = o.labelPrefix ?? 'weir';
  // labels are prefix-table-subtask-epoch-checkpoint, at most 128 characters; leave 40 for the numbers
  if (typeof labelPrefix !== 'string' || labelPrefix.length === 0 || labelPrefix.length + o.table.length > MAX_LABEL_LENGTH - 40) {
    throw new ConfigError(setting('labelPrefix'), `with the table name it must stay under ${MAX_LABEL_LENGTH - 40} characters (StarRocks labels are at most ${MAX_LABEL_LENGTH}); give a shorter one`);
  }
  return {
    feUrls,
    database: text('database', o.database),
    table: o.table,
    user: text('user', o.user),
    password: o.password,
    semantic,
    format,
    partialUpdate,
    labelPrefix,
    writers: o.writers,
    buffer: checkBufferOptions(o.buffer ?? {}, SINK),
    transactionTimeoutS: positive('transactionTimeoutS', o.transactionTimeoutS, 600),
    idleTransactionTimeoutS: o.idleTransactionTimeoutS === undefined ? undefined : positive('idleTransactionTimeoutS', o.idleTransactionTimeoutS, 0),
    preparedTimeoutS: o.preparedTimeoutS === undefined ? undefined : positive('preparedTimeoutS', o.preparedTimeoutS, 0),
    lingeringProbeDepth: positive('lingeringProbeDepth', o.lingeringProbeDepth, 5),
    retry,
    requestTimeoutMs: positive('requestTimeoutMs', o.requestTimeoutMs, 60_000),
  };
}
