/**
 * Task managers killed at the risky moments of a failover: while the failed attempt is being
 * stopped, during the restart delay, while the next attempt deploys, right after it runs. Whatever
 * the moment, no death is lost: a thread that dies holding tasks (the running attempt's, or the one
 * being deployed) costs one more restart, as a task failure during a restart does in Flink; a thread
 * that dies holding none (kept between attempts, during the restart delay) is replaced by the next
 * attempt without one (Flink releases the lost slots and restarts nothing: no task ran there). The
 * job always ends with exactly the failure-free run's output. Counts, not times, are asserted. And a
 * stop-with-savepoint caller whose stop a failover interrupted hears back even when the job is
 * canceled during the restart delay.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster, type JobHandle } from 'weir';
import type { FailoverRecord } from '../../runtime/failover/failover-history.ts';
import { listPending, readCommitted } from '../harness/transactional-sink.ts';
import job, { type ShopSecond } from '../chaos/jobs/keyed-aggregation.ts';
import stalling from './jobs/stalling-sink.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-failover-kills-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const COUNT = 20_000;
const RATE = 15_000;
/** The restart delay: long enough that a kill asked for in it lands in it. */
const DELAY_MS = 500;

const canonical = (rows: ShopSecond[]): string[] => rows.map((r) => `${r.shop}@${r.second}:${r.orders}:${r.cents}`).sort();

interface Run {
  rows: string[];
  pending: string[];
  restarts: number;
  failovers: FailoverRecord[];
}

/** Two task managers, heap state, checkpoints every `intervalMs` (0: only on request) under `dir`, fixed-delay restarts. */
function clusterIn(dir: string, intervalMs: number, attempts: number): MiniCluster {
  return new MiniCluster({
    workers: 2,
    stateBackend: 'heap',
    workDir: path.join(dir, 'work'),
    checkpoints: { intervalMs, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } },
    restartStrategy: { kind: 'fixed-delay', attempts, delayMs: DELAY_MS },
  });
}

/** Runs the job; `inject` gets the handle before any checkpoint completes. */
async function run(name: string, inject: (handle: JobHandle) => void): Promise<Run> {
  const dir = path.join(root, name);
  const outDir = path.join(dir, 'out');
  const handle = await clusterIn(dir, 100, 10).submit(job, { params: { count: COUNT, ratePerSecond: RATE, seed: 7, outDir }, parallelism: 2 });
  inject(handle);
  await handle.result();
  return { rows: canonical(readCommitted<ShopSecond>(outDir)), pending: listPending(outDir), restarts: handle.restarts, failovers: handle.failovers() };
}

/** Kills task manager 1 once the first checkpoint completed; `then` runs at the failover that follows. */
function firstKill(handle: JobHandle, then: (handle: JobHandle) => void): void {
  let killed = false;
  handle.on('checkpoint-completed', () => {
    if (killed) return;
    killed = true;
    handle.once('failover', () => then(handle));
    handle.killTaskManager(1);
  });
}

const causes = (failovers: FailoverRecord[]): string[] => failovers.map((f) => f.cause.message);

/** Calls `fn` on the first turn of the event loop at which `ready` holds, as long as `still` does. */
function when(ready: () => boolean, still: () => boolean, fn: () => void): void {
  const poll = (): void => {
    if (!still()) return;
    if (ready()) fn();
    else setImmediate(poll);
  };
  poll();
}

/**
 * Task manager 0 killed after task manager 1's failure, while the failover held no tasks on it (the
 * restart delay): the restart under way replaces its thread and
 * none follows. Were its thread to end only after the next attempt took it (the kill outlasting the
 * delay: DELAY_MS is far more than a kill takes), that attempt would lose a deployed task manager and
 * restart once more. Either way no death is lost.
 */
function expectReplacedByThePendingRestart(r: Run): void {
  if (r.restarts === 1) {
    expect(causes(r.failovers)).toEqual(['task manager 1 died with exit code 1']);
    expect(r.failovers[0]!.taskManagers).toMatchObject({ kept: 0 });
  } else {
    expect(causes(r.failovers)).toEqual(['task manager 1 died with exit code 1', expect.stringMatching(/^task manager 0 /)]);
  }
}

