/**
 * `npm run demo` itself, small (DEMO_EVENTS), in a scratch Weir home: it must exit 0, name its
 * dashboard, and every number it prints must be what the sinks hold (read here from the same
 * DuckDB read copies and lake tables, independently of the demo's own queries).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { queryDuckDb, readLakeTable } from '../../../jobs/live-room/read-back.ts';
import { LAKE_TABLES } from '../../../jobs/live-room/sinks.ts';

const home = mkdtempSync(path.join(os.tmpdir(), 'weir-demo-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const root = path.resolve(import.meta.dirname, '../../..');

const cents = (dollars: string): number => Math.round(Number(dollars.replaceAll(',', '')) * 100);

describe('npm run demo', () => {
  it('runs the live-room job and prints what its sinks hold', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, 'jobs/live-room/run.ts')], {
      cwd: root,
      env: { ...process.env, WEIR_HOME: home, DEMO_EVENTS: '5000', DEMO_PORT: '0' },
      maxBuffer: 16 << 20,
    });
    const dir = path.join(home, 'live-room');
    const olap = path.join(dir, 'olap');
    const lake = path.join(dir, 'lake');
    expect(stdout).toMatch(/dashboard \(while the job runs\): http:\/\/127\.0\.0\.1:\d+\//);
    expect(stdout).toMatch(/processed 5,000 events in [\d.]+ s/);

    // revenue per minute
    const minuteLines = [...stdout.matchAll(/ {2}minute (\S+) {2}revenue \$([\d,.]+) {2}gifts (\d+) {2}payments (\d+) {2}rooms (\d+)/g)];
    expect(minuteLines.length).toBeGreaterThan(0);
    const minutes = await queryDuckDb(olap, 'SELECT minute, sum(revenueCents) AS revenue, sum(gifts) AS gifts, sum(payments) AS payments, count(DISTINCT room) AS rooms FROM room_revenue GROUP BY minute ORDER BY minute DESC LIMIT 3');
    expect(minuteLines.map((m) => [m[1], cents(m[2]!), Number(m[3]), Number(m[4]), Number(m[5])])).toEqual(minutes.reverse().map((m) => [m.minute, m.revenue, m.gifts, m.payments, m.rooms]));

    // the ranking of the last minute
    const rankMinute = /top-10 anchors of minute (\S+)/.exec(stdout)![1];
    const ranks = [...stdout.matchAll(/ {2}#(\d+)\s+anchor (\d+)\s+\S+\s+\$([\d,.]+)/g)].map((m) => [Number(m[1]), Number(m[2]), cents(m[3]!)]);
    const top = await queryDuckDb(olap, `SELECT rank, anchor, revenueCents FROM anchor_top10 WHERE minute = '${rankMinute}' ORDER BY rank`);
    expect(ranks).toEqual(top.map((r) => [r.rank, r.anchor, r.revenueCents]));
    expect(ranks.length).toBeGreaterThan(0);

    // DAU and eDAU
    const days = [...stdout.matchAll(/ {2}day (\S+) {2}DAU (\d+) {2}eDAU (\d+)/g)].map((m) => `${m[1]}|dau|${m[2]} ${m[1]}|edau|${m[3]}`).join(' ').split(' ').sort();
    const users = await queryDuckDb(olap, 'SELECT day, metric, users FROM daily_users');
    expect(days).toEqual(users.map((u) => `${u.day}|${u.metric}|${u.users}`).sort());

    // alerts: the count, and the console alert sink printed each one
    const alertCount = Number(/profit-and-loss alerts: (\d+)/.exec(stdout)![1]);
    expect(alertCount).toBe((await queryDuckDb(olap, 'SELECT count(*) AS n FROM pnl_alerts'))[0]!.n);
    expect([...stdout.matchAll(/^ALERT room /gm)].length).toBe(alertCount);

    // lake tables
    for (const table of Object.values(LAKE_TABLES)) {
      const { rows, snapshots } = await readLakeTable(lake, table);
      expect(stdout).toMatch(new RegExp(` {2}${table} +${rows.length} rows +${snapshots} snapshots`));
    }
    const [, raw, duck, daily] = /revenue: ODS events \$([\d,.]+) = DuckDB room_revenue \$([\d,.]+) = lake dws_anchor_daily \$([\d,.]+)/.exec(stdout)!;
    const gifts = (await readLakeTable(lake, LAKE_TABLES.gifts)).rows.reduce((a, r) => a + Number(r.amountCents), 0);
    const payments = (await readLakeTable(lake, LAKE_TABLES.payments)).rows.reduce((a, r) => a + Number(r.amountCents), 0);
    expect([cents(raw!), cents(duck!), cents(daily!)]).toEqual([gifts + payments, gifts + payments, gifts + payments]);
  }, 180_000);
});
