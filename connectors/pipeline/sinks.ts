/**
 * One sink per sink table, from the pipeline's `sink` block, on Weir's exactly-once sinks:
 *
 *   paimon / lake  weir/lake: `<warehouse>/<db>.db/<table>` (Paimon's filesystem-catalog layout),
 *                  created with the table's columns and primary key and `table.properties.*`
 *   duckdb         weir/duckdb: table `<table>` in the database file (the sink table's name part)
 *   clickhouse     weir/clickhouse: `<database or db>.<table>`
 *   starrocks      weir/starrocks: `<db>.<table>` (the table must exist: Weir does not create
 *                  StarRocks tables)
 *
 * Row changes go out as Weir changelog records; column changes (add, drop, rename) as each sink's
 * schema-change record. Column types: see `olapColumnType` here and `lakeTypeOf` (connectors/mysql).
 */
import type { Change } from '../../operators/changelog.ts';
import type { DataStream } from '../../runtime/api/data-stream.ts';
import { ConfigError } from '../../runtime/errors.ts';
import { lakeSink } from '../lake/sink/index.ts';
import type { LakeSchemaChange } from '../lake/sink/schema-change.ts';
import { cdcToLake, lakeSchemaOf } from '../mysql/cdc/lake.ts';
import type { CdcColumn, CdcRecord, CdcRow, CdcTableSchema } from '../mysql/cdc/types.ts';
import type { ColumnType, ColumnsOf } from '../olap/schema.ts';
import type { OlapInput } from '../olap/staged-writer.ts';
import { duckdbSink } from '../duckdb/index.ts';
import { clickhouseSink } from '../clickhouse/index.ts';
import { starrocksSink } from '../starrocks/index.ts';
import type { SinkDefinition } from './definition.ts';

/** The OLAP column type of a MySQL column (values are the CDC source's, unchanged). */
export function olapColumnType(c: CdcColumn): ColumnType {
  const t = c.type.toLowerCase();
  const base = /^[a-z]+/.exec(t)?.[0] ?? t;
  const unsigned = t.includes('unsigned');
  switch (base) {
    case 'tinyint': case 'smallint': case 'mediumint': case 'year': return 'INTEGER';
    case 'int': case 'integer': return unsigned ? 'BIGINT' : 'INTEGER';
    case 'bigint': return 'BIGINT';
    case 'float': case 'double': case 'real': return 'DOUBLE';
    case 'bit': return /\(\s*1\s*\)/.test(t) || !t.includes('(') ? 'BOOLEAN' : 'BLOB';
    case 'binary': case 'varbinary': case 'tinyblob': case 'blob': case 'mediumblob': case 'longblob': return 'BLOB';
    case 'date': return 'DATE';
    // DECIMAL keeps its exact text; DATETIME, TIME, TIMESTAMP their text (as the CDC source gives them)
    default: return 'VARCHAR';
  }
}

/** `db.table` split; the table part must be an identifier for the OLAP stores. */
export function splitTable(table: string): { db: string; name: string } {
  const dot = table.indexOf('.');
  return { db: table.slice(0, dot), name: table.slice(dot + 1) };
}

/** A CDC record as an OLAP sink's input; null for what the sink has no change for. */
export function cdcToOlap(r: CdcRecord): OlapInput<CdcRow> | null {
  if (r.kind !== 'schema') return { kind: r.kind, row: r.row } satisfies Change<CdcRow>;
  const c = r.change;
  if (c.type === 'add-column') return { schemaChange: { kind: 'addColumn', column: c.column.name, type: olapColumnType(c.column) } };
  if (c.type === 'drop-column') return { schemaChange: { kind: 'dropColumn', column: c.column } };
  if (c.type === 'rename-column') return { schemaChange: { kind: 'renameColumn', from: c.from, to: c.to } };
  return null; // type changes, TRUNCATE, DROP TABLE, CREATE TABLE: not applied to the sink table
}

function olapTable(schema: CdcTableSchema, name: string): { table: string; primaryKey: string[]; columns: ColumnsOf<CdcRow> } {
  // A CDC row's fields are known only at run time (CdcRow's values are a union): the declared
  // types come from the MySQL columns, which is what ColumnsOf checks statically for typed rows.
  const columns = Object.fromEntries(schema.columns.map((c) => [c.name, olapColumnType(c)])) as unknown as ColumnsOf<CdcRow>;
  return { table: name, primaryKey: [...schema.primaryKeys], columns };
}

/** Adds the sink of one sink table to `stream` (the records of that table only). */
export function attachSink(stream: DataStream<CdcRecord>, sink: SinkDefinition, sinkTable: string, schema: CdcTableSchema): void {
  const uid = `sink-${sinkTable}`;
  const { db, name } = splitTable(sinkTable);
  switch (sink.type) {
    case 'lake': {
      const tableSchema = lakeSchemaOf(schema, { bucket: '2', ...sink.tableOptions });
      stream
        .flatMap<Change<CdcRow> | LakeSchemaChange>((r, out) => {
          const l = cdcToLake(r);
          if (l) out.collect(l);
        }, { name: `to-lake-${sinkTable}` })
        .sinkTo(lakeSink<CdcRow>({ path: `${sink.warehouse}/${db}.db/${name}`, schema: tableSchema, ...(sink.commitUser ? { commitUser: sink.commitUser } : {}) }), { uid, name: `lake ${sinkTable}` });
      return;
    }
    case 'duckdb':
    case 'clickhouse':
    case 'starrocks': {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`sink table '${sinkTable}'`, `'${name}' is not a table name ${sink.type} takes (letters, digits, _): add a route with another sink-table`);
      // The writer's columns are the table's at start. A writer restored after a column was added
      // (a failover after the ALTER's commit) would not know it: before the first row of each
      // table version, columns beyond those are announced again (a no-op where they are known;
      // DuckDB adds them IF NOT EXISTS).
      const declared = new Set(schema.columns.map((c) => c.name));
      const announced = new WeakSet<CdcTableSchema>();
      const olap = stream.flatMap<OlapInput<CdcRow>>((r, out) => {
        if (sink.type === 'duckdb' && r.kind !== 'schema' && !announced.has(r.schema)) {
          announced.add(r.schema);
          for (const c of r.schema.columns) if (!declared.has(c.name)) out.collect({ schemaChange: { kind: 'addColumn', column: c.name, type: olapColumnType(c) } });
        }
        const o = cdcToOlap(r);
        if (o) out.collect(o);
      }, { name: `to-${sink.type}-${sinkTable}` });
      const table = olapTable(schema, name);
      if (sink.type === 'duckdb') olap.sinkTo(duckdbSink<CdcRow>({ path: sink.path, sharedFile: true, ...table }), { uid, name: `duckdb ${sinkTable}` });
      else if (sink.type === 'clickhouse') {
        olap.sinkTo(clickhouseSink<CdcRow>({ url: sink.url, database: sink.database ?? db, ...(sink.username ? { user: sink.username } : {}), ...(sink.password ? { password: sink.password } : {}), ...table }), { uid, name: `clickhouse ${sinkTable}` });
      } else {
        olap.sinkTo(starrocksSink<CdcRow>({ feUrl: sink.feUrls, database: db, user: sink.username, password: sink.password, ...(sink.labelPrefix ? { labelPrefix: sink.labelPrefix } : {}), ...table }), { uid, name: `starrocks ${sinkTable}` });
      }
      return;
    }
  }
}
