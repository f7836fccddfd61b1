/**
 * The live-room job on generated data in the mini-cluster, at parallelism 1 and 3 (LMDB keyed
 * state): every output, read back from its sink (DuckDB tables, Paimon tables), equals a
 * brute-force computation over the same input. The data spans about 7 minutes of event time across
 * midnight UTC, so there are two days of DAU, several minutes of rankings and sliding P&L windows,
 * and dimension changes (anchor reassignments, subsidy changes, an anchor leaving) in the middle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster, SeededRandom } from 'weir';
import { anchorChange, anchorChangeCount, resolveData } from '../../../jobs/live-room/generator.ts';
import job, { type LiveRoomParams } from '../../../jobs/live-room/live-room.ts';
import { actual } from './actual.ts';
import { bruteForce } from './brute-force.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-live-room-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** 6000 events at 15/s of event time: 400 s from 23:55 UTC. */
export const SMALL = { events: 6000, eventsPerSecond: 15, rooms: 12, anchors: 16, users: 3000, anchorChanges: 16, seed: 7 } as const;

describe('live-room job against brute force', () => {
  const expected = bruteForce(SMALL);

  it('has data that exercises every output', () => {
    expect(expected.dailyUsers.map((r) => r.slice(0, 10))).toEqual(['2026-11-21', '2026-11-21', '2026-11-22', '2026-11-22']);
    expect(expected.alertCount).toBeGreaterThan(0);
    const d = resolveData(SMALL);
    const random = new SeededRandom();
    const kinds = Array.from({ length: anchorChangeCount(d) }, (_, j) => anchorChange(j, random.reset(d.seed + 2, j), d).kind);
    expect(kinds.filter((k) => k === '-D').length).toBeGreaterThan(0); // an anchor left
    expect(new Set(expected.top10.map((r) => r.split('|')[0])).size).toBeGreaterThanOrEqual(7);
  });

  for (const parallelism of [1, 3]) {
    it(`parallelism ${parallelism}: every sink equals the brute force`, async () => {
      const dir = path.join(root, `p${parallelism}`);
      const params: LiveRoomParams = { ...SMALL, lake: path.join(dir, 'lake'), olap: { type: 'duckdb', dir: path.join(dir, 'olap') }, alerts: { type: 'none' } };
      const cluster = new MiniCluster({ workers: 2, workDir: path.join(dir, 'work'), checkpoints: { intervalMs: 300, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } } });
      const handle = await cluster.submit(job, { params, parallelism });
      await handle.result();
      expect(await actual(path.join(dir, 'olap'), path.join(dir, 'lake'))).toEqual(expected);
    }, 120_000);
  }
});
