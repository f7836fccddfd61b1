/**
 * Schema changes that reach an OLAP sink in the stream, as CDC sources emit them (Flink CDC's
 * SchemaChangeEvent): a record `{ schemaChange: ... }` between the data changes. The sink applies it
 * in order with the data: rows before it are staged under the old schema, rows after it under the
 * new one, and the store's table changes in the same commit as the rows of that checkpoint.
 *
 * Weir's CDC source (branch `cdc`) was not on main when this was written, so this is the minimal
 * interface the OLAP sinks accept; a CDC event type can be mapped onto it with one `map`.
 * Stores apply what they can: DuckDB all three kinds, ClickHouse 18.16 adds and drops (it has no
 * RENAME COLUMN); an unsupported change fails the job with an error that names it.
 */
import { ConfigError } from '../../runtime/errors.ts';
import type { ColumnType, OlapTableSchema } from './schema.ts';

export type OlapSchemaChange =
  | { kind: 'addColumn'; column: string; type: ColumnType }
  | { kind: 'dropColumn'; column: string }
  | { kind: 'renameColumn'; from: string; to: string };

/** A schema change in a sink's input stream. */
export interface SchemaChangeRecord {
  schemaChange: OlapSchemaChange;
}

export function isSchemaChangeRecord(value: unknown): value is SchemaChangeRecord {
  return typeof value === 'object' && value !== null && 'schemaChange' in value && Object.keys(value).length === 1;
}

/** The schema after the change (the same object when it changes nothing: a column added again with its type); a ConfigError when it does not apply. */
export function applySchemaChange(schema: OlapTableSchema, change: OlapSchemaChange, sink: string): OlapTableSchema {
  const has = (name: string): boolean => schema.columns.some((c) => c.name === name);
  const fail = (why: string): never => {
    throw new ConfigError(`${sink} schema change ${JSON.stringify(change)}`, `${why} (table '${schema.table}' has ${schema.columns.map((c) => c.name).join(', ')})`);
  };
  switch (change.kind) {
    case 'addColumn': {
      // the same column again is no change (a restored writer is told of columns its table has)
      const existing = schema.columns.find((c) => c.name === change.column);
      if (existing && existing.type === change.type) return schema;
      if (existing) fail(`column '${change.column}' exists already as ${existing.type}`);
      return { ...schema, columns: [...schema.columns, { name: change.column, type: change.type, nullable: true }] };
    }
    case 'dropColumn':
      if (!has(change.column)) fail(`there is no column '${change.column}'`);
      if (schema.primaryKey.includes(change.column)) fail(`'${change.column}' is a primary-key column`);
      return { ...schema, columns: schema.columns.filter((c) => c.name !== change.column) };
    case 'renameColumn':
      if (!has(change.from)) fail(`there is no column '${change.from}'`);
      if (has(change.to)) fail(`column '${change.to}' exists already`);
      return {
        ...schema,
        columns: schema.columns.map((c) => (c.name === change.from ? { ...c, name: change.to } : c)),
        primaryKey: schema.primaryKey.map((k) => (k === change.from ? change.to : k)),
      };
  }
}
