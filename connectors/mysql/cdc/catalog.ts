/**
 * What the enumerator and the snapshot readers ask the server: connections, the checks before a
 * job starts (credentials, grants, binlog settings, each named in the error), the captured tables
 * and their shapes, chunk split points, and binlog positions.
 */
import type mysql from 'mysql2/promise';
import { ConfigError, ExternalError } from '../../../runtime/errors.ts';
import { evenSplitPoints, isSplittableKeyType, toBound, chunksFromSplitPoints } from './chunks.ts';
import type { BinlogPosition, CdcTableSchema, ChunkBound, MySqlCdcOptions, SnapshotSplit } from './types.ts';
import { isSupportedType, converterFor } from './values.ts';

export function where(o: MySqlCdcOptions): string {
  return `${o.user}@${o.host}:${o.port ?? 3306}`;
}

export function connectionConfig(o: MySqlCdcOptions) {
  return {
    host: o.host,
    port: o.port ?? 3306,
    user: o.user,
    password: o.password ?? '',
    connectTimeout: o.connectTimeoutMs ?? 10_000,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    // JSON as its text (MariaDB keeps JSON as text; the binlog has that text)
    jsonStrings: true,
    timezone: 'Z',
  };
}

/** A mysql2 error as a WeirError that says what to do. */
export function explainMysqlError(o: MySqlCdcOptions, e: unknown, doing: string): ExternalError {
  const err = e as { code?: string; errno?: number; message?: string };
  const msg = err.message ?? String(e);
  switch (err.code) {
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
      return new ExternalError(`MySQL CDC: ${where(o)} rejected the user or password while ${doing}: check 'user' and 'password' (${msg})`, { cause: e, retriable: false });
    case 'ER_TABLEACCESS_DENIED_ERROR':
    case 'ER_COLUMNACCESS_DENIED_ERROR':
      return new ExternalError(`MySQL CDC: user '${o.user}' may not read a captured table while ${doing}: GRANT SELECT ON <db>.* TO '${o.user}' (${msg})`, { cause: e, retriable: false });
    case 'ER_SPECIFIC_ACCESS_DENIED_ERROR':
      return new ExternalError(
        `MySQL CDC: user '${o.user}' lacks a privilege while ${doing}: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${o.user}' (MariaDB 10.5+ calls REPLICATION CLIENT 'BINLOG MONITOR') (${msg})`,
        { cause: e, retriable: false },
      );
    case 'ECONNREFUSED':
    case 'ETIMEDOUT':
    case 'ENOTFOUND':
      return new ExternalError(`MySQL CDC: cannot reach ${o.host}:${o.port ?? 3306} while ${doing} (${err.code}): check host and port, and that the server runs`, { cause: e, retriable: true });
    default:
      return new ExternalError(`MySQL CDC: ${doing} at ${where(o)} failed: ${msg}`, { cause: e, retriable: true });
  }
}

export async function connect(o: MySqlCdcOptions, doing: string): Promise<mysql.Connection> {
  const { createConnection } = (await import('mysql2/promise')).default;
  try {
    const c = await createConnection(connectionConfig(o));
    await c.query("SET time_zone = '+00:00'");
    return c;
  } catch (e) {
    throw explainMysqlError(o, e, doing);
  }
}

async function query<T>(c: mysql.Connection, o: MySqlCdcOptions, sql: string, params: unknown[], doing: string): Promise<T[]> {
  try {
    const [rows] = await c.query(sql, params);
    return rows as T[];
  } catch (e) {
    throw explainMysqlError(o, e, doing);
  }
}

/** Binlog on, ROW format, FULL row image: each named with its server variable if not. */
export async function checkServer(c: mysql.Connection, o: MySqlCdcOptions): Promise<void> {
  const vars = await query<{ Variable_name: string; Value: string }>(
    c,
    o,
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image')",
    [],
    'reading the binlog settings',
  );
  const v = Object.fromEntries(vars.map((r) => [r.Variable_name, String(r.Value).toUpperCase()]));
  const bad = (name: string, want: string, got: string | undefined) =>
    new ConfigError(`server variable ${name}`, `is '${got ?? 'unset'}' on ${o.host}:${o.port ?? 3306}; CDC needs ${name}=${want} (start the server with --${name.replace(/_/g, '-')}=${want}${name === 'log_bin' ? ' or --log-bin' : ''})`);
  if (v.log_bin !== 'ON') throw bad('log_bin', 'ON', v.log_bin);
  if (v.binlog_format !== 'ROW') throw bad('binlog_format', 'ROW', v.binlog_format);
  if (v.binlog_row_image !== 'FULL') throw bad('binlog_row_image', 'FULL', v.binlog_row_image);
  // Reading the binlog position needs REPLICATION CLIENT (BINLOG MONITOR on MariaDB 10.5+).
  await currentPosition(c, o);
}

