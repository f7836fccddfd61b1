/**
 * Feeds the generated input of the live-room job to servers, for `npm run demo:servers` and the
 * tests: the events as Kafka records (JSON values, the event's time as the record's timestamp) and
 * the `rooms`/`anchors` changelogs as rows written to MariaDB/MySQL (DIMENSION_TABLES_DDL, each
 * version dated by `valid_from`). The job reads them back as the same records the generator gives
 * it, so its output is the same (inputs.ts).
 */
import type { Connection } from 'mysql2/promise';
import { SeededRandom, type Change } from 'weir';
import { anchorChange, anchorChangeCount, anchorChangeTime, liveEvent, roomChange, roomChangeCount, roomChangeTime, type ResolvedData } from './generator.ts';
import { DIMENSION_TABLES_DDL } from './inputs.ts';
import type { Anchor, Room } from './model.ts';

/** A Kafka message of event i: keyed by room (a room's events stay in one partition, in order). */
export interface EventMessage {
  key: string;
  value: string;
  timestamp: string;
}

/** Events [from, to) as Kafka messages: the value is the event without `ts`, which is the record's timestamp. */
export function eventMessages(d: ResolvedData, from = 0, to = d.events): EventMessage[] {
  const random = new SeededRandom();
  const out: EventMessage[] = [];
  for (let i = from; i < to; i++) {
    const { ts, ...value } = liveEvent(i, random.reset(d.seed, i), d);
    out.push({ key: String(value.room), value: JSON.stringify(value), timestamp: String(ts) });
  }
  return out;
}

export type DimensionChange = { table: 'rooms'; time: number; change: Change<Room> } | { table: 'anchors'; time: number; change: Change<Anchor> };

/** Both changelogs as the generator makes them, merged in time order (the order they are written in: the CDC watermark follows `valid_from`). */
export function dimensionChanges(d: ResolvedData): DimensionChange[] {
  const random = new SeededRandom();
  const all: DimensionChange[] = [];
  for (let j = 0; j < roomChangeCount(d); j++) all.push({ table: 'rooms', time: roomChangeTime(j, d), change: roomChange(j, random.reset(d.seed + 1, j), d) });
  for (let j = 0; j < anchorChangeCount(d); j++) all.push({ table: 'anchors', time: anchorChangeTime(j, d), change: anchorChange(j, random.reset(d.seed + 2, j), d) });
  return all.sort((a, b) => a.time - b.time); // stable: each table's own order is kept at equal times
}

/** Creates the dimension tables in `database` (dropped first) on a connection whose session zone is UTC. */
export async function createDimensionTables(conn: Connection, database: string): Promise<void> {
  await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await conn.query(`CREATE DATABASE \`${database}\``);
  for (const ddl of DIMENSION_TABLES_DDL) await conn.query(ddl.replace('CREATE TABLE ', `CREATE TABLE \`${database}\`.`));
}

/** MariaDB's TIMESTAMP(3) literal of `ms` (the session zone must be UTC: `SET time_zone = '+00:00'`). */
function sqlTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * Writes one change, in one transaction: +I/+U upsert the row with `valid_from` = its time; -D
 * first dates the row's last version (`valid_from` = the deletion's time, so the binlog's before
 * image carries it), then deletes it. The connection's session zone must be UTC.
 */
export async function writeDimensionChange(conn: Connection, database: string, c: DimensionChange): Promise<void> {
  const table = `\`${database}\`.${c.table}`;
  const at = sqlTime(c.time);
  await conn.query('START TRANSACTION');
  if (c.change.kind === '-D') {
    await conn.query(`UPDATE ${table} SET valid_from = ? WHERE id = ?`, [at, c.change.row.id]);
    await conn.query(`DELETE FROM ${table} WHERE id = ?`, [c.change.row.id]);
  } else if (c.table === 'rooms') {
    const r = c.change.row as Room;
    await conn.query(
      `INSERT INTO ${table} (id, title, anchor, subsidy_cents, valid_from) VALUES (?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE title = VALUES(title), anchor = VALUES(anchor), subsidy_cents = VALUES(subsidy_cents), valid_from = VALUES(valid_from)`,
      [r.id, r.title, r.anchor, r.subsidyCents, at],
    );
  } else {
    const a = c.change.row as Anchor;
    await conn.query(
      `INSERT INTO ${table} (id, name, share_pct, valid_from) VALUES (?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE name = VALUES(name), share_pct = VALUES(share_pct), valid_from = VALUES(valid_from)`,
      [a.id, a.name, a.sharePct, at],
    );
  }
  await conn.query('COMMIT');
}

/** Writes `changes` in order (see writeDimensionChange). */
export async function writeDimensionChanges(conn: Connection, database: string, changes: readonly DimensionChange[]): Promise<void> {
  await conn.query("SET time_zone = '+00:00'");
  for (const c of changes) await writeDimensionChange(conn, database, c);
}
