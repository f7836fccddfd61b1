/**
 * The shared base of the OLAP sinks (DuckDB, ClickHouse, StarRocks): store-neutral pieces each sink
 * builds on. Not a public entry of its own: `weir/duckdb`, `weir/clickhouse` and `weir/starrocks`
 * re-export what users touch (the table options, column types, schema-change records).
 *
 *   schema.ts         column types, the table from records or declared columns, value checks
 *   changes.ts        fold a changelog per primary key (+I/+U upsert, -D delete, -U dropped)
 *   staged-writer.ts  the SinkWriter: buffer by rows/bytes/time, back-pressure, stage through a Stager
 *   topology.ts       key by the primary key when there are several writers
 *   schema-change.ts  schema-change records (add, drop, rename a column)
 *   metrics.ts        rows, bytes, flushes, commits, retries, commit latency
 *   retry.ts          retry with exponential backoff
 *
 * See README.md for buffering, exactly-once per store and reading while a job runs.
 */
export { COLUMN_TYPES, checkTableOptions, columnExtractor, deriveColumnType, resolveSchema, approximateRowBytes } from './schema.ts';
export type { ColumnType, ColumnTypeFor, ColumnsOf, OlapColumn, OlapTableOptions, OlapTableSchema } from './schema.ts';
export { ChangeFolder, type FoldedBatch } from './changes.ts';
export { StagedWriter, checkBufferOptions, DEFAULT_BUFFER } from './staged-writer.ts';
export type { BufferOptions, OlapCommittable, OlapInput, StageContext, StagedItem, Stager, StagedWriterOptions } from './staged-writer.ts';
export { keyByPrimaryKey, needsKeying } from './topology.ts';
export { applySchemaChange, isSchemaChangeRecord, type OlapSchemaChange, type SchemaChangeRecord } from './schema-change.ts';
export { OlapMetrics } from './metrics.ts';
export { withRetry, DEFAULT_STORE_RETRY, type RetryPolicy } from './retry.ts';
