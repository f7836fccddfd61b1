/**
 * The live-room job configured for servers: `olap: { type: 'clickhouse' }` against the real
 * ClickHouse server (test/services/clickhouse.sh) and `alerts: { type: 'kafka', exactlyOnce }` into
 * the Kafka mock cluster (test/services/kafka.sh): the four aggregate tables and the committed
 * alert records equal the brute force, as the DuckDB tables do (test/minicluster/live-room/).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import job, { type LiveRoomParams } from '../../../jobs/live-room/live-room.ts';
import { bruteForce } from '../../minicluster/live-room/brute-force.ts';
import { committedValues, createTopic, readLog } from '../kafka/mock.ts';
import type { PnlAlert } from '../../../jobs/live-room/model.ts';

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

describe('live-room job into ClickHouse and Kafka', () => {
  it('every aggregate table and the alert topic equal the brute force', async () => {
    expect(url, 'WEIR_CLICKHOUSE_URL (test/services/clickhouse.sh env)').toBeTruthy();
    const database = `live_room_${process.pid}_${Date.now()}`;
    await query(`CREATE DATABASE ${database}`);
    const topic = await createTopic('live-room-alerts', 2);
    const brokers = process.env.KAFKA_BROKERS!.split(',');
    const params: LiveRoomParams = { ...DATA, lake: path.join(root, 'lake'), olap: { type: 'clickhouse', url: url!, database }, alerts: { type: 'kafka', brokers, topic, exactlyOnce: true } };
    const cluster = new MiniCluster({ workers: 2, workDir: path.join(root, 'work'), checkpoints: { intervalMs: 300, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } } });
    await (await cluster.submit(job, { params, parallelism: 2 })).result();
    const expected = bruteForce(DATA);
    const t = (table: string, columns: string) => query(`SELECT ${columns} FROM ${database}.${table} FINAL`);
    expect(await t('room_revenue', 'minute, room, anchor, gifts, payments, revenueCents, costCents')).toEqual(expected.roomRevenue);
    expect(await t('anchor_top10', 'minute, rank, anchor, revenueCents')).toEqual(expected.top10);
    expect(await t('daily_users', "day, metric, users, asOf, if(final, 'true', 'false')")).toEqual(expected.dailyUsers);
    expect(await t('pnl_alerts', 'room, windowStart, windowEnd, revenueCents, costCents')).toEqual(expected.alerts);
    const alerts = committedValues(await readLog(topic)).map((v) => {
      const a = JSON.parse(v) as PnlAlert;
      return `${a.room}|${a.windowStart}|${a.windowEnd}|${a.revenueCents}|${a.costCents}`;
    });
    expect(alerts.sort()).toEqual(expected.alerts);
    expect(alerts.length).toBeGreaterThan(0);
    await query(`DROP DATABASE ${database}`);
  }, 120_000);
});
