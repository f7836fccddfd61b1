/**
 * Helpers of the MySQL CDC tests: a database per test, a writer that inserts, updates and deletes
 * while the source reads, and a strict changelog replay that fails on a duplicate or a gap.
 */
import mysql from 'mysql2/promise';
import type { CdcRecord, MySqlCdcOptions } from '../../../connectors/mysql/index.ts';

export const url = process.env.WEIR_MYSQL_URL;
if (!url) throw new Error('WEIR_MYSQL_URL is not set: run the tests with `npm test` (it starts test/services/mysql.sh) or export the lines `bash test/services/mysql.sh start` prints');

export function connOptions(): Pick<MySqlCdcOptions, 'host' | 'port' | 'user' | 'password'> {
  const u = new URL(url!);
  return { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

let seq = 0;
export async function freshDatabase(conn: mysql.Connection, prefix: string): Promise<string> {
  const db = `${prefix}_${process.pid}_${++seq}`;
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.query(`CREATE DATABASE \`${db}\``);
  return db;
}

export async function connect(): Promise<mysql.Connection> {
  return mysql.createConnection({ uri: url!, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, multipleStatements: true });
}

/** A deterministic pseudo-random sequence. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Writes to `db.t (id INT PK, v INT, note VARCHAR)` until stopped: inserts new ids above `rows`,
 * updates and deletes random ids, in small transactions. Returns a stop function.
 */
export function startWriter(conn: mysql.Connection, table: string, rows: number, seed: number): { stop: () => Promise<number> } {
  const r = rng(seed);
  let next = rows;
  let running = true;
  let txns = 0;
  const loop = (async () => {
    while (running) {
      await conn.query('START TRANSACTION');
      for (let i = 0; i < 5; i++) {
        const op = r();
        const id = Math.floor(r() * next);
        if (op < 0.4) await conn.query(`INSERT INTO ${table} (id, v, note) VALUES (?, ?, ?)`, [next++, Math.floor(r() * 1000), `w${txns}`]);
        else if (op < 0.8) await conn.query(`UPDATE ${table} SET v = v + 1, note = ? WHERE id = ?`, [`u${txns}`, id]);
        else await conn.query(`DELETE FROM ${table} WHERE id = ?`, [id]);
      }
      await conn.query('COMMIT');
      txns++;
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return txns;
    },
  };
}

/**
 * Applies a changelog strictly: +I of a present key, -U/-D of an absent key or of a row that is not
 * the present one, fail. Exactly-once (no duplicate, no gap) is what lets it pass.
 */
export function replay(records: readonly CdcRecord[], key = 'id', table?: string): Map<string, Record<string, unknown>> {
  const state = new Map<string, Record<string, unknown>>();
  for (const rec of records) {
    if (rec.kind === 'schema') continue;
    if (table !== undefined && rec.table !== table) continue;
    const k = String(rec.row[key]);
    const present = state.get(k);
    if (rec.kind === '+I' || rec.kind === '+U') {
      if (rec.kind === '+I' && present) throw new Error(`duplicate +I of key ${k}: ${JSON.stringify(rec.row, big)}`);
      state.set(k, rec.row);
    } else {
      if (!present) throw new Error(`${rec.kind} of absent key ${k}: ${JSON.stringify(rec.row, big)}`);
      if (JSON.stringify(present, big) !== JSON.stringify(rec.row, big)) throw new Error(`${rec.kind} of key ${k} does not match the row: ${JSON.stringify(rec.row, big)} vs ${JSON.stringify(present, big)}`);
      state.delete(k);
    }
  }
  return state;
}

function big(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
}

export function normalize(rows: Iterable<Record<string, unknown>>): string[] {
  return [...rows].map((r) => JSON.stringify(r, big)).sort();
}

export async function masterPosition(conn: mysql.Connection): Promise<{ file: string; pos: number }> {
  const [rows] = (await conn.query('SHOW MASTER STATUS')) as unknown as [{ File: string; Position: number }[]];
  return { file: rows[0]!.File, pos: Number(rows[0]!.Position) };
}
