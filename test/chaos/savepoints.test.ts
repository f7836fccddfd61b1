/**
 * Savepoints under failure and across job versions, each compared with a failure-free run of the
 * transactional sink's committed output (nothing missing, nothing twice):
 *
 * - an intermediate savepoint then a worker kill: the savepoint committed nothing, failover goes
 *   back to the latest checkpoint, and the savepoint's pre-committed rows are aborted and replayed;
 * - a savepoint, 5 more checkpoints (retention deletes older checkpoints, never the savepoint),
 *   then a new job restored from the savepoint;
 * - stop-with-savepoint (job ends 'stopped', nothing triggered after it, nothing left pending), resume;
 * - resume a changed job: one added source (reads its records) and one added stateful operator.
 *
 * The job's output does not depend on the generator's rate, only on count and seed.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { MiniCluster, type JobHandle, type SavepointRef } from '../../runtime/api/index.ts';
import { listPending, readCommitted } from '../harness/transactional-sink.ts';
import job, { EXTRA_ORDERS, type Order, type ShopSecond } from './jobs/keyed-aggregation.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-savepoints-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const COUNT = 18_000;
const SEED = 11;
/** Records per second where a test acts mid-stream: slow enough that the job is still running on a loaded machine. */
const MID_STREAM_RATE = 2_500;

function canonical(rows: ShopSecond[]): string[] {
  return rows.map((r) => `${r.shop}@${r.second}:${r.orders}:${r.cents}`).sort();
}

function cluster(name: string, intervalMs = 100): MiniCluster {
  return new MiniCluster({
    workers: 2,
    workDir: path.join(root, name, 'work'),
    checkpoints: { intervalMs, retained: 3, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } },
    restartStrategy: { kind: 'fixed-delay', attempts: 10, delayMs: 20 },
    onWarning: () => {},
  });
}

function params(outDir: string, ratePerSecond: number, upgraded = false) {
  return { count: COUNT, ratePerSecond, seed: SEED, outDir, ...(upgraded ? { upgraded } : {}) };
}

/** Resolves after `n` more checkpoints completed; fails (instead of waiting forever) if the job ends first. */
function checkpointsCompleted(handle: JobHandle, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const on = (): void => {
      if (++seen === n) {
        handle.off('checkpoint-completed', on);
        resolve();
      }
    };
    handle.on('checkpoint-completed', on);
    const ended = (): void => reject(new Error(`the job ended (${handle.status}) after ${seen} of the ${n} checkpoints the test waited for: slow the source down`));
    handle.result().then(ended, ended);
  });
}

/** Orders the source read, from the job's final metrics. */
async function ordersRead(handle: JobHandle): Promise<number> {
  return (await handle.metrics()).operators.filter((o) => o.name === 'orders').reduce((a, o) => a + o.recordsOut, 0);
}

/** Copies the committed transactions a savepoint covers (begun at or before it) into a fresh sink directory. */
function sinkAsOfSavepoint(from: string, to: string, savepointId: number): void {
  mkdirSync(path.join(to, 'committed'), { recursive: true });
  for (const f of readdirSync(path.join(from, 'committed'))) {
    const m = /^s\d+-c(\d+)-[0-9a-f]+\.json$/.exec(f);
    if (m && Number(m[1]) <= savepointId) copyFileSync(path.join(from, 'committed', f), path.join(to, 'committed', f));
  }
}

async function stopWithSavepointAfter(name: string, checkpoints: number, outDir: string, intervalMs = 100, drain = false): Promise<{ savepoint: SavepointRef; handle: JobHandle }> {
  const handle = await cluster(name, intervalMs).submit(job, { params: params(outDir, MID_STREAM_RATE), parallelism: 2 });
  await checkpointsCompleted(handle, checkpoints);
  const savepoint = await handle.stopWithSavepoint({ drain });
  await handle.result();
  return { savepoint, handle };
}

