/**
 * Type tests of the MySQL CDC source (`weir/mysql`): checked by `tsc --noEmit`, never run. Each
 * `@ts-expect-error` line must fail to compile.
 */
import { collectSink, defineJob, type DataStream } from 'weir';
import { mysqlCdcSource, type CdcRecord, type CdcRowChange, type CdcValue, type MySqlCdcOptions } from 'weir/mysql';

type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

const base = { host: 'db', user: 'cdc', databases: ['shop'] } as const satisfies MySqlCdcOptions;

export const job = defineJob(import.meta.url, (env) => {
  const changes = env.fromSource(mysqlCdcSource({ ...base, tables: /shop\.orders/, startup: 'initial', schemaChanges: 'evolve' }));
  type _records = Expect<Equal<typeof changes, DataStream<CdcRecord>>>;
  const amounts = changes.map((r) => {
    // narrowing on kind: a row change carries a row, a schema change a change event
    if (r.kind === 'schema') return { table: r.table, kind: r.change.type, v: r.ddl };
    const change: CdcRowChange = r;
    const v: CdcValue = change.row.amount ?? null;
    return { table: r.table, kind: r.kind, v: typeof v === 'bigint' ? v.toString() : String(v) };
  });
  amounts.sinkTo(collectSink<{ table: string; kind: string; v: string }>('x'));
  // @ts-expect-error a stream of CDC records does not go into a sink of numbers
  changes.sinkTo(collectSink<number>('y'));
  // @ts-expect-error a schema change has no row
  changes.map((r) => (r.kind === 'schema' ? r.row : null));
});

mysqlCdcSource({ ...base, startup: { file: 'binlog.000003', pos: 4 } });
mysqlCdcSource({ ...base, startup: { gtid: '0-1-100' } });
mysqlCdcSource({ ...base, startup: { timestamp: Date.now() }, routes: [{ source: /shop\.order_\d+/, sink: 'shop.orders', sourceTableColumn: 'shard' }] });
// @ts-expect-error startup is one of the named modes
mysqlCdcSource({ ...base, startup: 'earliest-offset' });
// @ts-expect-error a file position needs the file and the position
mysqlCdcSource({ ...base, startup: { file: 'binlog.000003' } });
// @ts-expect-error schema-change behaviours are Flink CDC's names
mysqlCdcSource({ ...base, schemaChanges: 'drop' });
// @ts-expect-error tables is a RegExp (the registry converts text)
mysqlCdcSource({ ...base, tables: 'shop.orders' });
// @ts-expect-error databases is required
mysqlCdcSource({ host: 'db', user: 'cdc' });
