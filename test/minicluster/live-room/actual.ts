/** The live-room job's outputs read back from its sinks, as sorted text rows in brute-force.ts's shapes. */
import { queryDuckDb, readLakeTable } from '../../../jobs/live-room/read-back.ts';
import { LAKE_TABLES } from '../../../jobs/live-room/sinks.ts';
import type { Expected } from './brute-force.ts';

const text = (rows: Record<string, unknown>[], fields: string[]): string[] => rows.map((r) => fields.map((f) => String(r[f])).join('|')).sort();

export async function actual(olapDir: string, lake: string): Promise<Expected> {
  const q = (sql: string) => queryDuckDb(olapDir, sql);
  const lakeRows = async (table: string) => (await readLakeTable(lake, table)).rows;
  const alerts = text(await q('SELECT * FROM pnl_alerts'), ['room', 'windowStart', 'windowEnd', 'revenueCents', 'costCents']);
  return {
    roomRevenue: text(await q('SELECT * FROM room_revenue'), ['minute', 'room', 'anchor', 'gifts', 'payments', 'revenueCents', 'costCents']),
    top10: text(await q('SELECT * FROM anchor_top10'), ['minute', 'rank', 'anchor', 'revenueCents']),
    dailyUsers: text(await q('SELECT * FROM daily_users'), ['day', 'metric', 'users', 'asOf', 'final']),
    alerts,
    alertCount: alerts.length,
    anchorDaily: text(await lakeRows(LAKE_TABLES.anchorDaily), ['day', 'anchor', 'revenueCents', 'gifts']),
    gifts: text(await lakeRows(LAKE_TABLES.gifts), ['id', 'room', 'user', 'gift', 'amountCents', 'ts']),
    payments: text(await lakeRows(LAKE_TABLES.payments), ['id', 'room', 'user', 'product', 'amountCents', 'ts']),
    rooms: text(await lakeRows(LAKE_TABLES.rooms), ['id', 'title', 'anchor', 'subsidyCents']),
    anchors: text(await lakeRows(LAKE_TABLES.anchors), ['id', 'name', 'sharePct']),
  };
}
