/**
 * Exactly-once into ClickHouse (a real clickhouse-server 18.16, test/services/clickhouse.sh) under
 * failure injection: worker threads are killed at seeded random points and right after checkpoints
 * complete (commits in flight) while a job writes inserts, updates and deletes through the
 * ClickHouse sink (two keyed writers, 200 ms checkpoints). The table read with FINAL must equal the
 * failure-free run's and the model; no staged batch may be left behind.
 */
import { describe, expect, it } from 'vitest';
import { type JobHandle, MiniCluster, SeededRandom } from 'weir';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { ClickHouseHttp } from '../../connectors/clickhouse/http.ts';
import job, { accountText, modelRows } from './jobs/olap-changes.ts';
import { killAtCheckpoints, killAtSeededTimes } from '../harness/kills.ts';

const url = process.env.WEIR_CLICKHOUSE_URL;
const root = mkdtempSync(path.join(os.tmpdir(), 'weir-clickhouse-chaos-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const COUNT = 8_000;
const KEYS = 1_000;
const SEED = 11;
const RATE = 8_000;

async function run(name: string, kills: (handle: JobHandle) => void): Promise<{ rows: string[]; restarts: number; staged: number }> {
  if (!url) throw new Error('WEIR_CLICKHOUSE_URL is not set: start the server with test/services/clickhouse.sh start (npm test does)');
  const table = `accounts_${name.replace(/-/g, '_')}_${Date.now()}`;
  const dir = path.join(root, name);
  const handle = await new MiniCluster({
    workers: 2,
    workDir: path.join(dir, 'work'),
    checkpoints: { intervalMs: 200, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } },
    restartStrategy: { kind: 'fixed-delay', attempts: 20, delayMs: 20 },
  }).submit(job, { params: { sink: 'clickhouse', url, table, count: COUNT, keys: KEYS, seed: SEED, ratePerSecond: RATE, writers: 2, maxRows: 700 }, parallelism: 2 });
  kills(handle);
  await handle.result();
  const http = new ClickHouseHttp({ url }, 'test');
  const rows = await http.select<{ id: number; version: number; balance: number; owner: string }>(`SELECT id, version, balance, owner FROM ${table} FINAL WHERE _weir_deleted = 0`);
  const [staged] = await http.select<{ n: string }>(`SELECT count() AS n FROM ${table}__weir_staging`);
  return { rows: rows.map(accountText).sort(), restarts: handle.restarts, staged: Number(staged!.n) };
}

describe('ClickHouse sink exactly-once with worker kills', () => {
  let expected: string[] = [];

  it('a failure-free run writes the model', async () => {
    const r = await run('reference', () => {});
    expect(r.restarts).toBe(0);
    expected = r.rows;
    expect(expected).toEqual(modelRows(COUNT, KEYS, SEED));
    expect(r.staged).toBe(0);
  });

  for (let runNo = 1; runNo <= 2; runNo++) {
    it(`run ${runNo}: kills at seeded random points leave the same table`, async () => {
      const random = new SeededRandom(900 + runNo);
      const r = await run(`random-${runNo}`, (handle) => {
        killAtSeededTimes(handle, random, { from: 150, spread: 600, gap: 150, gapSpread: 400 });
      });
      expect(r.restarts).toBeGreaterThanOrEqual(1);
      expect(r.rows).toEqual(expected);
      expect(r.staged).toBe(0);
    });
  }

  it('kills right after checkpoints complete (commit in flight) leave the same table', async () => {
    let kills = (): number => 0;
    const r = await run('at-commit', (handle) => {
      kills = killAtCheckpoints(handle, 'checkpoint-completed', { every: 3, remainder: 1, max: 3 });
    });
    expect(kills()).toBeGreaterThanOrEqual(1);
    expect(r.rows).toEqual(expected);
  });
});
