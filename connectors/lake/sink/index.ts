/**
 * The lake sink: a stream into an Apache Paimon table, exactly once, as Flink's Paimon sink does it.
 *
 *     stream (rows or Change<row>)
 *       -> bucket router (chained to the input: canonical row + Paimon bucket)
 *       -> hash exchange on the bucket (each bucket has one writer)
 *       -> writers (parallel): buffer rows; at the barrier write files, emit CommitMessages ahead of it;
 *                              compact their buckets in the side-work pool between checkpoints
 *       -> committer (parallelism 1): when checkpoint n completes, commit its messages as one
 *                              snapshot with commitIdentifier n; expire old snapshots
 *
 *     changes.sinkTo(lakeSink<Order>({
 *       path: '.weir/lake/orders',                       // or 's3://bucket/warehouse/orders'
 *       schema: { fields: [...], primaryKeys: ['id'], options: { bucket: '4' } },   // used if missing
 *     }), { uid: 'orders-lake' });
 */
import type { Change } from '../../../operators/changelog.ts';
import type { Sink, SinkInput, SinkTopologyContext } from '../../../runtime/api/sink.ts';
import type { DataStream } from '../../../runtime/api/data-stream.ts';
import { ConfigError } from '../errors.ts';
import type { SchemaDefinition } from '../schema/schema.ts';
import type { ExpireOptions } from '../table/maintenance.ts';
import { LakeCommitter } from './committer.ts';
import { subtaskKeys, type BucketedRow, type LakeCommittable } from './records.ts';
import { BucketRouterOperator } from './router.ts';
import type { LakeTableLocation } from './table-access.ts';
import { LakeWriter } from './writer.ts';
import type { LakeSchemaChange } from './schema-change.ts';

export { openLakeTable, type LakeTableLocation } from './table-access.ts';
export type { LakeSchemaChange } from './schema-change.ts';

export interface LakeSinkOptions extends LakeTableLocation {
  /** The schema to create the table with when there is none at `path` (Paimon options in `options`, e.g. `bucket`). */
  schema?: SchemaDefinition;
  /** Writer subtasks (default: the sink's parallelism). Buckets are dealt to them as bucket % writers. */
  writers?: number;
  /** The commit user of the first run; later runs take it from the checkpoint. Default a random one. */
  commitUser?: string;
  /** Rows a writer buffers before it writes files ahead of the barrier (default 200,000): bounds memory and the work left for the barrier. */
  writeBufferRows?: number;
  /** Compact buckets with `num-sorted-run.compaction-trigger` sorted runs in the background (default true). */
  compaction?: boolean;
  /** Expire snapshots after every this many commits (default 10; 0: never), with these retention settings (default: the table's). */
  expireEvery?: number;
  expire?: ExpireOptions;
}

/** Rows, Change records, and (from a CDC source) schema changes in order with them (sink/schema-change.ts). */
export type LakeSink<T> = Sink<T | Change<T> | LakeSchemaChange, LakeCommittable, BucketedRow>;

/**
 * A sink writing rows (as +I) or Change<T> records (+I/-U/+U/-D) into a Paimon table. The router
 * runs at the sink's parallelism (`sinkTo(..., { parallelism })`); keep it equal to the input's so
 * the changes of one key stay in order.
 */
export function lakeSink<T>(options: LakeSinkOptions): LakeSink<T> {
  if (!options.path) throw new ConfigError('path', 'the lake sink needs the table directory: a local path or s3://bucket/path');
  const location: LakeTableLocation = { path: options.path, ...(options.s3 ? { s3: options.s3 } : {}), ...(options.lock ? { lock: options.lock } : {}) };
  const writeBufferRows = options.writeBufferRows ?? 200_000;
  if (!Number.isInteger(writeBufferRows) || writeBufferRows < 1) throw new ConfigError('writeBufferRows', `must be a positive integer, got ${writeBufferRows}`);
  if (options.writers !== undefined && !(Number.isInteger(options.writers) && options.writers >= 1)) throw new ConfigError('writers', `must be a positive integer, got ${options.writers}`);
  return {
    name: 'lake-sink',
    writerParallelism: options.writers,
    addPreWriteTopology(stream: SinkInput<T | Change<T> | LakeSchemaChange>, context: SinkTopologyContext): DataStream<BucketedRow> {
      const opts = context.options;
      const base = opts.name ?? 'lake-sink';
      const uid = opts.uid ?? base;
      const writers = options.writers ?? context.parallelism;
      const keys = subtaskKeys(writers, context.maxParallelism);
      let unaware = 0;
      const routed = stream.transform<BucketedRow>(`${base}-router`, () => new BucketRouterOperator<T>(`${base}-router`, location, options.schema, writers), {
        uid: `${uid}-router`,
        ...(opts.parallelism ? { parallelism: opts.parallelism } : {}),
        ...(opts.slotSharingGroup ? { slotSharingGroup: opts.slotSharingGroup } : {}),
      });
      return routed.keyBy((r) => keys[r.__bucket >= 0 ? r.__bucket % writers : unaware++ % writers]!);
    },
    createWriter: (ctx) => LakeWriter.create({ location, schema: options.schema, compaction: options.compaction ?? true, writeBufferRows }, ctx),
    createGlobalCommitter: () =>
      new LakeCommitter({ location, schema: options.schema, commitUser: options.commitUser, expireEvery: options.expireEvery ?? 10, expire: options.expire ?? {} }),
  };
}
