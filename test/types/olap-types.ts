/**
 * Type tests of the OLAP sink entries (`weir/duckdb`, `weir/clickhouse`): checked by `tsc --noEmit`,
 * never run. Each `@ts-expect-error` line must fail to compile.
 */
import { datagen, defineJob, type Change, type Sink } from 'weir';
import { clickhouseSink, type ClickHouseSinkOptions } from 'weir/clickhouse';
import { duckdbSink, type ColumnsOf, type OlapInput } from 'weir/duckdb';

interface Order {
  id: bigint;
  customer: string;
  amount: number;
  at: Date;
  tags: string[];
}

type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

const ok = duckdbSink<Order>({ path: 'x.duckdb', table: 'orders', primaryKey: ['id'], columns: { amount: 'DOUBLE', at: 'TIMESTAMP', tags: 'JSON' } });
export type SinkInputIsTyped = Expect<Equal<typeof ok extends Sink<infer T, infer _C, infer _W> ? T : never, OlapInput<Order>>>;
export type InputTakesRowsChangesAndSchemaChanges = Expect<Equal<OlapInput<Order>, Order | Change<Order> | { schemaChange: import('weir/duckdb').OlapSchemaChange }>>;

// @ts-expect-error a primary key that is not a field
duckdbSink<Order>({ path: 'x.duckdb', table: 'orders', primaryKey: ['nope'] });
// @ts-expect-error a string field declared as a number column
duckdbSink<Order>({ path: 'x.duckdb', table: 'orders', columns: { customer: 'BIGINT' } });
// @ts-expect-error a column for a field the record does not have
duckdbSink<Order>({ path: 'x.duckdb', table: 'orders', columns: { other: 'VARCHAR' } });
// @ts-expect-error a type that is not a column type
duckdbSink<Order>({ path: 'x.duckdb', table: 'orders', columns: { amount: 'FLOAT8' } });
// @ts-expect-error the DuckDB sink needs a path
duckdbSink<Order>({ table: 'orders' });

export const numberColumns: ColumnsOf<{ n: number }>[] = [{ n: 'INTEGER' }, { n: 'BIGINT' }, { n: 'DOUBLE' }, { n: 'TIMESTAMP' }];

const ch: ClickHouseSinkOptions<Order> = { url: 'http://127.0.0.1:8123', table: 'orders', primaryKey: ['id', 'customer'], columns: { id: 'BIGINT' } };
clickhouseSink<Order>(ch);
// @ts-expect-error the ClickHouse sink needs the url
clickhouseSink<Order>({ table: 'orders' });
// @ts-expect-error a bigint field cannot be a DOUBLE column
clickhouseSink<Order>({ url: 'http://h:8123', table: 'orders', columns: { id: 'DOUBLE' } });

export default defineJob(import.meta.url, (env) => {
  const orders = env.fromSource(datagen<Order>({ count: 1, generate: (i) => ({ id: BigInt(i), customer: 'c', amount: 1, at: new Date(0), tags: [] }) }));
  orders.sinkTo(ok);
  orders.map((o): Change<Order> => ({ kind: '+U', row: o })).sinkTo(ok);
  orders.map((o) => ({ id: o.id })).sinkTo(
    // @ts-expect-error a stream of other records into a sink of Order
    ok,
  );
});
