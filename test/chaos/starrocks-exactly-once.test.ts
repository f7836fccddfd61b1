/**
 * Exactly-once into StarRocks (the loopback test server, test/services/starrocks/) under failure
 * injection: worker threads killed at seeded random points and right when checkpoints start, the
 * server crashing between prepare and commit, the server restarted mid-run. The job restarts from its
 * latest completed checkpoint; the committer commits what it held, the writers roll back what came
 * after. The final table (a Duplicate Key table: a twice-loaded row shows twice) must equal the
 * failure-free run's, and no label may have been begun twice (the server's label log).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobHandle, MiniCluster, SeededRandom } from 'weir';
import { StarRocksTestServer } from '../services/starrocks/process.ts';
import job, { type KeyCount, type Params } from './jobs/starrocks-running-count.ts';
import { killAtCheckpoints, killAtSeededTimes } from '../harness/kills.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-starrocks-chaos-'));
const COUNT = 6000;
const KEYS = 300;
const RATE = 6000;

let server: StarRocksTestServer;
beforeAll(async () => {
  server = await StarRocksTestServer.start();
});
afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

function canonical(rows: KeyCount[]): string[] {
  return rows.map((r) => `${r.k}:${r.n}`).sort();
}

function cluster(dir: string): MiniCluster {
  return new MiniCluster({
    workers: 2,
    workDir: path.join(dir, 'work'),
    checkpoints: { intervalMs: 100, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } },
    restartStrategy: { kind: 'fixed-delay', attempts: 20, delayMs: 20 },
  });
}

async function createTable(name: string): Promise<{ table: string; params: Params }> {
  const table = name.replace(/-/g, '_');
  await server.createTable({ db: 'weir', table, columns: [{ name: 'k', type: 'VARCHAR' }, { name: 'n', type: 'INT' }], primaryKey: [] });
  return { table, params: { count: COUNT, keys: KEYS, ratePerSecond: RATE, feUrl: server.feUrl, user: server.user, password: server.password, table } };
}

async function run(name: string, act: (handle: JobHandle) => void, ratePerSecond = RATE): Promise<{ rows: string[]; restarts: number; reused: string[] }> {
  const { table, params } = await createTable(name);
  const handle = await cluster(path.join(root, name)).submit(job, { params: { ...params, ratePerSecond }, parallelism: 2 });
  act(handle);
  await handle.result();
  return { ...(await tableState(table)), restarts: handle.restarts };
}

async function tableState(table: string): Promise<{ rows: string[]; reused: string[] }> {
  const begun = new Map<string, number>();
  for (const e of await server.labels()) if (e.label.startsWith(table) && e.event === 'begin' && e.result === 'OK') begun.set(e.label, (begun.get(e.label) ?? 0) + 1);
  return { rows: canonical((await server.rows('weir', table)) as unknown as KeyCount[]), reused: [...begun].filter(([, n]) => n > 1).map(([l]) => l) };
}

describe('StarRocks sink exactly-once with failures', () => {
  let expected: string[] = [];

  it('a failure-free run writes every (key, count) once', async () => {
    const r = await run('reference', () => {});
    expect(r.restarts).toBe(0);
    expect(r.rows.length).toBe(COUNT);
    expect(new Set(r.rows).size).toBe(COUNT);
    expected = r.rows;
  });

  for (let runNo = 1; runNo <= 2; runNo++) {
    it(`run ${runNo}: worker kills at seeded random points leave the same table`, async () => {
      const random = new SeededRandom(500 + runNo);
      const r = await run(`random-${runNo}`, (handle) => {
        killAtSeededTimes(handle, random, { from: 100, spread: 600, gap: 150, gapSpread: 500 });
      });
      expect(r.restarts).toBeGreaterThanOrEqual(1);
      expect(r.rows).toEqual(expected);
      expect(r.reused).toEqual([]);
    });
  }

  it('kills right when checkpoints start (writers between load and prepare) leave the same table', async () => {
    let kills = (): number => 0;
    const r = await run('at-checkpoint', (handle) => {
      kills = killAtCheckpoints(handle, 'checkpoint-triggered', { every: 3, remainder: 2, max: 2 });
    });
    expect(kills()).toBeGreaterThanOrEqual(1);
    expect(r.rows).toEqual(expected);
    expect(r.reused).toEqual([]);
  });

  it('kills right after checkpoints complete (commits in flight) leave the same table', async () => {
    let kills = (): number => 0;
    const r = await run('at-commit', (handle) => {
      kills = killAtCheckpoints(handle, 'checkpoint-completed', { every: 3, remainder: 1, max: 2 });
    });
    expect(kills()).toBeGreaterThanOrEqual(1);
    expect(r.rows).toEqual(expected);
    expect(r.reused).toEqual([]);
  });

  // Slower sources here: the job must still be running when the server goes away, on a loaded machine too.
  it('the server crashes between prepare and commit, and is restarted: the same table', async () => {
    let injected = false;
    let crashed = false;
    const r = await run(
      'server-crash',
      (handle) => {
        handle.on('checkpoint-completed', () => {
          if (injected) return;
          injected = true;
          // the next prepare is journaled, then the server dies before answering
          void server.inject({ op: 'prepare', kind: 'crash-after' }).then(async () => {
            await server.waitForExit();
            crashed = true;
            await server.restart();
          });
        });
      },
      2000,
    );
    expect(crashed).toBe(true);
    expect(r.rows).toEqual(expected);
    expect(r.reused).toEqual([]);
  });

  it('a server restart mid-run: the same table', async () => {
    let restarted = false;
    const r = await run(
      'server-restart',
      (handle) => {
        handle.on('checkpoint-completed', () => {
          if (restarted) return;
          restarted = true;
          void server.restart();
        });
      },
      2000,
    );
    expect(restarted).toBe(true);
    expect(r.rows).toEqual(expected);
    expect(r.reused).toEqual([]);
  });

  it('stopped with a savepoint at parallelism 2, resumed at 1: the same table (the one writer takes over both old subtasks)', async () => {
    const { table, params } = await createTable('rescale');
    const dir = path.join(root, 'rescale');
    // slow enough that the job is still running when some rows are committed
    const first = await cluster(dir).submit(job, { params: { ...params, ratePerSecond: 1000 }, parallelism: 2 });
    while ((await server.rows('weir', table)).length === 0) {
      if (first.status !== 'running') throw new Error(`the job ended (${first.status}) before it committed rows`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const savepoint = await first.stopWithSavepoint();
    const atStop = (await server.rows('weir', table)).length;
    expect(atStop).toBeGreaterThan(0);
    expect(atStop).toBeLessThan(COUNT);
    await cluster(dir).execute(job, { params, parallelism: 1, restoreFrom: savepoint });
    const r = await tableState(table);
    expect(r.rows).toEqual(expected);
    expect(r.reused).toEqual([]);
  });
});
