/**
 * The live-room job under worker kills: two task-manager kills at seeded counts of completed
 * checkpoints (test/harness/kills.ts), and every sink (DuckDB tables, ODS and aggregation lake
 * tables) must still equal the brute-force computation, i.e. each event counted exactly once
 * across restores of the temporal joins' versioned tables, the windows and the distinct counts.
 * While it runs (rate-limited), the DuckDB `daily_users` table is polled: its early results
 * (`final = false`) must show up, and never exceed the day's final distinct count.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster, SeededRandom } from 'weir';
import job, { type LiveRoomParams } from '../../jobs/live-room/live-room.ts';
import { actual } from '../minicluster/live-room/actual.ts';
import { queryDuckDb } from '../../jobs/live-room/read-back.ts';
import { bruteForce } from '../minicluster/live-room/brute-force.ts';
import { killAtCompletedCounts } from '../harness/kills.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-live-room-chaos-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DATA = { events: 6000, eventsPerSecond: 15, rooms: 12, anchors: 16, users: 3000, anchorChanges: 16, seed: 11 } as const;

describe('live-room job with worker kills', () => {
  it('every sink equals the brute force after two kills', async () => {
    const expected = bruteForce(DATA);
    const params: LiveRoomParams = { ...DATA, ratePerSecond: 1000, lake: path.join(root, 'lake'), olap: { type: 'duckdb', dir: path.join(root, 'olap') }, alerts: { type: 'none' } };
    const cluster = new MiniCluster({
      workers: 2,
      workDir: path.join(root, 'work'),
      checkpoints: { intervalMs: 200, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } },
      restartStrategy: { kind: 'fixed-delay', attempts: 20, delayMs: 20 },
    });
    const handle = await cluster.submit(job, { params, parallelism: 2 });
    killAtCompletedCounts(handle, new SeededRandom(18));
    let done = false;
    void handle.result().finally(() => (done = true));
    const early: string[] = [];
    while (!done) {
      await new Promise((r) => setTimeout(r, 200));
      try {
        for (const r of await queryDuckDb(path.join(root, 'olap'), 'SELECT * FROM daily_users WHERE NOT "final"')) early.push(`${r.day}|${r.metric}|${r.users}`);
      } catch {
        // the read copy is not there yet
      }
    }
    await handle.result();
    expect(early.length).toBeGreaterThan(0);
    const finals = new Map(expected.dailyUsers.map((r) => r.split('|')).map(([day, metric, users]) => [`${day}|${metric}`, Number(users)]));
    for (const row of early) {
      const [day, metric, users] = row.split('|');
      expect(Number(users)).toBeLessThanOrEqual(finals.get(`${day}|${metric}`)!);
    }
    expect(handle.restarts).toBeGreaterThanOrEqual(1);
    expect(await actual(path.join(root, 'olap'), path.join(root, 'lake'))).toEqual(expected);
  }, 180_000);
});
