/**
 * Jobs for bench/starrocks.bench.ts: generated rows into a StarRocks table (the loopback test
 * server) through the exactly-once StarRocks sink. `createdAt` is the wall-clock ms when the source
 * emitted the row (freshness); 0 in throughput runs.
 */
import { datagen, defineJob } from 'weir';
import { starrocksSink } from 'weir/starrocks';

export interface BenchRow {
  id: number;
  name: string;
  price: number;
  createdAt: number;
}

export interface StarRocksBenchParams {
  count: number;
  ratePerSecond?: number;
  stamp: boolean;
  feUrl: string;
  user: string;
  password: string;
  table: string;
  maxRows: number;
}

export function benchRow(i: number, stamp: boolean): BenchRow {
  return { id: i, name: `item-${i % 5000}`, price: i * 0.01, createdAt: stamp ? Date.now() : 0 };
}

export default defineJob(import.meta.url, (env, p: StarRocksBenchParams) => {
  env
    .fromSource(datagen({ name: 'rows', count: p.count, ...(p.ratePerSecond ? { ratePerSecond: p.ratePerSecond } : {}), generate: (i) => benchRow(i, p.stamp) }), { uid: 'rows' })
    .sinkTo(starrocksSink<BenchRow>({ feUrl: p.feUrl, database: 'bench', table: p.table, user: p.user, password: p.password, labelPrefix: p.table, buffer: { maxRows: p.maxRows } }), { uid: 'starrocks' });
});
