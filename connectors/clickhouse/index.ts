/**
 * The ClickHouse sink (`weir/clickhouse`): a stream of rows or changelog records (+I/-U/+U/-D) into
 * a ClickHouse table over HTTP, exactly once in the table's final content.
 *
 *     import { clickhouseSink } from 'weir/clickhouse';
 *
 *     revenue.sinkTo(clickhouseSink<Revenue>({
 *       url: 'http://127.0.0.1:8123', database: 'default',   // user/password: sent as headers
 *       table: 'revenue_per_minute',
 *       primaryKey: ['minute'],                              // ReplacingMergeTree ORDER BY the key
 *       columns: { minute: 'TIMESTAMP' },
 *     }), { uid: 'revenue-clickhouse' });
 *
 *     -- readers: the latest row per key, without deleted ones
 *     SELECT minute, revenue FROM revenue_per_minute FINAL WHERE _weir_deleted = 0
 *
 * Writers fold changes per key and stage batches (INSERT ... FORMAT JSONEachRow) in a staging
 * table; when a checkpoint completes one committer copies them into the table with versions that a
 * replay repeats exactly. See connectors/olap/README.md.
 */
import type { Sink, SinkInput, SinkTopologyContext } from '../../runtime/api/sink.ts';
import type { DataStream } from '../../runtime/api/data-stream.ts';
import type { CommitRetryPolicy } from '../../runtime/sink/contract.ts';
import { ConfigError } from '../../runtime/errors.ts';
import { checkTableOptions, type OlapTableOptions } from '../olap/schema.ts';
import { StagedWriter, checkBufferOptions, type BufferOptions, type OlapCommittable, type OlapInput } from '../olap/staged-writer.ts';
import type { RetryPolicy } from '../olap/retry.ts';
import { keyByPrimaryKey, needsKeying } from '../olap/topology.ts';
import { ClickHouseCommitter } from './committer.ts';
import { ClickHouseHttp, type ClickHouseConnection } from './http.ts';
import { ClickHouseStager, type StagedBatch } from './staging.ts';

export type { ColumnType, ColumnsOf, OlapTableOptions } from '../olap/schema.ts';
export type { BufferOptions, OlapInput } from '../olap/staged-writer.ts';
export type { OlapSchemaChange, SchemaChangeRecord } from '../olap/schema-change.ts';
export type { ClickHouseConnection } from './http.ts';

export interface ClickHouseSinkOptions<T> extends OlapTableOptions<T>, ClickHouseConnection {
  /** Writer subtasks (default 1; keyed by the primary key when more; keep the sink's own parallelism equal to its input's). */
  writers?: number;
  /** When writers stage what they hold (default 10,000 rows, 16 MiB, 1 s). */
  buffer?: BufferOptions;
  /** How staging INSERTs are retried (default 5 attempts from 100 ms up to 5 s). */
  retry?: RetryPolicy;
  commitRetry?: Partial<CommitRetryPolicy>;
}

export type ClickHouseSink<T> = Sink<OlapInput<T>, OlapCommittable<StagedBatch>, OlapInput<T>>;

export function clickhouseSink<T>(options: ClickHouseSinkOptions<T>): ClickHouseSink<T> {
  const name = 'clickhouse-sink';
  if (typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) throw new ConfigError(`${name}.url`, `the ClickHouse HTTP interface, e.g. http://127.0.0.1:8123; got ${typeof options.url === 'string' ? `'${options.url.replace(/\/\/[^@/]*@/, '//***@')}'` : String(options.url)}`);
  checkTableOptions(options, name);
  const writers = options.writers ?? 1;
  if (!Number.isInteger(writers) || writers < 1) throw new ConfigError(`${name}.writers`, `must be a positive integer, got ${options.writers}`);
  const buffer = checkBufferOptions(options.buffer ?? {}, name);
  const conn: ClickHouseConnection = {
    url: options.url,
    ...(options.database ? { database: options.database } : {}),
    ...(options.user ? { user: options.user } : {}),
    ...(options.password ? { password: options.password } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  };
  const table: OlapTableOptions<T> = { table: options.table, ...(options.primaryKey ? { primaryKey: options.primaryKey } : {}), ...(options.columns ? { columns: options.columns } : {}) };
  const sink: ClickHouseSink<T> = {
    name,
    writerParallelism: writers,
    ...(options.commitRetry ? { commitRetry: options.commitRetry } : {}),
    createWriter: (ctx) => new StagedWriter<T, StagedBatch>({ sink: name, table, buffer, ...(options.retry ? { retry: options.retry } : {}) }, new ClickHouseStager(new ClickHouseHttp(conn, name), name), ctx),
    createGlobalCommitter: () => new ClickHouseCommitter(new ClickHouseHttp(conn, name), options.table, name),
  };
  if (!needsKeying(options.primaryKey, writers)) return sink;
  return {
    ...sink,
    addPreWriteTopology: (input: SinkInput<OlapInput<T>>, context: SinkTopologyContext): DataStream<OlapInput<T>> => keyByPrimaryKey(input, options.primaryKey!, context, name),
  };
}
