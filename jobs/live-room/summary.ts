/**
 * What the live-room demos print after the job, read back from its sinks: the latest minutes'
 * revenue, the top-10 ranking, DAU/eDAU, the alerts (from the OLAP store, through `q`: SQL over its
 * four tables), the lake's tables, and the same revenue counted three ways. Returns whether the
 * three agree.
 */
import { anchorName } from './generator.ts';
import { readLakeTable } from './read-back.ts';
import { LAKE_TABLES } from './sinks.ts';

type Query = (sql: string) => Promise<Record<string, string | number | boolean | null>[]>;

export const dollars = (cents: number): string => `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

export async function printSummary({ q, store, lake, inputEnd, alertsNote }: {
  /** SQL over the OLAP tables room_revenue, anchor_top10, daily_users, pnl_alerts (DuckDB's dialect). */
  q: Query;
  /** The OLAP store's name as printed (DuckDB, StarRocks). */
  store: string;
  lake: string;
  /** The end of the input's event time (its last minute is short). */
  inputEnd: number;
  /** Where else the alerts went. */
  alertsNote: string;
}): Promise<boolean> {
  // The input ends inside its last minute: that minute is complete as far as this input goes, but short.
  const isShort = (minute: unknown): boolean => Date.parse(String(minute)) + 60_000 > inputEnd;

  console.log(`\nrevenue per minute, last 3 minutes (${store} room_revenue)`);
  const minutes = await q(`SELECT minute, sum(revenueCents) AS revenue, sum(gifts) AS gifts, sum(payments) AS payments, count(DISTINCT room) AS rooms
    FROM room_revenue GROUP BY minute ORDER BY minute DESC LIMIT 3`);
  for (const m of minutes.reverse()) {
    const top = await q(`SELECT room, anchor, revenueCents FROM room_revenue WHERE minute = '${m.minute}' ORDER BY revenueCents DESC, room LIMIT 3`);
    console.log(`  minute ${m.minute}  revenue ${dollars(Number(m.revenue))}  gifts ${m.gifts}  payments ${m.payments}  rooms ${m.rooms}  top: ${top.map((t) => `room ${t.room} ${dollars(Number(t.revenueCents))}`).join(', ')}${isShort(m.minute) ? `  (the input ends at ${new Date(inputEnd).toISOString().slice(11, 19)})` : ''}`);
  }

  const ranked = (await q(`SELECT DISTINCT minute FROM anchor_top10 ORDER BY minute DESC`)).map((r) => r.minute);
  const rankMinute = ranked.find((m) => !isShort(m)) ?? ranked[0];
  console.log(`\ntop-10 anchors of minute ${rankMinute} (${store} anchor_top10)`);
  for (const r of await q(`SELECT rank, anchor, revenueCents FROM anchor_top10 WHERE minute = '${rankMinute}' ORDER BY rank`)) {
    console.log(`  #${String(r.rank).padEnd(2)} anchor ${String(r.anchor).padEnd(3)} ${anchorName(Number(r.anchor)).padEnd(8)} ${dollars(Number(r.revenueCents))}`);
  }

  console.log(`\ndaily active users (${store} daily_users; eDAU: users who paid or sent a paid gift)`);
  for (const d of await q(`SELECT day, max(CASE WHEN metric = 'dau' THEN users END) AS dau, max(CASE WHEN metric = 'edau' THEN users END) AS edau,
      bool_and("final") AS "final", max("asOf") AS "asOf" FROM daily_users GROUP BY day ORDER BY day`)) {
    console.log(`  day ${d.day}  DAU ${d.dau}  eDAU ${d.edau}  ${d.final ? 'final' : `as of ${d.asOf}`}`);
  }

  const alertCount = (await q('SELECT count(*) AS n FROM pnl_alerts'))[0]!.n;
  console.log(`\nprofit-and-loss alerts: ${alertCount} (${store} pnl_alerts; ${alertsNote}), latest:`);
  for (const a of await q('SELECT room, windowStart, windowEnd, revenueCents, costCents FROM pnl_alerts ORDER BY windowStart DESC, room LIMIT 5')) {
    console.log(`  room ${a.room} ${String(a.windowStart).slice(11, 16)}-${String(a.windowEnd).slice(11, 16)}  revenue ${dollars(Number(a.revenueCents))}  cost ${dollars(Number(a.costCents))}`);
  }

  console.log(`\nlake tables (Paimon, under ${lake})`);
  const totals: Record<string, number> = {};
  for (const table of Object.values(LAKE_TABLES)) {
    const { rows, snapshots } = await readLakeTable(lake, table);
    totals[table] = rows.reduce((a, r) => a + Number(r.amountCents ?? r.revenueCents ?? 0), 0);
    console.log(`  ${table.padEnd(19)} ${String(rows.length).padStart(7)} rows  ${String(snapshots).padStart(3)} snapshots`);
  }
  const daily = (await readLakeTable(lake, LAKE_TABLES.anchorDaily)).rows.sort((a, b) => Number(b.revenueCents) - Number(a.revenueCents)).slice(0, 3);
  console.log(`  top anchor-days in ${LAKE_TABLES.anchorDaily} (merge-engine = aggregation): ${daily.map((r) => `${r.day} anchor ${r.anchor} ${dollars(Number(r.revenueCents))}`).join(', ')}`);

  // The same money, counted three ways: raw events in the lake, per-minute rows in the OLAP store, the lake's aggregation table.
  const rawCents = totals[LAKE_TABLES.gifts]! + totals[LAKE_TABLES.payments]!;
  const olapCents = Number((await q('SELECT sum(revenueCents) AS c FROM room_revenue'))[0]!.c);
  const dailyCents = totals[LAKE_TABLES.anchorDaily]!;
  console.log(`\nrevenue: ODS events ${dollars(rawCents)} = ${store} room_revenue ${dollars(olapCents)} = lake ${LAKE_TABLES.anchorDaily} ${dollars(dailyCents)}`);
  if (rawCents !== olapCents || olapCents !== dailyCents) {
    console.error('the sinks disagree: expected the same revenue in all three');
    return false;
  }
  return true;
}
