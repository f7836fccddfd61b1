/**
 * The batch query of the agg-table job: a day's per-user counters and the day's totals, read once
 * both tables' committed watermark has passed the end of the day (what `weir lake wait` does), so
 * the answer holds every event of the day and never changes afterwards: the T+1 table, on time.
 *
 *     npx tsx jobs/agg-table/query.ts <warehouse> <YYYY-MM-DD>
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileStoreTable, readTable, rowToObject, waitForWatermark } from 'weir/lake';
import type { UserDailyRow } from './tables.ts';

/** A user's counters of one day (the day is the report's). */
export type UserDay = Omit<UserDailyRow, 'dt'>;

export interface DayReport {
  day: string;
  users: UserDay[];
  totals: { events: bigint; amount_cents: bigint; users: bigint } | undefined;
  /** The snapshots read (their watermark passed the end of the day). */
  snapshots: { user_daily: number; daily_totals: number };
}

/** The table, once the job has created it (a query may start before the job's first commit). */
async function openWhenCreated(tableDir: string, timeoutMs: number | undefined): Promise<FileStoreTable> {
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  for (;;) {
    try {
      return await FileStoreTable.open(tableDir);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Waits until the table's watermark says no event of `day` is still to come, and reads that snapshot's rows of the day. */
async function readDayOf(tableDir: string, day: string, timeoutMs: number | undefined): Promise<{ rows: Record<string, unknown>[]; snapshot: number }> {
  const table = await openWhenCreated(tableDir, timeoutMs);
  const lastMsOfDay = Date.parse(`${day}T00:00:00Z`) + 86_400_000 - 1;
  const snapshot = await waitForWatermark(table, lastMsOfDay, { pollIntervalMs: 50, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  const at = await table.atSchema(snapshot.schemaId);
  const rows = (await readTable(at, { snapshotId: snapshot.id })).map((r) => rowToObject(at, r)).filter((r) => r.dt === day);
  return { rows, snapshot: snapshot.id };
}

export async function readDay(warehouse: string, day: string, opts: { timeoutMs?: number } = {}): Promise<DayReport> {
  const [users, totals] = await Promise.all([readDayOf(path.join(warehouse, 'user_daily'), day, opts.timeoutMs), readDayOf(path.join(warehouse, 'daily_totals'), day, opts.timeoutMs)]);
  const t = totals.rows[0];
  return {
    day,
    users: users.rows.map((r) => ({ user_id: r.user_id as number, events: r.events as bigint, purchases: r.purchases as bigint, amount_cents: r.amount_cents as bigint, max_amount_cents: r.max_amount_cents as bigint, first_ts: r.first_ts as bigint, last_ts: r.last_ts as bigint })).sort((a, b) => a.user_id - b.user_id),
    totals: t && { events: t.events as bigint, amount_cents: t.amount_cents as bigint, users: t.users as bigint },
    snapshots: { user_daily: users.snapshot, daily_totals: totals.snapshot },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [warehouse, day] = process.argv.slice(2);
  if (!warehouse || !/^\d{4}-\d{2}-\d{2}$/.test(day ?? '')) {
    console.error('usage: npx tsx jobs/agg-table/query.ts <warehouse> <YYYY-MM-DD>');
    process.exit(2);
  }
  const r = await readDay(warehouse, day!);
  const top = [...r.users].sort((a, b) => Number(b.amount_cents - a.amount_cents)).slice(0, 10);
  console.log(`${day}: ${r.totals?.events ?? 0n} events, ${r.totals?.users ?? 0n} distinct users, revenue ${Number(r.totals?.amount_cents ?? 0n) / 100}`);
  for (const u of top) console.log(`  user ${u.user_id}: ${u.events} events, ${u.purchases} purchases, ${Number(u.amount_cents) / 100} spent`);
}
