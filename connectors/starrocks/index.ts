/**
 * `weir/starrocks`: a StarRocks sink over HTTP (Stream Load and the Stream Load transaction
 * interface), exactly-once by default, as the StarRocks Flink connector does it.
 *
 *     import { starrocksSink } from 'weir/starrocks';
 *     revenue.sinkTo(starrocksSink<Revenue>({
 *       feUrl: 'http://fe:8030', database: 'shop', table: 'revenue_per_minute',
 *       user: 'loader', password: process.env.SR_PASSWORD!,
 *       primaryKey: ['minute'],                 // a Primary Key table: upserts and deletes
 *     }), { uid: 'revenue-starrocks' });
 *
 * Records are rows (`T`, inserted or upserted), changelog records (`Change<T>`: +I/+U upsert, -D
 * deletes, -U dropped). Built on the shared OLAP sink base (connectors/olap). See README.md for
 * options, the protocol, and what the tests run against.
 */
import type { Sink, SinkInput, SinkTopologyContext } from '../../runtime/api/sink.ts';
import type { DataStream } from '../../runtime/api/data-stream.ts';
import type { OlapTableOptions } from '../olap/schema.ts';
import { StagedWriter, type OlapInput } from '../olap/staged-writer.ts';
import { keyByPrimaryKey, needsKeying } from '../olap/topology.ts';
import { StreamLoadClient } from './http-client.ts';
import { resolveOptions, SINK, type StarRocksSinkOptions, type ResolvedOptions } from './options.ts';
import { ExactlyOnceWriter, type StarRocksCommittable } from './exactly-once-writer.ts';
import { StreamLoadStager } from './stagers.ts';
import { StarRocksCommitter } from './committer.ts';

export type { StarRocksSinkOptions } from './options.ts';
export type { StarRocksCommittable } from './exactly-once-writer.ts';
export type { RetryPolicy } from './http-client.ts';
export type { ColumnType, ColumnsOf, OlapTableOptions } from '../olap/schema.ts';
export type { BufferOptions, OlapInput } from '../olap/staged-writer.ts';
export { StarRocksError, type StarRocksAnswer } from './errors.ts';
export { transactionLabel } from './labels.ts';

export type StarRocksSink<T> = Sink<OlapInput<T>, StarRocksCommittable, OlapInput<T>>;

function client(o: ResolvedOptions, onRetry?: () => void): StreamLoadClient {
  return new StreamLoadClient({ feUrls: o.feUrls, user: o.user, password: o.password, retry: o.retry, requestTimeoutMs: o.requestTimeoutMs, ...(onRetry ? { onRetry } : {}) });
}

/** A StarRocks sink of rows `T`, changelog records of them, or schema changes (refused: see README). */
export function starrocksSink<T>(options: StarRocksSinkOptions<T>): StarRocksSink<T> {
  const o = resolveOptions(options);
  const table: OlapTableOptions<T> = { table: options.table, ...(options.primaryKey ? { primaryKey: options.primaryKey } : {}), ...(options.columns ? { columns: options.columns } : {}) };
  const base = {
    name: SINK,
    ...(o.writers !== undefined ? { writerParallelism: o.writers } : {}),
    ...(options.commitRetry ? { commitRetry: options.commitRetry } : {}),
  };
  const sink: StarRocksSink<T> =
    o.semantic === 'at-least-once'
      ? {
          ...base,
          // no committer: each Stream Load is visible when it returns; the barrier only sends what is held
          createWriter: (ctx) => {
            const writer = new StagedWriter<T, number>({ sink: SINK, table, buffer: o.buffer, retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0 } }, new StreamLoadStager(o, client(o, () => ctx.metrics.count('olap-retries')), ctx), ctx);
            return { write: writer.write, prepareCommit: (id, end) => writer.prepareCommit(id, end).then(() => []), close: () => writer.close() };
          },
        }
      : {
          ...base,
          createWriter: (ctx) => ExactlyOnceWriter.create<T>(o, table, client(o, () => ctx.metrics.count('olap-retries')), ctx),
          createCommitter: () => new StarRocksCommitter(client(o)),
        };
  // With several writers, all changes of a key go to one writer, in order (as the other OLAP sinks do).
  const keyed = (writers: number): boolean => needsKeying(options.primaryKey, writers);
  if (!options.primaryKey || options.primaryKey.length === 0) return sink;
  return {
    ...sink,
    addPreWriteTopology: (input: SinkInput<OlapInput<T>>, context: SinkTopologyContext): DataStream<OlapInput<T>> =>
      // the input of a pre-write topology is the stream itself: with one writer it goes on unkeyed (no shuffle to pay for)
      keyed(o.writers ?? context.options.parallelism ?? context.parallelism) ? keyByPrimaryKey(input, options.primaryKey!, context, SINK) : (input as unknown as DataStream<OlapInput<T>>),
  };
}
