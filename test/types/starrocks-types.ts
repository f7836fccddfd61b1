/**
 * Type tests of `weir/starrocks` (checked by tsc, never run): each `@ts-expect-error` line must fail
 * to compile, the others must compile.
 */
import { datagen, defineJob, type Change } from 'weir';
import { starrocksSink, type StarRocksSink, type StarRocksSinkOptions } from 'weir/starrocks';

type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

interface Revenue {
  minute: number;
  shop: string;
  cents: number;
}

const connection = { feUrl: 'http://fe:8030', database: 'shop', user: 'loader', password: 'secret' } as const;

const revenue = starrocksSink<Revenue>({ ...connection, table: 'revenue', primaryKey: ['minute', 'shop'], columns: { minute: 'TIMESTAMP', cents: 'BIGINT' } });
export type RevenueSinkType = Expect<Equal<typeof revenue, StarRocksSink<Revenue>>>;

starrocksSink<Revenue>({ ...connection, table: 'revenue', semantic: 'at-least-once', format: 'csv', partialUpdate: true, primaryKey: ['shop'], buffer: { maxRows: 1000 } });

// @ts-expect-error the primary key names fields of the record
starrocksSink<Revenue>({ ...connection, table: 'revenue', primaryKey: ['day'] });
// @ts-expect-error a string field cannot be declared an INTEGER column
starrocksSink<Revenue>({ ...connection, table: 'revenue', columns: { shop: 'INTEGER' } });
// @ts-expect-error StarRocks Stream Load takes json or csv
starrocksSink<Revenue>({ ...connection, table: 'revenue', format: 'parquet' });
// @ts-expect-error the semantic is exactly-once or at-least-once
starrocksSink<Revenue>({ ...connection, table: 'revenue', semantic: 'none' });
// @ts-expect-error the password is required (an empty string for a user without one)
export const noPassword: StarRocksSinkOptions<Revenue> = { feUrl: 'http://fe:8030', database: 'shop', user: 'loader', table: 'revenue' };

export const job = defineJob(import.meta.url, (env) => {
  const rows = env.fromSource(datagen({ name: 'r', count: 10, generate: (i): Revenue => ({ minute: i, shop: 's', cents: i }) }));
  rows.sinkTo(revenue); // rows
  rows.map((r): Change<Revenue> => ({ kind: '+U', row: r })).sinkTo(revenue); // a changelog of them
  // @ts-expect-error a stream of other records does not fit
  rows.map((r) => ({ minute: String(r.minute) })).sinkTo(revenue);
});
