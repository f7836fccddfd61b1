/**
 * Jobs for bench/lake.bench.ts: generated order rows into a Paimon primary-key table through the lake
 * sink. `throughput`: as fast as possible, `count` rows; `freshness`: rate-limited rows stamped with
 * the wall-clock time they left the source; `files`: rate-limited, unbounded, into a table
 * partitioned by region.
 */
import { datagen, defineJob } from 'weir';
import { lakeSink, type SchemaDefinition, T } from 'weir/lake';

export interface BenchOrder {
  id: number;
  region: string;
  name: string;
  price: number;
  qty: number;
  /** Wall-clock ms when the source emitted the row (freshness). */
  createdAt: number;
}

export function orderSchema(partitioned: boolean, options: Record<string, string> = {}): SchemaDefinition {
  return {
    fields: [
      { name: 'id', type: T.notNull(T.bigint()) },
      { name: 'region', type: T.notNull(T.string()) },
      { name: 'name', type: T.string() },
      { name: 'price', type: T.double() },
      { name: 'qty', type: T.int() },
      { name: 'createdAt', type: T.bigint() },
    ],
    primaryKeys: partitioned ? ['region', 'id'] : ['id'],
    partitionKeys: partitioned ? ['region'] : [],
    options: { bucket: '4', 'file.compression': 'zstd', ...options },
  };
}

export function benchOrder(i: number, keys: number, stamp: boolean): BenchOrder {
  const id = (i * 7919) % keys;
  return { id, region: id % 2 === 0 ? 'eu' : 'us', name: `item-${i % 5000}`, price: i * 0.01, qty: i % 100, createdAt: stamp ? Date.now() : 0 };
}

export type LakeBenchParams = {
  kind: 'throughput' | 'freshness' | 'files';
  path: string;
  count?: number;
  keys: number;
  ratePerSecond?: number;
  parallelism: number;
  compaction?: boolean;
  tableOptions?: Record<string, string>;
};

export default defineJob(import.meta.url, (env, params: LakeBenchParams) => {
  const stamp = params.kind !== 'throughput';
  env
    .fromSource(
      datagen({
        name: 'orders',
        ...(params.count !== undefined ? { count: params.count } : {}),
        ...(params.ratePerSecond ? { ratePerSecond: params.ratePerSecond } : {}),
        generate: (i) => benchOrder(i, params.keys, stamp),
      }),
      { uid: 'orders', parallelism: params.parallelism },
    )
    .sinkTo(lakeSink<BenchOrder>({ path: params.path, schema: orderSchema(params.kind === 'files', params.tableOptions ?? {}), writers: params.parallelism, compaction: params.compaction ?? true }), {
      uid: 'orders-lake',
      parallelism: params.parallelism,
    });
});
