/**
 * Failovers as a user sees them: every failure is an event with its cause, kept in
 * `handle.failovers()`; a non-retriable user error (a bad record) fails the job at once instead of
 * restarting; a task manager whose thread is stuck is found by its missing heartbeats, and the job
 * recovers without it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobFailedError, MiniCluster, type ClusterOptions } from '../../runtime/api/index.ts';
import type { FailoverRecord } from '../../runtime/failover/failover-history.ts';
import faulty, { deadOut, out, type FaultyParams } from './jobs/faulty-map.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'weir-failover-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function cluster(extra: ClusterOptions = {}): MiniCluster {
  return new MiniCluster({
    workers: 2,
    stateBackend: 'heap',
    workDir: path.join(dir, 'work'),
    checkpoints: { intervalMs: 100, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } },
    restartStrategy: { kind: 'fixed-delay', attempts: 3, delayMs: 0 },
    ...extra,
  });
}

function params(p: Partial<FaultyParams>): FaultyParams {
  return { count: 20_000, failAt: 12_345, mode: 'transient', marker: path.join(dir, 'marker'), ratePerSecond: 20_000, ...p };
}

describe('failover history', () => {
  it('a bad record fails the job at once, with the record, without restarting', async () => {
    const handle = await cluster().submit(faulty, { params: params({ mode: 'poison' }), parallelism: 2 });
    const events: FailoverRecord[] = [];
    handle.on('failover', (r) => events.push(r));
    const error = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as Error).message).toContain('order 12345 has no price');
    expect((error as Error).message).toContain('not retriable');
    expect(handle.restarts).toBe(0);
    const history = handle.failovers();
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ attempt: 1, restarted: false, cause: { name: 'UserFunctionError', operator: 'price-orders', retriable: false, record: '{"id":12345}' } });
    expect(history[0]!.notRestartedBecause).toContain('not retriable');
    expect(events.map((e) => e.cause.message)).toEqual([history[0]!.cause.message]);
  });

  it('with a dead-letter output, a bad record goes there with its error and the job goes on', async () => {
    const handle = await cluster().submit(faulty, { params: params({ mode: 'poison', deadLetter: true }), parallelism: 2 });
    const result = await handle.result();
    const ids = result.get(out).map((r) => r.id);
    expect(ids).toHaveLength(19_999);
    expect(ids).not.toContain(12_345);
    expect(result.get(deadOut)).toEqual([{ record: { id: 12_345 }, operator: 'price-orders', error: { name: 'BadRecordError', message: 'order 12345 has no price' } }]);
    expect(handle.failovers()).toEqual([]);
  });

  it('a transient user error restarts the job; the failover is recorded with its cause and recovery steps', async () => {
    const handle = await cluster().submit(faulty, { params: params({ mode: 'transient' }), parallelism: 2 });
    const failovers: FailoverRecord[] = [];
    const recovered: FailoverRecord[] = [];
    handle.on('failover', (r) => failovers.push(r));
    handle.on('recovered', (r) => recovered.push(r));
    const result = await handle.result();
    const ids = new Set(result.get(out).map((r) => r.id));
    expect(ids.size).toBe(20_000);
    expect(handle.restarts).toBe(1);
    const [f] = handle.failovers();
    expect(f).toMatchObject({ attempt: 1, restarted: true, cause: { name: 'UserFunctionError', operator: 'price-orders', retriable: true } });
    expect(f!.cause.message).toContain('price service unavailable for order 12345');
    expect(f!.runningAt).toBeGreaterThanOrEqual(f!.at);
    expect(f!.recoveredAt).toBeGreaterThanOrEqual(f!.runningAt!);
    expect(Object.keys(f!.breakdown!).sort()).toEqual(['delayMs', 'deployMs', 'findCheckpointMs', 'restoreMs', 'startWorkersMs', 'stopMs']);
    // A user error kills no thread: both task managers serve the next attempt.
    expect(f!.taskManagers).toEqual({ kept: 2, fromSpare: 0, started: 0 });
    expect(failovers.map((r) => r.cause.name)).toEqual(['UserFunctionError']);
    expect(recovered).toHaveLength(1);
    expect(handle.lastRecovery).toEqual({ failedAt: f!.at, runningAt: f!.runningAt, recoveredAt: f!.recoveredAt });
  });

  it('a savepoint asked for while a failover redeploys fails at once, saying so; once the job runs again it is taken', async () => {
    const handle = await cluster().submit(faulty, { params: params({ mode: 'transient', count: 60_000 }), parallelism: 2 });
    // From the failure until the new attempt's tasks are deployed, ask for a savepoint every turn of
    // the event loop: each must fail at once (before the restart completes), none may wait for
    // tasks that are not there yet (it would hang until the checkpoint timeout).
    const asked: { settledBeforeRestart: boolean; error?: string }[] = [];
    let restarted = false;
    const pending: Promise<unknown>[] = [];
    handle.on('restarted', () => (restarted = true));
    await new Promise<void>((resolve) => handle.on('failover', () => resolve()));
    while (!restarted) {
      const entry: { settledBeforeRestart: boolean; error?: string } = { settledBeforeRestart: false };
      asked.push(entry);
      pending.push(
        handle.triggerSavepoint().then(
          () => (entry.settledBeforeRestart = !restarted),
          (e: Error) => {
            entry.settledBeforeRestart = !restarted;
            entry.error = e.message;
          },
        ),
      );
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(pending);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.filter((a) => !a.settledBeforeRestart)).toEqual([]);
    expect(asked.every((a) => a.error?.includes('restarting after a failure'))).toBe(true);
    const savepoint = await handle.triggerSavepoint();
    expect(savepoint.scope).toBe('savepoint');
    expect(new Set((await handle.result()).get(out).map((r) => r.id)).size).toBe(60_000);
  });

  it('a task manager whose thread is stuck is found by its heartbeats; metrics do not wait for it; the job recovers', async () => {
    const handle = await cluster({ heartbeat: { intervalMs: 200, timeoutMs: 1500 } }).submit(faulty, {
      params: params({ mode: 'stall', count: 30_000, failAt: 3_000, ratePerSecond: 10_000 }),
      parallelism: 2,
    });
    const seen: FailoverRecord[] = [];
    handle.on('failover', (r) => seen.push(r));
    // While one task manager is stuck, metrics still answer, naming it unresponsive (a call in
    // flight when the thread froze answers when it times out or the task manager is declared lost).
    const unresponsive = new Set<number>();
    while (seen.length === 0) {
      for (const i of (await handle.metrics()).unresponsive ?? []) unresponsive.add(i);
      await new Promise((r) => setTimeout(r, 20));
    }
    const result = await handle.result();
    expect(new Set(result.get(out).map((r) => r.id)).size).toBe(30_000);
    const [f] = handle.failovers();
    expect(f!.restarted).toBe(true);
    expect(f!.cause.message).toMatch(/task manager \d sent no heartbeat for \d+ ms/);
    expect(f!.cause.retriable).toBe(true);
    // The stuck task manager is replaced (by the warm spare, or a new thread), the other one kept.
    expect(f!.taskManagers!.kept).toBe(1);
    expect(f!.taskManagers!.fromSpare + f!.taskManagers!.started).toBe(1);
    expect(f!.recoveredAt).toBeDefined();
    expect(unresponsive.size).toBe(1);
    expect((await handle.metrics()).attempt).toBe(2);
  });
});
