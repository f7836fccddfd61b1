/**
 * DuckDB SQL for the sink: column types, DDL, the commit log table, the stage table that staged
 * batches are appended to (with the appender, FACTS.md: not single-row INSERTs; duckdb-process.mjs)
 * and how it is applied to the table.
 */
import type { ColumnType, OlapColumn, OlapTableSchema } from '../olap/schema.ts';
import type { OlapSchemaChange } from '../olap/schema-change.ts';

/** The commit log: a checkpoint's rows and its row here are committed in one transaction. */
export const COMMITS_TABLE = '_weir_commits';

const DUCKDB_TYPES: Record<ColumnType, string> = {
  BOOLEAN: 'BOOLEAN',
  INTEGER: 'INTEGER',
  BIGINT: 'BIGINT',
  DOUBLE: 'DOUBLE',
  VARCHAR: 'VARCHAR',
  TIMESTAMP: 'TIMESTAMP',
  DATE: 'DATE',
  BLOB: 'BLOB',
  JSON: 'VARCHAR', // JSON text; the json extension's type is not needed to query it (json_extract takes VARCHAR)
};

export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

export function duckdbType(t: ColumnType): string {
  return DUCKDB_TYPES[t];
}

function columnDdl(c: OlapColumn): string {
  return `${ident(c.name)} ${duckdbType(c.type)}${c.nullable ? '' : ' NOT NULL'}`;
}

export function createTableSql(schema: OlapTableSchema): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(schema.table)} (${schema.columns.map(columnDdl).join(', ')})`;
}

export function createCommitsSql(): string {
  return `CREATE TABLE IF NOT EXISTS ${COMMITS_TABLE} (commit_user VARCHAR NOT NULL, table_name VARCHAR NOT NULL, checkpoint_id BIGINT NOT NULL, commit_key VARCHAR NOT NULL, committed_at TIMESTAMP NOT NULL, rows_staged BIGINT NOT NULL)`;
}

export function schemaChangeSql(table: string, change: OlapSchemaChange): string {
  const t = ident(table);
  switch (change.kind) {
    case 'addColumn':
      // IF NOT EXISTS: a writer restored after the table gained the column announces it again
      return `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS ${ident(change.column)} ${duckdbType(change.type)}`;
    case 'dropColumn':
      return `ALTER TABLE ${t} DROP COLUMN ${ident(change.column)}`;
    case 'renameColumn':
      return `ALTER TABLE ${t} RENAME COLUMN ${ident(change.from)} TO ${ident(change.to)}`;
  }
}

/** The stage table of a commit: the table's columns (DATE as text, cast on the way in) plus delete flag and sequence. */
export const STAGE_TABLE = '_weir_stage';

export function createStageSql(schema: OlapTableSchema): string {
  const cols = schema.columns.map((c) => `${ident(c.name)} ${c.type === 'DATE' ? 'VARCHAR' : duckdbType(c.type)}`);
  return `CREATE OR REPLACE TEMP TABLE ${STAGE_TABLE} (${[...cols, '_weir_deleted BOOLEAN', '_weir_seq BIGINT'].join(', ')})`;
}

/**
 * Applies the stage table to the target: per key the row with the highest sequence number wins
 * (a later batch of the checkpoint over an earlier one), rows of deleted keys go, and the others
 * replace their key's row. Without a primary key every staged row is appended.
 */
export function applyStageSql(schema: OlapTableSchema, targetName: (column: string) => string | null = (c) => c): string[] {
  const t = ident(schema.table);
  // `targetName`: the stage's columns as the table names them now (after later renames; null: dropped since)
  const kept = schema.columns.filter((c) => targetName(c.name) !== null);
  const cols = kept.map((c) => ident(targetName(c.name)!));
  const values = kept.map((c) => (c.type === 'DATE' ? `CAST(${ident(c.name)} AS DATE)` : ident(c.name)));
  if (schema.primaryKey.length === 0) return [`INSERT INTO ${t} (${cols.join(', ')}) SELECT ${values.join(', ')} FROM ${STAGE_TABLE}`];
  const keys = schema.primaryKey.map(ident);
  const on = schema.primaryKey.map((k) => `${t}.${ident(targetName(k) ?? k)} = s.${ident(k)}`).join(' AND ');
  return [
    `DELETE FROM ${t} USING (SELECT DISTINCT ${keys.join(', ')} FROM ${STAGE_TABLE}) s WHERE ${on}`,
    `INSERT INTO ${t} (${cols.join(', ')}) SELECT ${values.join(', ')} FROM (SELECT *, row_number() OVER (PARTITION BY ${keys.join(', ')} ORDER BY _weir_seq DESC) AS _weir_rank FROM ${STAGE_TABLE}) WHERE _weir_rank = 1 AND NOT _weir_deleted`,
  ];
}
