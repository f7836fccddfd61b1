/**
 * The DuckDB sink (`weir/duckdb`), the embedded OLAP store of the demo: a stream of rows or
 * changelog records (+I/-U/+U/-D) into a DuckDB table, exactly once.
 *
 *     import { duckdbSink } from 'weir/duckdb';
 *
 *     revenue.sinkTo(duckdbSink<Revenue>({
 *       path: '.weir/olap.duckdb',            // the database file (created if missing)
 *       table: 'revenue_per_minute',          // created from the records if missing
 *       primaryKey: ['minute'],               // upsert/delete by key; without one: append-only
 *       columns: { minute: 'TIMESTAMP' },     // declared types; the other fields are derived
 *     }), { uid: 'revenue-duckdb' });
 *
 *     // while the job runs, from any process:  duckdb -readonly .weir/olap.read.duckdb
 *
 * Writers (any parallelism, keyed by the primary key when several) fold changes per key and stage
 * batches in files beside the database; at each completed checkpoint one committer applies them in
 * one DuckDB transaction with the checkpoint id (`_weir_commits`), then publishes a read-only copy.
 * See connectors/olap/README.md.
 */
import path from 'node:path';
import type { Sink, SinkInput, SinkTopologyContext } from '../../runtime/api/sink.ts';
import type { DataStream } from '../../runtime/api/data-stream.ts';
import type { CommitRetryPolicy } from '../../runtime/sink/contract.ts';
import { ConfigError } from '../../runtime/errors.ts';
import { checkTableOptions, type OlapTableOptions } from '../olap/schema.ts';
import { StagedWriter, checkBufferOptions, type BufferOptions, type OlapCommittable, type OlapInput } from '../olap/staged-writer.ts';
import { keyByPrimaryKey, needsKeying } from '../olap/topology.ts';
import { DuckDbCommitter } from './committer.ts';
import { FileStager, stagingDirOf } from './staging.ts';

export type { ColumnType, ColumnsOf, OlapTableOptions } from '../olap/schema.ts';
export type { BufferOptions, OlapInput } from '../olap/staged-writer.ts';
export type { OlapSchemaChange, SchemaChangeRecord } from '../olap/schema-change.ts';

export interface DuckDbSinkOptions<T> extends OlapTableOptions<T> {
  /** The database file. */
  path: string;
  /** Writer subtasks (default 1: one DuckDB file takes one committer anyway; more help when folding is the cost). */
  writers?: number;
  /** When writers stage what they hold (default 10,000 rows, 16 MiB, 1 s). */
  buffer?: BufferOptions;
  /**
   * The read-only copy published after each commit, for readers while the job runs (default: the
   * path with `.read` before `.duckdb`, or `<path>.read`); false: none (the file is readable only
   * when the job is not running).
   */
  readCopy?: string | false;
  /**
   * Other sinks write other tables of the same file (a pipeline writing many tables): the writer
   * process opens the file for each commit and closes it after, so their committers take turns
   * (DuckDB allows one writer process per file). Default false: the file stays open.
   */
  sharedFile?: boolean;
  /** Where writers stage batches until their checkpoint commits (default `<path>.staging`); must be visible to every task manager. */
  stagingDir?: string;
  commitRetry?: Partial<CommitRetryPolicy>;
}

export type DuckDbSink<T> = Sink<OlapInput<T>, OlapCommittable<string>, OlapInput<T>>;

export function defaultReadCopy(dbPath: string): string {
  return dbPath.endsWith('.duckdb') ? `${dbPath.slice(0, -'.duckdb'.length)}.read.duckdb` : `${dbPath}.read`;
}

export function duckdbSink<T>(options: DuckDbSinkOptions<T>): DuckDbSink<T> {
  const name = 'duckdb-sink';
  if (typeof options.path !== 'string' || options.path.length === 0) throw new ConfigError(`${name}.path`, 'the DuckDB sink needs the database file path');
  checkTableOptions(options, name);
  const writers = options.writers ?? 1;
  if (!Number.isInteger(writers) || writers < 1) throw new ConfigError(`${name}.writers`, `must be a positive integer, got ${options.writers}`);
  const buffer = checkBufferOptions(options.buffer ?? {}, name);
  const dbPath = path.resolve(options.path);
  const stagingDir = stagingDirOf(dbPath, options.table, options.stagingDir && path.resolve(options.stagingDir));
  const readCopy = options.readCopy === false ? undefined : path.resolve(options.readCopy ?? defaultReadCopy(dbPath));
  const table: OlapTableOptions<T> = { table: options.table, ...(options.primaryKey ? { primaryKey: options.primaryKey } : {}), ...(options.columns ? { columns: options.columns } : {}) };
  const sink: DuckDbSink<T> = {
    name,
    writerParallelism: writers,
    ...(options.commitRetry ? { commitRetry: options.commitRetry } : {}),
    createWriter: (ctx) => new StagedWriter<T, string>({ sink: name, table, buffer }, new FileStager(stagingDir), ctx),
    createGlobalCommitter: () => new DuckDbCommitter({ dbPath, table: options.table, stagingDir, readCopy, sink: name, sharedFile: options.sharedFile === true }),
  };
  if (!needsKeying(options.primaryKey, writers)) return sink;
  return {
    ...sink,
    addPreWriteTopology: (input: SinkInput<OlapInput<T>>, context: SinkTopologyContext): DataStream<OlapInput<T>> => keyByPrimaryKey(input, options.primaryKey!, context, name),
  };
}
