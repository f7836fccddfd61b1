/**
 * From MySQL CDC records to what the lake sink takes: `Change` rows, and schema changes as the
 * lake's own SchemaChange list (connectors/lake/sink/schema-change.ts applies them to the table).
 *
 *     env.fromSource(mysqlCdcSource({ ..., schemaChanges: 'evolve' }))
 *        .filter((r) => r.table === 'shop.orders')
 *        .map(cdcToLake)
 *        .sinkTo(lakeSink({ path, schema: lakeSchemaOf(ordersSchema) }));
 *
 * Types: TINYINT/SMALLINT/INT/BIGINT as themselves (MEDIUMINT and unsigned INT as BIGINT-safe
 * widenings, BIGINT UNSIGNED as DECIMAL(20,0)), DECIMAL(p,s), FLOAT, DOUBLE, BOOLEAN for BIT(1),
 * BYTES for binary types and BIT(n), TIMESTAMP(p) with local time zone for TIMESTAMP; everything
 * else as STRING (DATE, TIME and DATETIME keep MySQL's text).
 */
import type { Change } from '../../../operators/changelog.ts';
import type { SchemaChange, SchemaDefinition } from '../../lake/schema/schema.ts';
import type { LakeSchemaChange } from '../../lake/sink/schema-change.ts';
import { parseSqlType, type DataType } from '../../lake/schema/types.ts';
import type { CdcColumn, CdcRecord, CdcRow, CdcTableSchema } from './types.ts';
import { baseType } from './values.ts';

/** The Paimon type of a MySQL column type. */
export function lakeTypeOf(column: CdcColumn): DataType {
  const t = baseType(column.type);
  const unsigned = /unsigned/i.test(column.type);
  const args = /\(([^)]*)\)/.exec(column.type)?.[1];
  let sql: string;
  switch (t) {
    case 'tinyint': sql = unsigned ? 'SMALLINT' : 'TINYINT'; break;
    case 'smallint': sql = unsigned ? 'INT' : 'SMALLINT'; break;
    case 'mediumint': sql = 'INT'; break;
    case 'int': case 'integer': sql = unsigned ? 'BIGINT' : 'INT'; break;
    case 'bigint': sql = unsigned ? 'DECIMAL(20, 0)' : 'BIGINT'; break;
    case 'year': sql = 'INT'; break;
    case 'decimal': case 'numeric': sql = `DECIMAL(${args ?? '10, 0'})`; break;
    case 'float': sql = 'FLOAT'; break;
    case 'double': case 'real': sql = 'DOUBLE'; break;
    case 'bit': sql = args === undefined || args.trim() === '1' ? 'BOOLEAN' : 'BYTES'; break;
    case 'binary': case 'varbinary': case 'tinyblob': case 'blob': case 'mediumblob': case 'longblob': sql = 'BYTES'; break;
    case 'timestamp': sql = `TIMESTAMP(${args ?? '0'}) WITH LOCAL TIME ZONE`; break;
    default: sql = 'STRING';
  }
  return parseSqlType(column.nullable ? sql : `${sql} NOT NULL`);
}

/** A lake table definition for a CDC table (same columns, same primary key). */
export function lakeSchemaOf(schema: CdcTableSchema, options: Record<string, string> = { bucket: '2' }): SchemaDefinition {
  return { fields: schema.columns.map((c) => ({ name: c.name, type: lakeTypeOf(c) })), primaryKeys: [...schema.primaryKeys], options };
}

/**
 * A CDC record as the lake sink's input: a row change as a `Change`, a schema change as the lake's
 * changes (add, drop, rename column), or null for what a lake table has no change for (a table
 * created or dropped: one lake sink writes one table; a type change or TRUNCATE: not applied).
 */
export function cdcToLake(r: CdcRecord): Change<CdcRow> | LakeSchemaChange | null {
  if (r.kind !== 'schema') return { kind: r.kind, row: r.row };
  const c = r.change;
  let changes: SchemaChange[] = [];
  if (c.type === 'add-column') changes = [{ kind: 'addColumn', name: c.column.name, type: lakeTypeOf({ ...c.column, nullable: true }) }];
  else if (c.type === 'drop-column') changes = [{ kind: 'dropColumn', name: c.column }];
  else if (c.type === 'rename-column') changes = [{ kind: 'renameColumn', from: c.from, to: c.to }];
  else return null;
  return { kind: 'schema', lakeSchemaChanges: changes, tolerateFailure: r.tolerateFailure };
}
