/**
 * The lake source: an Apache Paimon table as a stream.
 *
 *     // bounded: the latest snapshot (or `snapshotId`), buckets spread over the subtasks
 *     env.fromSource(lakeSource<Order>({ path, mode: 'batch' }))
 *     // unbounded: the latest snapshot's rows as +I, then each new snapshot's changes
 *     env.fromSource(lakeSource<Order>({ path, mode: 'streaming', pollIntervalMs: 500 }))   // DataStream<Change<Order>>
 *
 * Rows are objects keyed by field name with the lake library's JS values (BIGINT and timestamps as
 * bigint, decimals as strings, dates as days). Each bucket is a split (enumerator.ts): subtask i reads
 * buckets b with b % parallelism == i, and a bucket's position is its split's state in the checkpoint,
 * so a restore (also at another parallelism) resumes at the row it stopped at.
 */
import type { Change } from '../../../operators/changelog.ts';
import type { Source } from '../../../runtime/source/contract.ts';
import { LakeSplitEnumerator, type LakeEnumeratorState } from './enumerator.ts';
import type { LakeBucketSplit } from './positions.ts';
import { ConfigError } from '../errors.ts';
import type { LakeTableLocation } from '../sink/table-access.ts';
import { LakeSourceReader, type LakeReadSettings } from './reader.ts';
import type { Condition } from '../table/read.ts';

interface LakeSourceCommon extends LakeTableLocation {
  name?: string;
}

export interface LakeBatchSourceOptions extends LakeSourceCommon {
  mode: 'batch';
  /** The snapshot to read (time travel); default the latest when each reader starts. */
  snapshotId?: number;
  /**
   * Only rows matching every condition, e.g. `[{ field: 'day', op: '>=', value: 19000 }]`: partitions,
   * buckets and files whose statistics exclude a match are not read (README "Streaming lakehouse").
   */
  filter?: Condition[];
}

export interface LakeStreamingSourceOptions extends LakeSourceCommon {
  mode: 'streaming';
  /** 'initial' (default): the latest snapshot's content, then changes; 'latest': only changes after it. */
  startFrom?: 'initial' | 'latest';
  /** Start with the changes after this snapshot (overrides startFrom). */
  afterSnapshotId?: number;
  /** How often to look for new snapshots (default 1000 ms). */
  pollIntervalMs?: number;
  /**
   * Paimon's `consumer-id`: the source records the next snapshot it needs in the table's
   * `consumer/consumer-<id>` at each completed checkpoint, and snapshot expiration keeps it and later
   * ones (until the consumer is idle for the table's `consumer.expiration-time`).
   */
  consumerId?: string;
}

export type LakeSourceOptions = LakeBatchSourceOptions | LakeStreamingSourceOptions;

export type LakeSource<T> = Source<T, LakeBucketSplit, LakeEnumeratorState>;

export function lakeSource<T>(options: LakeBatchSourceOptions): LakeSource<T>;
export function lakeSource<T>(options: LakeStreamingSourceOptions): LakeSource<Change<T>>;
export function lakeSource<T>(options: LakeSourceOptions): LakeSource<T> | LakeSource<Change<T>> {
  if (!options.path) throw new ConfigError('path', 'the lake source needs the table directory: a local path or s3://bucket/path');
  const bounded = options.mode === 'batch';
  if (!bounded && options.mode !== 'streaming') throw new ConfigError('mode', `must be 'batch' or 'streaming', got '${String((options as { mode: unknown }).mode)}'`);
  const location: LakeTableLocation = { path: options.path, ...(options.s3 ? { s3: options.s3 } : {}), ...(options.lock ? { lock: options.lock } : {}) };
  const settings: LakeReadSettings = {
    location,
    bounded,
    snapshotId: options.mode === 'batch' ? options.snapshotId : options.afterSnapshotId,
    startFrom: options.mode === 'streaming' ? (options.startFrom ?? 'initial') : 'initial',
    pollIntervalMs: options.mode === 'streaming' ? (options.pollIntervalMs ?? 1000) : 1000,
    ...(options.mode === 'streaming' && options.consumerId !== undefined ? { consumerId: checkConsumerId(options.consumerId) } : {}),
    ...(options.mode === 'batch' && options.filter !== undefined ? { filter: options.filter } : {}),
  };
  const source: LakeSource<T | Change<T>> = {
    name: options.name ?? `lake-source(${options.path})`,
    bounded,
    createEnumerator: (ctx) => new LakeSplitEnumerator(ctx, settings),
    restoreEnumerator: (ctx, state) => new LakeSplitEnumerator(ctx, settings, state),
    createReader: (ctx) => new LakeSourceReader<T>(settings, ctx),
  };
  return source as LakeSource<T> | LakeSource<Change<T>>;
}

function checkConsumerId(id: string): string {
  if (!/^[\w.-]+$/.test(id)) throw new ConfigError('consumerId', `'${id}' must be letters, digits, '_', '.' or '-' (it names a file)`);
  return id;
}
