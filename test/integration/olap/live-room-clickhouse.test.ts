/**
 * The live-room job with `olap: { type: 'clickhouse' }` against the real ClickHouse server
 * (test/services/clickhouse.sh): the four aggregate tables equal the brute force, as they do in
 * DuckDB (test/minicluster/live-room/).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import job, { type LiveRoomParams } from '../../../jobs/live-room/job.ts';
import { bruteForce } from '../../minicluster/live-room/brute-force.ts';

const url = process.env.WEIR_CLICKHOUSE_URL;
const root = mkdtempSync(path.join(os.tmpdir(), 'weir-live-room-ch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DATA = { events: 3000, eventsPerSecond: 8, rooms: 12, anchors: 16, users: 2000, seed: 5 } as const;

async function query(sql: string): Promise<string[]> {
  const res = await fetch(`${url}/?query=${encodeURIComponent(sql)}`, { method: 'POST' });
  const text = await res.text();
  if (!res.ok) throw new Error(`ClickHouse: ${text}`);
  return text.split('\n').filter((l) => l.length > 0).map((l) => l.replaceAll('\t', '|')).sort();
}

describe('live-room job into ClickHouse', () => {
  it('every aggregate table equals the brute force', async () => {
    expect(url, 'WEIR_CLICKHOUSE_URL (test/services/clickhouse.sh env)').toBeTruthy();
    const database = `live_room_${process.pid}_${Date.now()}`;
    await query(`CREATE DATABASE ${database}`);
    const params: LiveRoomParams = { ...DATA, lake: path.join(root, 'lake'), olap: { type: 'clickhouse', url: url!, database }, alerts: { type: 'none' } };
    const cluster = new MiniCluster({ workers: 2, workDir: path.join(root, 'work'), checkpoints: { intervalMs: 300, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } } });
    await (await cluster.submit(job, { params, parallelism: 2 })).result();
    const expected = bruteForce(DATA);
    const t = (table: string, columns: string) => query(`SELECT ${columns} FROM ${database}.${table} FINAL`);
    expect(await t('room_revenue', 'minute, room, anchor, gifts, payments, revenueCents, costCents')).toEqual(expected.roomRevenue);
    expect(await t('anchor_top10', 'minute, rank, anchor, revenueCents')).toEqual(expected.top10);
    expect(await t('daily_users', "day, metric, users, asOf, if(final, 'true', 'false')")).toEqual(expected.dailyUsers);
    expect(await t('pnl_alerts', 'room, windowStart, windowEnd, revenueCents, costCents')).toEqual(expected.alerts);
    await query(`DROP DATABASE ${database}`);
  });
});
