/**
 * Reads what the live-room job wrote, from the sinks themselves: the DuckDB tables (their read-only
 * copies, which the sink publishes after every commit, so this works while the job runs) and the
 * lake tables. Used by the demo and by the tests.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { defaultReadCopy } from 'weir/duckdb';
import { FileStoreTable, readTable, rowToObject } from 'weir/lake';
import { duckdbFile, OLAP_SCHEMAS } from './sinks.ts';

export const OLAP_TABLES = ['room_revenue', 'anchor_top10', 'daily_users', 'pnl_alerts'] as const;
export type OlapTable = (typeof OLAP_TABLES)[number];

/** The read-only copy of a table's DuckDB file. */
export function duckdbReadCopy(dir: string, table: OlapTable): string {
  return defaultReadCopy(duckdbFile(dir, table));
}

export type Plain = string | number | boolean | null;

/**
 * Runs `sql` over rows read from another OLAP store (e.g. StarRocks), loaded into an in-memory
 * DuckDB as the job's four tables (OLAP_SCHEMAS), so the same queries read any store.
 */
export async function queryRows(tables: Record<OlapTable, readonly Record<string, Plain>[]>, sql: string): Promise<Record<string, Plain>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const literal = (v: Plain | undefined): string => (v === null || v === undefined ? 'NULL' : typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : String(v));
  try {
    for (const table of OLAP_TABLES) {
      const columns = Object.entries(OLAP_SCHEMAS[table].columns);
      await conn.run(`CREATE TABLE ${table} (${columns.map(([c, t]) => `"${c}" ${t}`).join(', ')})`);
      const rows = tables[table];
      for (let i = 0; i < rows.length; i += 1000) {
        const values = rows.slice(i, i + 1000).map((r) => `(${columns.map(([c]) => literal(r[c])).join(', ')})`);
        await conn.run(`INSERT INTO ${table} VALUES ${values.join(', ')}`);
      }
    }
    const reader = await conn.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : (v as Plain)])));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Runs `sql` over the read copies of the job's DuckDB tables, each attached under its table name (`FROM room_revenue.room_revenue`; also as a view `room_revenue`). */
export async function queryDuckDb(dir: string, sql: string): Promise<Record<string, Plain>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    for (const table of OLAP_TABLES) {
      const file = duckdbReadCopy(dir, table);
      if (!existsSync(file)) continue;
      await conn.run(`ATTACH '${file.replaceAll("'", "''")}' AS ${table}_db (READ_ONLY)`);
      await conn.run(`CREATE VIEW ${table} AS SELECT * FROM ${table}_db.${table}`);
    }
    const reader = await conn.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : (v as Plain)])));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Every row of a lake table as objects (64-bit columns as numbers), and its snapshot count. */
export async function readLakeTable(lake: string, table: string): Promise<{ rows: Record<string, Plain>[]; snapshots: number }> {
  const t = await FileStoreTable.open(path.join(lake, table));
  const rows = (await readTable(t)).map((r) => {
    const o = rowToObject(t, r) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : (v as Plain)]));
  });
  return { rows, snapshots: (await t.snapshots.listIds()).length };
}
