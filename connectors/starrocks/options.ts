/** Options of the StarRocks sink, their defaults and their checks. */
import { ConfigError } from '../../runtime/errors.ts';
import { DEFAULT_RETRY, type RetryPolicy } from './http-client.ts';
import type { LoadFormat } from './encode.ts';
import type { CommitRetryPolicy } from '../../runtime/sink/contract.ts';

export interface StarRocksSinkOptions<T> {
  /** FE HTTP addresses (`http://fe:8030`); requests go to them in turn. */
  feUrl: string | readonly string[];
  database: string;
  table: string;
  user: string;
  /** Sent only in the Authorization header; never logged, never in an error. */
  password: string;
  /** 'exactly-once' (default): a Stream Load transaction per checkpoint; 'at-least-once': Stream Loads with label deduplication. */
  semantic?: 'exactly-once' | 'at-least-once';
  /** Load format (default 'json'). */
  format?: LoadFormat;
  /** Columns to load (default: the keys of the first record each writer sees). */
  columns?: readonly (keyof T & string)[];
  /** The table is a Primary Key table (default true): records carry `__op` (upsert or delete). False: a Duplicate Key table, appends only. */
  primaryKeyTable?: boolean;
  /** Update only `columns` of existing rows (Primary Key tables; `partial_update`). */
  partialUpdate?: boolean;
  /** Skip -U records (default true; the +U that follows carries the new row). */
  ignoreUpdateBefore?: boolean;
  /** Label prefix (default 'weir'); give each job writing the same table its own. */
  labelPrefix?: string;
  /** Rows buffered before a load is sent (default 20 000). */
  bufferRows?: number;
  /** Bytes buffered before a load is sent (default 16 MiB). */
  bufferBytes?: number;
  /** At-least-once: also send a load when the oldest buffered row is this old (default 1000 ms; checked when records arrive and at barriers). */
  flushIntervalMs?: number;
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
  columns: string[] | undefined;
  primaryKeyTable: boolean;
  partialUpdate: boolean;
  ignoreUpdateBefore: boolean;
  labelPrefix: string;
  bufferRows: number;
  bufferBytes: number;
  flushIntervalMs: number;
  transactionTimeoutS: number;
  idleTransactionTimeoutS: number | undefined;
  preparedTimeoutS: number | undefined;
  lingeringProbeDepth: number;
  retry: RetryPolicy;
  requestTimeoutMs: number;
}

const setting = (name: string): string => `starrocks sink option '${name}'`;

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new ConfigError(setting(name), `must be a number > 0, got ${String(v)}`);
  return v;
}

function text(name: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(setting(name), `must be a non-empty string, got ${v === undefined ? 'nothing' : typeof v}`);
  return v;
}

export function resolveOptions(o: StarRocksSinkOptions<unknown>): ResolvedOptions {
  const feUrls = (typeof o.feUrl === 'string' ? [o.feUrl] : [...(o.feUrl ?? [])]).map((u) => {
    let url: URL;
    try {
      url = new URL(text('feUrl', u));
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(setting('feUrl'), `'${u}' is not a URL; give the FE's HTTP address, e.g. http://fe-host:8030`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(setting('feUrl'), `'${u}' must be an http(s) URL`);
    if (url.username || url.password) throw new ConfigError(setting('feUrl'), 'must not carry credentials; give them as user and password');
    return url.origin;
  });
  if (feUrls.length === 0) throw new ConfigError(setting('feUrl'), 'give at least one FE address');
  if (typeof o.password !== 'string') throw new ConfigError(setting('password'), 'must be a string (empty for a user without a password)');
  const semantic = o.semantic ?? 'exactly-once';
  if (semantic !== 'exactly-once' && semantic !== 'at-least-once') throw new ConfigError(setting('semantic'), `must be 'exactly-once' or 'at-least-once', got '${String(semantic)}'`);
  const format = o.format ?? 'json';
  if (format !== 'json' && format !== 'csv') throw new ConfigError(setting('format'), `must be 'json' or 'csv', got '${String(format)}'`);
  const primaryKeyTable = o.primaryKeyTable ?? true;
  const partialUpdate = o.partialUpdate ?? false;
  if (partialUpdate && !primaryKeyTable) throw new ConfigError(setting('partialUpdate'), 'needs a Primary Key table (primaryKeyTable: true)');
  if (partialUpdate && (!o.columns || o.columns.length === 0)) throw new ConfigError(setting('partialUpdate'), "needs 'columns': the primary key and the columns to update");
  const retry = { ...DEFAULT_RETRY, ...o.retry };
  if (!(Number.isInteger(retry.attempts) && retry.attempts >= 1)) throw new ConfigError(setting('retry.attempts'), `must be a whole number >= 1, got ${retry.attempts}`);
  return {
    feUrls,
    database: text('database', o.database),
    table: text('table', o.table),
    user: text('user', o.user),
    password: o.password,
    semantic,
    format,
    columns: o.columns ? [...o.columns] : undefined,
    primaryKeyTable,
    partialUpdate,
    ignoreUpdateBefore: o.ignoreUpdateBefore ?? true,
    labelPrefix: o.labelPrefix ?? 'weir',
    bufferRows: positive('bufferRows', o.bufferRows, 20_000),
    bufferBytes: positive('bufferBytes', o.bufferBytes, 16 * 1024 * 1024),
    flushIntervalMs: positive('flushIntervalMs', o.flushIntervalMs, 1000),
    transactionTimeoutS: positive('transactionTimeoutS', o.transactionTimeoutS, 600),
    idleTransactionTimeoutS: o.idleTransactionTimeoutS === undefined ? undefined : positive('idleTransactionTimeoutS', o.idleTransactionTimeoutS, 0),
    preparedTimeoutS: o.preparedTimeoutS === undefined ? undefined : positive('preparedTimeoutS', o.preparedTimeoutS, 0),
    lingeringProbeDepth: positive('lingeringProbeDepth', o.lingeringProbeDepth, 5),
    retry,
    requestTimeoutMs: positive('requestTimeoutMs', o.requestTimeoutMs, 60_000),
  };
}
