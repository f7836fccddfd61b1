/**
 * `stream.lookupJoin(table, options)`: enrich each record with rows of an external table, looked up
 * by key with async I/O (see operators/join/async-lookup-join.ts for the semantics).
 *
 *     const rooms = mysqlLookupTable<number, Room>({ url, table: 'rooms', keyColumns: ['id'] });
 *     gifts.lookupJoin(rooms, {
 *       key: (g) => g.roomId,
 *       join: (g, room) => ({ ...g, roomName: room?.name ?? null }),
 *       kind: 'left', mode: 'unordered', capacity: 100, timeoutMs: 1000,
 *       retry: { attempts: 3, backoffMs: 50 },
 *       cache: { kind: 'partial', maxRows: 10_000, ttlMs: 60_000 },
 *     });
 */
import { AsyncLookupJoinOperator, type AsyncLookupSpec, type LookupRetry } from '../../operators/join/async-lookup-join.ts';
import type { LookupCacheOptions } from '../../operators/join/lookup-cache.ts';
import type { LookupTable } from '../../operators/join/lookup-table.ts';
import type { StateKey } from '../../state/key-groups.ts';
import type { DataStream, OperatorOptions, SingleOutputStream } from './data-stream.ts';

export interface LookupJoinOptions<T, K extends StateKey, D, R> extends OperatorOptions {
  key(value: T): K;
  /** Called once per row found; in a left join also once with null when there is none. */
  join(value: T, row: D | null): R;
  /** inner (default): records without rows are dropped; left: joined with null. */
  kind?: 'inner' | 'left';
  /** ordered (default): output in input order; unordered: as lookups complete (faster with slow keys). */
  mode?: 'ordered' | 'unordered';
  /** Lookups in flight per subtask (default 100). */
  capacity?: number;
  /** Per attempt (default 5000 ms). */
  timeoutMs?: number;
  retry?: Partial<LookupRetry>;
  /** Default: no cache. */
  cache?: LookupCacheOptions;
}

export function lookupJoin<T, K extends StateKey, D, R>(stream: DataStream<T>, table: LookupTable<K, D>, options: LookupJoinOptions<T, K, D, R>): SingleOutputStream<R> {
  const name = options.name ?? `lookup-join:${table.name}`;
  const spec: AsyncLookupSpec<T, K, D, R> = {
    table,
    key: options.key,
    join: options.join,
    kind: options.kind ?? 'inner',
    mode: options.mode ?? 'ordered',
    capacity: options.capacity ?? 100,
    timeoutMs: options.timeoutMs ?? 5000,
    retry: { attempts: options.retry?.attempts ?? 3, backoffMs: options.retry?.backoffMs ?? 100, maxBackoffMs: options.retry?.maxBackoffMs ?? 5000 },
    cache: options.cache ?? { kind: 'none' },
  };
  // Built once here so that a bad setting fails at job definition, naming the setting.
  new AsyncLookupJoinOperator<T, K, D, R>(name, spec);
  return stream.transform<R>(name, () => new AsyncLookupJoinOperator<T, K, D, R>(name, spec), options);
}