describe('savepoints', () => {
  let expected: string[] = [];

  it('a failure-free run', async () => {
    const outDir = path.join(root, 'reference', 'out');
    const handle = await cluster('reference').submit(job, { params: params(outDir, 20_000), parallelism: 2 });
    await handle.result();
    const rows = readCommitted<ShopSecond>(outDir);
    expect(rows.reduce((a, r) => a + r.orders, 0)).toBe(COUNT);
    expected = canonical(rows);
  });

  for (const run of [1, 2, 3]) {
    it(`run ${run}: a savepoint then a worker kill commits the same output`, async () => {
      const outDir = path.join(root, `savepoint-kill-${run}`, 'out');
      const handle = await cluster(`savepoint-kill-${run}`).submit(job, { params: params(outDir, MID_STREAM_RATE), parallelism: 2 });
      await checkpointsCompleted(handle, run);
      const savepoint = await handle.triggerSavepoint();
      // the savepoint is complete: kill a worker before the next checkpoint can commit its transactions
      handle.killTaskManager(run % 2);
      await handle.result();
      expect(handle.restarts).toBeGreaterThanOrEqual(1);
      expect(handle.checkpoints().find((c) => c.id === savepoint.checkpointId)).toMatchObject({ kind: 'savepoint', status: 'completed' });
      expect(canonical(readCommitted<ShopSecond>(outDir))).toEqual(expected);
      expect(listPending(outDir)).toEqual([]);
    });
  }

  it('a savepoint outlives checkpoint retention: 5 checkpoints later a new job restores from it', async () => {
    const outA = path.join(root, 'retention-a', 'out');
    const a = await cluster('retention-a').submit(job, { params: params(outA, 1_500), parallelism: 2 });
    await checkpointsCompleted(a, 2);
    const savepoint = await a.triggerSavepoint();
    await checkpointsCompleted(a, 5);
    await a.cancel();

    // retention (3) deleted checkpoints older than the savepoint; the savepoint, keyed state included, is still there
    const jobDir = path.join(root, 'checkpoints', a.jobId);
    const retained = readdirSync(jobDir).filter((d) => d.startsWith('chk-')).map((d) => Number(d.slice(4)));
    expect(Math.min(...retained)).toBeGreaterThan(savepoint.checkpointId);
    expect(savepoint.location).toBe(path.join(jobDir, 'savepoints', `sp-${savepoint.checkpointId}`));
    const files = readdirSync(savepoint.location);
    expect(files).toContain('_metadata');
    expect(files.some((f) => f.startsWith('sum-per-second-') && f.endsWith('-keyed.bin'))).toBe(true);

    // the sink as it was at the savepoint, then the rest from the savepoint's positions and state
    const outB = path.join(root, 'retention-b', 'out');
    sinkAsOfSavepoint(outA, outB, savepoint.checkpointId);
    const b = await cluster('retention-b').submit(job, { params: params(outB, 20_000), parallelism: 2, restoreFrom: savepoint });
    await b.result();
    expect(canonical(readCommitted<ShopSecond>(outB))).toEqual(expected);
  });

  it('stop-with-savepoint ends the job stopped with exactly what the savepoint covers committed; resuming completes the output', async () => {
    const outDir = path.join(root, 'stop', 'out');
    // checkpoints every 20 ms: a periodic checkpoint would have every chance to slip in after the savepoint
    const { savepoint, handle } = await stopWithSavepointAfter('stop', 3, outDir, 20);
    expect(handle.status).toBe('stopped');
    expect(Math.max(...handle.checkpoints().map((c) => c.id))).toBe(savepoint.checkpointId);
    expect(handle.checkpoints().find((c) => c.id === savepoint.checkpointId)).toMatchObject({ kind: 'stop-savepoint', status: 'completed' });
    // everything pre-committed up to the savepoint was committed, nothing after it was pre-committed
    expect(listPending(outDir)).toEqual([]);
    const before = readCommitted<ShopSecond>(outDir);
    // without drain no final watermark: the seconds still open at the barrier stay in the savepoint's state
    const read = await ordersRead(handle);
    expect(read).toBeLessThan(COUNT);
    expect(before.reduce((a, r) => a + r.orders, 0)).toBeLessThan(read);
    // what was committed is part of the reference output, each row once
    expect(new Set(canonical(before)).size).toBe(before.length);
    expect(canonical(before).every((r) => expected.includes(r))).toBe(true);

    const resumed = await cluster('stop-resume').submit(job, { params: params(outDir, 20_000), parallelism: 2, restoreFrom: savepoint });
    await resumed.result();
    expect(resumed.status).toBe('finished');
    expect(canonical(readCommitted<ShopSecond>(outDir))).toEqual(expected);
  });

  it('without periodic checkpoints, stop-with-savepoint and resume give the same output', async () => {
    const outDir = path.join(root, 'no-periodic', 'out');
    const handle = await cluster('no-periodic', 0).submit(job, { params: params(outDir, MID_STREAM_RATE), parallelism: 2 });
    // some output committed by nothing yet: wait until the source has read part of its input
    await vi.waitFor(async () => expect((await handle.metrics()).operators.find((o) => o.name === 'orders')!.recordsOut).toBeGreaterThan(COUNT / 4), { timeout: 60_000, interval: 50 });
    const savepoint = await handle.stopWithSavepoint();
    expect(handle.status).toBe('stopped');
    expect(handle.checkpoints().map((c) => c.kind)).toEqual(['stop-savepoint']);
    expect(listPending(outDir)).toEqual([]);
    expect(readCommitted<ShopSecond>(outDir).length).toBeGreaterThan(0);
    await cluster('no-periodic-resume', 0).execute(job, { params: params(outDir, 20_000), parallelism: 2, restoreFrom: savepoint });
    expect(canonical(readCommitted<ShopSecond>(outDir))).toEqual(expected);
  });

  it('stop-with-savepoint with drain fires every open window: the sink commits exactly the orders read before the barrier', async () => {
    const outDir = path.join(root, 'drain', 'out');
    const { savepoint, handle } = await stopWithSavepointAfter('drain', 3, outDir, 20, true);
    expect(handle.status).toBe('stopped');
    expect(handle.checkpoints().find((c) => c.id === savepoint.checkpointId)).toMatchObject({ kind: 'drain-savepoint', status: 'completed' });
    expect(Math.max(...handle.checkpoints().map((c) => c.id))).toBe(savepoint.checkpointId);
    expect(listPending(outDir)).toEqual([]);
    const read = await ordersRead(handle);
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(COUNT);
    expect(readCommitted<ShopSecond>(outDir).reduce((a, r) => a + r.orders, 0)).toBe(read);
  });

  it('a changed job resumes: the added source reads its records, the added stateful operator starts empty', async () => {
    const outDir = path.join(root, 'upgrade', 'out');
    const { savepoint } = await stopWithSavepointAfter('upgrade', 2, outDir);
    const v2 = await cluster('upgrade-v2').submit(job, { params: params(outDir, 20_000, true), parallelism: 2, restoreFrom: savepoint });
    await v2.result();
    expect(canonical(readCommitted<ShopSecond>(outDir))).toEqual(expected);
    const extra = readCommitted<Order>(path.join(outDir, 'extra'));
    expect(extra).toHaveLength(EXTRA_ORDERS);
    expect(existsSync(path.join(outDir, 'extra', 'committed'))).toBe(true);
  });
});