describe('task managers killed during a failover', () => {
  let expected: string[] = [];

  it('a failure-free run', async () => {
    const r = await run('reference', () => {});
    expect(r.restarts).toBe(0);
    expect(r.rows.length).toBeGreaterThan(0);
    expected = r.rows;
  });

  it('both killed at once (the second dies as the first failure stops the attempt): one restart replaces both threads', async () => {
    const r = await run('both', (handle) => {
      let killed = false;
      handle.on('checkpoint-completed', () => {
        if (killed) return;
        killed = true;
        handle.killTaskManager(1);
        handle.killTaskManager(0);
      });
    });
    expect(r.rows).toEqual(expected);
    expect(r.pending).toEqual([]);
    expect(r.restarts).toBe(1);
    expect(causes(r.failovers)).toEqual([expect.stringMatching(/^task manager [01] died with exit code 1$/)]);
    expect(r.failovers[0]!.taskManagers).toMatchObject({ kept: 0 });
  });

  it('killed during the restart delay: the restart under way replaces it (the pipeline test read `restarts` here and waited for one more)', async () => {
    const atKill: { phase?: string; restarts?: number } = {};
    const r = await run('in-delay', (handle) =>
      firstKill(handle, (h) =>
        when(() => h.restartPhase === 'delay', () => h.restarting, () => {
          atKill.phase = h.restartPhase;
          atKill.restarts = h.restarts;
          h.killTaskManager(0);
        }),
      ),
    );
    expect(r.rows).toEqual(expected);
    expect(r.pending).toEqual([]);
    expect(atKill).toEqual({ phase: 'delay', restarts: 1 });
    expectReplacedByThePendingRestart(r);
  });

  it('killed while the next attempt deploys: a task manager with tasks lost during a restart costs one more restart', async () => {
    const phases: (string | undefined)[] = [];
    const r = await run('in-deploy', (handle) =>
      firstKill(handle, (h) =>
        // The next attempt exists once its task managers are all there (a spare or a new thread for the dead one).
        when(() => h.restartPhase === 'deploying' && h.attemptNumber === 2 && h.liveTaskManagers === 2, () => h.restarting, () => {
          phases.push(h.restartPhase);
          h.killTaskManager(0);
        }),
      ),
    );
    expect(r.rows).toEqual(expected);
    expect(r.pending).toEqual([]);
    expect(phases).toEqual(['deploying']);
    expect(r.restarts).toBe(2);
    expect(causes(r.failovers)).toEqual(['task manager 1 died with exit code 1', expect.stringMatching(/^task manager 0 /)]);
  });

  it('killed as the restarted attempt runs: one more restart', async () => {
    const r = await run('at-restarted', (handle) => firstKill(handle, (h) => h.once('restarted', () => h.killTaskManager(0))));
    expect(r.rows).toEqual(expected);
    expect(r.pending).toEqual([]);
    expect(r.restarts).toBe(2);
    expect(causes(r.failovers)).toEqual(['task manager 1 died with exit code 1', 'task manager 0 died with exit code 1']);
    expect(r.failovers.map((f) => f.taskManagers)).toEqual([expect.objectContaining({ kept: 1 }), expect.objectContaining({ kept: 1 })]);
  });

  it('a task manager dies after a stop-with-savepoint completed, before its tasks ended, and the job is canceled during the restart delay: the stop call fails, it does not wait forever', async () => {
    const dir = path.join(root, 'stop-cancel');
    mkdirSync(dir, { recursive: true });
    const release = path.join(dir, 'release');
    const handle = await clusterIn(dir, 0, 3).submit(stalling, { params: { release }, parallelism: 2 });
    const stopping = handle.stopWithSavepoint().then(
      () => 'stopped',
      (e: Error) => e.message,
    );
    const phases: (string | undefined)[] = [];
    handle.once('failover', () =>
      when(() => handle.restartPhase === 'delay', () => handle.restarting, () => {
        phases.push(handle.restartPhase);
        void handle.cancel();
      }),
    );
    // The savepoint completed; the sinks' commits (until `release` exists) keep the tasks from ending.
    when(() => handle.checkpoints().some((c) => c.status === 'completed'), () => handle.status === 'running', () => handle.killTaskManager(1));
    // Task manager 0's commit may end once task manager 1 is gone (its tasks are being canceled).
    when(() => handle.liveTaskManagers < 2, () => true, () => writeFileSync(release, ''));
    expect(await stopping).toMatch(/^stopping job \S+ with a savepoint failed: the job ended or failed after savepoint \d+ completed: task manager 1 died with exit code 1$/);
    expect(phases).toEqual(['delay']);
    expect(handle.status).toBe('canceled');
  });
});
