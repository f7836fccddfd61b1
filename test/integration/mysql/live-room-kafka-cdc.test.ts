/**
 * The live-room job fed from servers instead of the generator: gift and payment events from a Kafka
 * topic (the mock cluster of test/services/kafka.sh) and the `rooms`/`anchors` tables from MariaDB
 * CDC (test/services/mysql.sh), the same generated input written there (jobs/live-room/feed.ts).
 * The initial rows are in MariaDB before the job starts (the CDC snapshot), the dimension UPDATEs and
 * DELETEs are written while it runs, half before and half after a task-manager kill at a completed
 * checkpoint taken after the snapshot was committed (test/harness/kills.ts): the restored job
 * resumes the binlog and has the rows it snapshotted only in the temporal joins' restored state, so
 * a lost row would show as a wrong join. Two bad
 * Kafka records go to the dead-letter topic. When the lake has every event and the final tables, the
 * job stops with drain; every sink must equal the brute force over the same input.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import job, { type LiveRoomParams } from '../../../jobs/live-room/live-room.ts';
import { createDimensionTables, dimensionChanges, eventMessages, writeDimensionChanges } from '../../../jobs/live-room/feed.ts';
import { resolveData } from '../../../jobs/live-room/generator.ts';
import { readLakeTable } from '../../../jobs/live-room/read-back.ts';
import { LAKE_TABLES, type BadEvent } from '../../../jobs/live-room/sinks.ts';
import { actual } from '../../minicluster/live-room/actual.ts';
import { bruteForce } from '../../minicluster/live-room/brute-force.ts';
import { killAtCheckpoints } from '../../harness/kills.ts';
import { committedValues, createTopic, kafkaEnv, readLog, withProducer } from '../kafka/mock.ts';

const url = process.env.WEIR_MYSQL_URL;
const root = mkdtempSync(path.join(os.tmpdir(), 'weir-live-room-cdc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DATA = { events: 2500, eventsPerSecond: 8, rooms: 10, anchors: 14, users: 1500, roomChanges: 10, anchorChanges: 10, seed: 23 } as const;

const until = async (what: string, ok: () => Promise<boolean> | boolean, attempts = 400): Promise<void> => {
  for (let i = 0; i < attempts; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};

const lakeRows = async (table: string): Promise<Record<string, unknown>[]> => {
  try {
    return (await readLakeTable(path.join(root, 'lake'), table)).rows;
  } catch {
    return []; // not created yet
  }
};
const text = (rows: Record<string, unknown>[], fields: string[]): string[] => rows.map((r) => fields.map((f) => String(r[f])).join('|')).sort();

describe('live-room job from Kafka and MariaDB CDC', () => {
  it('every sink equals the brute force, with dimension changes and a kill while it runs', async () => {
    expect(url, 'WEIR_MYSQL_URL (test/services/mysql.sh env)').toBeTruthy();
    const { brokers } = kafkaEnv();
    const d = resolveData(DATA);
    const expected = bruteForce(DATA);

    // MariaDB: the tables with their initial rows (read by the snapshot); the changes come later.
    const conn = await mysql.createConnection({ uri: url! });
    const database = `live_room_${process.pid}`;
    await createDimensionTables(conn, database);
    const changes = dimensionChanges(d);
    const initial = changes.filter((c) => c.time < d.start);
    const later = changes.filter((c) => c.time >= d.start);
    expect(initial.length).toBe(DATA.rooms + DATA.anchors);
    expect(later.some((c) => c.change.kind === '-D')).toBe(true);
    await writeDimensionChanges(conn, database, initial);

    // Kafka: two records that are not events, then every event (timestamp = its event time).
    const topic = await createTopic('live-room-events', 2);
    const badTopic = await createTopic('live-room-bad-events', 1);
    await withProducer(async (p) => {
      await p.send({ topic, acks: -1, messages: [
        { key: 'x', value: '{"kind":"gift","id":1,', timestamp: String(d.start - 60_000), partition: 0 },
        { key: 'y', value: '{"kind":"refund","id":2,"room":1,"user":1,"amountCents":5}', timestamp: String(d.start - 60_000), partition: 1 },
      ] });
      const messages = eventMessages(d);
      for (let i = 0; i < messages.length; i += 500) await p.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
    });

    const params: LiveRoomParams = {
      ...DATA,
      eventSource: { type: 'kafka', brokers, topics: [topic], groupId: `live-room-${process.pid}` },
      dimensions: { type: 'mysql', ...connection(url!), database, serverId: 6000 + (process.pid % 1000) },
      badEvents: { type: 'kafka', brokers, topic: badTopic },
      lake: path.join(root, 'lake'),
      olap: { type: 'duckdb', dir: path.join(root, 'olap') },
      alerts: { type: 'none' },
    };
    const cluster = new MiniCluster({
      workers: 2,
      workDir: path.join(root, 'work'),
      checkpoints: { intervalMs: 200, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } },
      restartStrategy: { kind: 'fixed-delay', attempts: 5, delayMs: 20 },
    });
    const handle = await cluster.submit(job, { params, parallelism: 2 });
    let failed: unknown;
    void handle.result().catch((e: unknown) => (failed = e));
    const alive = (): boolean => {
      if (failed) throw failed as Error;
      return true;
    };

    // The snapshot reads each row's current version: the changes wait until it is in the lake, or it could read a later version only.
    const initialRows = (kind: 'rooms' | 'anchors'): number => initial.filter((c) => c.table === kind).length;
    await until('the snapshot in the lake', async () =>
      alive() && (await lakeRows(LAKE_TABLES.rooms)).length === initialRows('rooms') && (await lakeRows(LAKE_TABLES.anchors)).length === initialRows('anchors'), 600);
    // Half of the dimension changes before the kill, half after it (the restored job resumes the binlog).
    const half = Math.floor(later.length / 2);
    await writeDimensionChanges(conn, database, later.slice(0, half));
    // The snapshot's rows are in a completed checkpoint (the lake committed them): kill at the next one.
    const kills = killAtCheckpoints(handle, 'checkpoint-completed', { every: 1, remainder: 0, max: 1 });
    await until('the kill', () => alive() && kills() === 1);
    await writeDimensionChanges(conn, database, later.slice(half));
    await conn.end();

    // Every event and the final dimension tables are committed to the lake: the sources emitted them all.
    await until('the lake to hold every event and the final dimension tables', async () =>
      alive() &&
      (await lakeRows(LAKE_TABLES.gifts)).length + (await lakeRows(LAKE_TABLES.payments)).length === DATA.events &&
      text(await lakeRows(LAKE_TABLES.rooms), ['id', 'title', 'anchor', 'subsidyCents']).join() === expected.rooms.join() &&
      text(await lakeRows(LAKE_TABLES.anchors), ['id', 'name', 'sharePct']).join() === expected.anchors.join(), 600);
    await until('the restarted job to run on both task managers', () => alive() && handle.status === 'running' && handle.liveTaskManagers === 2);
    // The CDC source never ends: stop with drain (Flink's --drain) fires every window, as the end of a bounded input would.
    await handle.stopWithSavepoint({ drain: true });

    expect(handle.restarts).toBeGreaterThanOrEqual(1);
    expect(await actual(path.join(root, 'olap'), path.join(root, 'lake'))).toEqual(expected);
    const bad = committedValues(await readLog(badTopic)).map((v) => JSON.parse(v) as BadEvent);
    expect([...new Set(bad.map((b) => `${b.partition}@${b.offset}`))].sort()).toEqual(['0@0', '1@0']);
    expect(bad.find((b) => b.partition === 1)!.error).toContain("field 'kind'");
  }, 90_000);
});

function connection(uri: string): { host: string; port: number; user: string; password?: string } {
  const u = new URL(uri);
  return { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), ...(u.password ? { password: decodeURIComponent(u.password) } : {}) };
}