export async function currentPosition(c: mysql.Connection, o: MySqlCdcOptions): Promise<BinlogPosition> {
  const rows = await query<{ File: string; Position: number }>(c, o, 'SHOW MASTER STATUS', [], 'reading the binlog position (SHOW MASTER STATUS)');
  if (rows.length === 0) {
    throw new ConfigError('server variable log_bin', `SHOW MASTER STATUS is empty on ${o.host}:${o.port ?? 3306}: the binlog is off; start the server with --log-bin`);
  }
  return { file: rows[0]!.File, pos: Number(rows[0]!.Position) };
}

export async function earliestPosition(c: mysql.Connection, o: MySqlCdcOptions): Promise<BinlogPosition> {
  const rows = await query<{ Log_name: string }>(c, o, 'SHOW BINARY LOGS', [], 'listing the binlog files (SHOW BINARY LOGS)');
  return { file: rows[0]!.Log_name, pos: 4 };
}

export function tableMatches(o: MySqlCdcOptions, table: string): boolean {
  const [db] = table.split('.');
  if (!o.databases.includes(db!)) return false;
  if (!o.tables) return true;
  const m = new RegExp(`^(?:${o.tables.source})$`, o.tables.flags.replace('g', '')).test(table);
  return m;
}

/** The captured tables with their columns and primary keys. */
export async function readSchemas(c: mysql.Connection, o: MySqlCdcOptions): Promise<Record<string, CdcTableSchema>> {
  const cols = await query<{ TABLE_SCHEMA: string; TABLE_NAME: string; COLUMN_NAME: string; COLUMN_TYPE: string; IS_NULLABLE: string; COLUMN_KEY: string }>(
    c,
    o,
    `SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, c.COLUMN_KEY
       FROM information_schema.COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
      WHERE c.TABLE_SCHEMA IN (?) AND t.TABLE_TYPE = 'BASE TABLE' ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION`,
    [o.databases],
    'reading the tables (information_schema.COLUMNS)',
  );
  const keys = await query<{ TABLE_SCHEMA: string; TABLE_NAME: string; COLUMN_NAME: string }>(
    c,
    o,
    `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA IN (?) AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    [o.databases],
    'reading the primary keys',
  );
  const out: Record<string, { table: string; columns: { name: string; type: string; nullable: boolean }[]; primaryKeys: string[] }> = {};
  for (const r of cols) {
    const table = `${r.TABLE_SCHEMA}.${r.TABLE_NAME}`;
    if (!tableMatches(o, table)) continue;
    (out[table] ??= { table, columns: [], primaryKeys: [] }).columns.push({ name: r.COLUMN_NAME, type: r.COLUMN_TYPE, nullable: r.IS_NULLABLE === 'YES' });
  }
  for (const r of keys) out[`${r.TABLE_SCHEMA}.${r.TABLE_NAME}`]?.primaryKeys.push(r.COLUMN_NAME);
  for (const s of Object.values(out)) {
    for (const col of s.columns) if (!isSupportedType(col.type)) converterFor(s.table, col, o.serverTimeZone); // throws, naming table and column
    if (s.primaryKeys.length === 0) {
      throw new ConfigError('mysql-cdc.tables', `table '${s.table}' has no primary key; the CDC source needs one to split its snapshot and key its changes: add a primary key or leave the table out of 'tables'`);
    }
  }
  return out;
}

export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

export function quoteTable(table: string): string {
  const i = table.indexOf('.');
  return `${quoteIdent(table.slice(0, i))}.${quoteIdent(table.slice(i + 1))}`;
}

/** The table's snapshot chunks (see chunks.ts for how keys are split). */
export async function planChunks(c: mysql.Connection, o: MySqlCdcOptions, schema: CdcTableSchema, chunkSize: number): Promise<SnapshotSplit[]> {
  const key = schema.primaryKeys[0]!;
  const keyType = schema.columns.find((col) => col.name === key)!.type;
  if (!isSplittableKeyType(keyType)) return chunksFromSplitPoints(schema, []);
  const k = quoteIdent(key);
  const t = quoteTable(schema.table);
  const [stats] = await query<{ lo: string | null; hi: string | null; n: number }>(c, o, `SELECT MIN(${k}) AS lo, MAX(${k}) AS hi, COUNT(*) AS n FROM ${t}`, [], `planning the snapshot of '${schema.table}'`);
  if (!stats || stats.lo === null || stats.hi === null) return chunksFromSplitPoints(schema, []);
  const even = evenSplitPoints(BigInt(stats.lo), BigInt(stats.hi), Number(stats.n), chunkSize);
  if (even) return chunksFromSplitPoints(schema, even.map(toBound));
  // Sparse keys: the key every chunkSize rows.
  const points: ChunkBound[] = [];
  let from: string = stats.lo;
  for (;;) {
    const [next] = await query<{ k: string }>(c, o, `SELECT ${k} AS k FROM ${t} WHERE ${k} >= ? ORDER BY ${k} LIMIT 1 OFFSET ?`, [from, chunkSize], `planning the snapshot of '${schema.table}'`);
    if (!next) break;
    points.push(toBound(BigInt(next.k)));
    from = next.k;
  }
  return chunksFromSplitPoints(schema, points);
}
