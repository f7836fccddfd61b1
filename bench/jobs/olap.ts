/**
 * Jobs for bench/olap.bench.ts: generated rows into an append-only table of DuckDB or ClickHouse
 * through the OLAP sinks. `throughput`: as fast as possible, `count` rows staged in batches of
 * `batch` rows; `freshness`: rate-limited rows stamped with the wall-clock time they left the source.
 */
import { datagen, defineJob } from 'weir';
import { clickhouseSink } from 'weir/clickhouse';
import { duckdbSink } from 'weir/duckdb';

export interface OlapBenchRow {
  id: number;
  region: string;
  name: string;
  price: number;
  qty: number;
  /** Wall-clock ms when the source emitted the row (freshness). */
  createdAt: number;
}

export const OLAP_BENCH_COLUMNS = { id: 'BIGINT', region: 'VARCHAR', name: 'VARCHAR', price: 'DOUBLE', qty: 'INTEGER', createdAt: 'BIGINT' } as const;

export function olapBenchRow(i: number, stamp: boolean): OlapBenchRow {
  return { id: i, region: i % 2 === 0 ? 'eu' : 'us', name: `item-${i % 5000}`, price: i * 0.01, qty: i % 100, createdAt: stamp ? Date.now() : 0 };
}

export type OlapBenchParams = {
  store: 'duckdb' | 'clickhouse';
  kind: 'throughput' | 'freshness';
  count: number;
  batch: number;
  ratePerSecond?: number;
  /** DuckDB file / ClickHouse URL and table. */
  path?: string;
  url?: string;
  table: string;
};

export default defineJob(import.meta.url, (env, p: OlapBenchParams) => {
  const stamp = p.kind === 'freshness';
  const rows = env.fromSource(
    datagen({ name: 'rows', count: p.count, splits: 1, ...(p.ratePerSecond ? { ratePerSecond: p.ratePerSecond } : {}), generate: (i) => olapBenchRow(i, stamp) }),
    { uid: 'rows', parallelism: 1 },
  );
  const buffer = { maxRows: p.batch, maxBytes: 1 << 30, flushIntervalMs: stamp ? 200 : 0 };
  if (p.store === 'duckdb') rows.sinkTo(duckdbSink<OlapBenchRow>({ path: p.path!, table: p.table, columns: OLAP_BENCH_COLUMNS, buffer }), { uid: 'olap', parallelism: 1 });
  else rows.sinkTo(clickhouseSink<OlapBenchRow>({ url: p.url!, table: p.table, columns: OLAP_BENCH_COLUMNS, buffer }), { uid: 'olap', parallelism: 1 });
});
