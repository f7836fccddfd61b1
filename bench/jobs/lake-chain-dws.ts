/**
 * The second job of bench/lake-chain.bench.ts: streams the ODS orders table's changelog (lookup
 * producer), keeps per region the order count, quantity and the newest `createdAt` it has seen, and
 * upserts them into a DWS table, so a reader of the DWS table can tell how old the newest event in
 * each committed row is.
 */
import { defineJob } from 'weir';
import { lakeSink, lakeSource, T } from 'weir/lake';
import type { BenchOrder } from './lake.ts';

export interface RegionTotal {
  region: string;
  orders: number;
  qty: number;
  newestCreatedAt: number;
}

type Acc = { orders: number; qty: number; newest: number };

export default defineJob(import.meta.url, (env, p: { from: string; to: string }) => {
  env
    .fromSource(lakeSource<BenchOrder>({ path: p.from, mode: 'streaming', pollIntervalMs: 20 }), { uid: 'ods-changelog' })
    .keyBy((c) => `${c.row.region}-${Number(c.row.id) % 64}`)
    .aggregateChangelog(
      {
        createAccumulator: (): Acc => ({ orders: 0, qty: 0, newest: 0 }),
        add: (o: BenchOrder, a: Acc): Acc => ({ orders: a.orders + 1, qty: a.qty + o.qty, newest: Math.max(a.newest, Number(o.createdAt)) }),
        retract: (o: BenchOrder, a: Acc): Acc => ({ orders: a.orders - 1, qty: a.qty - o.qty, newest: a.newest }),
        getResult: (a: Acc, region: string): RegionTotal => ({ region, orders: a.orders, qty: a.qty, newestCreatedAt: a.newest }),
      },
      { uid: 'region-totals' },
    )
    .sinkTo(
      lakeSink<RegionTotal>({
        path: p.to,
        schema: {
          fields: [{ name: 'region', type: T.notNull(T.string()) }, { name: 'orders', type: T.int() }, { name: 'qty', type: T.bigint() }, { name: 'newestCreatedAt', type: T.bigint() }],
          primaryKeys: ['region'],
          options: { bucket: '2' },
        },
      }),
      { uid: 'region-totals-lake' },
    );
});
