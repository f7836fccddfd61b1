/**
 * The checkpoint coordinator, driven by hand: an injectable clock, an in-memory storage, and tasks
 * that are just ids whose acknowledgements the test sends. Timeouts and the periodic trigger run on
 * vitest's fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkpointConfig, type CheckpointConfig } from '../../../runtime/checkpoint/config.ts';
import { CheckpointCoordinator } from '../../../runtime/checkpoint/coordinator.ts';
import type { CheckpointMetadata, TaskSnapshot } from '../../../runtime/checkpoint/metadata.ts';
import type { SnapshotKind } from '../../../runtime/checkpoint/snapshot-kind.ts';
import type { CheckpointScope, CheckpointStorage, CompletedCheckpoint } from '../../../state/index.ts';

class MemoryStorage implements Partial<CheckpointStorage> {
  readonly location = 'memory://job';
  readonly written: { id: number; scope: CheckpointScope; metadata: CheckpointMetadata }[] = [];
  readonly discarded: { id: number; scope: CheckpointScope }[] = [];
  failNextWrite = false;

  async writeMetadata(checkpointId: number, metadata: unknown, options: { scope?: CheckpointScope } = {}): Promise<CompletedCheckpoint> {
    const scope = options.scope ?? 'checkpoint';
    if (this.failNextWrite) {
      this.failNextWrite = false;
      throw new Error('disk full');
    }
    this.written.push({ id: checkpointId, scope, metadata: metadata as CheckpointMetadata });
    return { checkpointId, scope, location: `${this.location}/${scope}-${checkpointId}`, createdAt: 0, metadata, files: [] };
  }

  async discard(checkpointId: number, options: { scope?: CheckpointScope } = {}): Promise<void> {
    this.discarded.push({ id: checkpointId, scope: options.scope ?? 'checkpoint' });
  }
}

interface Harness {
  coordinator: CheckpointCoordinator;
  storage: MemoryStorage;
  triggered: [number, SnapshotKind][];
  completed: [number, SnapshotKind][];
  aborted: number[];
  clock: { t: number };
  ackAll(id: number, bytes?: number): void;
}

function snapshot(task: number, id: number, bytes = 10, alignmentMs = 0): TaskSnapshot {
  return { nodes: { [`op-${task}`]: { subtask: 0, operator: { type: 'weir.operator-state', version: 1, operatorUid: `op-${task}`, subtask: 0, checkpointId: id, states: {} } } }, alignmentMs, bytes };
}

function harness(config: Partial<CheckpointConfig> = {}, firstCheckpointId = 1): Harness {
  const storage = new MemoryStorage();
  const triggered: [number, SnapshotKind][] = [];
  const completed: [number, SnapshotKind][] = [];
  const aborted: number[] = [];
  const clock = { t: 1000 };
  const tasks = [0, 1, 2];
  const coordinator = new CheckpointCoordinator({
    jobId: 'job',
    config: checkpointConfig({ timeoutMs: 5000, ...config }),
    storage: storage as unknown as CheckpointStorage,
    maxParallelism: 128,
    tasks: tasks.map((t) => ({ taskId: t, subtask: 0, nodes: [{ uid: `op-${t}`, name: `op ${t}`, parallelism: 1 }] })),
    firstCheckpointId,
    now: () => clock.t,
    triggerSources: async (id, kind) => void triggered.push([id, kind]),
    notifyComplete: (id, kind) => void completed.push([id, kind]),
    notifyAborted: (id) => void aborted.push(id),
  });
  return {
    coordinator,
    storage,
    triggered,
    completed,
    aborted,
    clock,
    ackAll: (id, bytes = 10) => {
      for (const t of tasks) coordinator.acknowledge(t, id, snapshot(t, id, bytes, t * 5));
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CheckpointCoordinator', () => {
  it('triggers the sources, completes when every task acknowledged, writes metadata by uid, then notifies', async () => {
    const h = harness({}, 7);
    const done = h.coordinator.trigger();
    expect(h.triggered).toEqual([[7, 'checkpoint']]);
    h.coordinator.acknowledge(0, 7, snapshot(0, 7));
    h.coordinator.acknowledge(1, 7, snapshot(1, 7));
    await Promise.resolve();
    expect(h.completed).toEqual([]);
    expect(h.coordinator.latestCompleted).toBeUndefined();
    h.clock.t = 1250;
    h.coordinator.acknowledge(2, 7, snapshot(2, 7, 30, 12));
    const c = await done;
    expect(c.checkpointId).toBe(7);
    expect(h.completed).toEqual([[7, 'checkpoint']]);
    expect(h.coordinator.latestCompleted?.checkpointId).toBe(7);
    expect(h.storage.written.map((w) => [w.id, w.scope])).toEqual([[7, 'checkpoint']]);
    expect(Object.keys(h.storage.written[0]!.metadata.operators).sort()).toEqual(['op-0', 'op-1', 'op-2']);
    expect(h.coordinator.history).toEqual([
      expect.objectContaining({ id: 7, kind: 'checkpoint', savepoint: false, status: 'completed', triggeredAt: 1000, durationMs: 250, bytes: 50, alignmentMs: 12 }),
    ]);
  });

  it('acknowledgements for unknown or finished checkpoints are ignored', async () => {
    const h = harness();
    h.coordinator.acknowledge(0, 99, snapshot(0, 99));
    const done = h.coordinator.trigger();
    h.ackAll(1);
    await done;
    h.coordinator.acknowledge(0, 1, snapshot(0, 1));
    await Promise.resolve();
    expect(h.completed).toEqual([[1, 'checkpoint']]);
  });

  it('a newer checkpoint completing first subsumes the older pending one', async () => {
    const h = harness({ maxConcurrent: 2 });
    const first = h.coordinator.trigger();
    const second = h.coordinator.trigger();
    h.coordinator.acknowledge(0, 1, snapshot(0, 1));
    h.ackAll(2);
    await second;
    await expect(first).rejects.toThrow(/checkpoint 1 aborted: subsumed by checkpoint 2/);
    expect(h.completed).toEqual([[2, 'checkpoint']]);
    expect(h.aborted).toEqual([1]);
    expect(h.storage.discarded).toEqual([{ id: 1, scope: 'checkpoint' }]);
    // late acks of the subsumed one change nothing
    h.coordinator.acknowledge(1, 1, snapshot(1, 1));
    h.coordinator.acknowledge(2, 1, snapshot(2, 1));
    await Promise.resolve();
    expect(h.coordinator.latestCompleted?.checkpointId).toBe(2);
    expect(h.coordinator.history.map((s) => [s.id, s.status])).toEqual([[1, 'aborted'], [2, 'completed']]);
  });

  it('a savepoint completing after a newer checkpoint does not replace the latest', async () => {
    const h = harness({ maxConcurrent: 2 });
    const sp = h.coordinator.trigger('savepoint');
    const cp = h.coordinator.trigger();
    h.ackAll(2);
    await cp;
    h.ackAll(1);
    await sp;
    expect(h.coordinator.latestCompleted?.checkpointId).toBe(2);
  });

  it('a checkpoint not complete within timeoutMs is aborted and its files discarded', async () => {
    const h = harness({ timeoutMs: 1000 });
    const done = h.coordinator.trigger();
    h.coordinator.acknowledge(0, 1, snapshot(0, 1));
    h.clock.t = 2000;
    vi.advanceTimersByTime(999);
    expect(h.aborted).toEqual([]);
    vi.advanceTimersByTime(1);
    await expect(done).rejects.toThrow(/checkpoint 1 aborted: not complete after 1000 ms/);
    expect(h.aborted).toEqual([1]);
    expect(h.storage.discarded).toEqual([{ id: 1, scope: 'checkpoint' }]);
    expect(h.coordinator.history[0]).toMatchObject({ status: 'aborted', durationMs: 1000 });
    // acks after the abort do not complete it
    h.coordinator.acknowledge(1, 1, snapshot(1, 1));
    h.coordinator.acknowledge(2, 1, snapshot(2, 1));
    await Promise.resolve();
    expect(h.completed).toEqual([]);
  });

  it('a declined checkpoint is aborted with the task and its reason', async () => {
    const h = harness();
    const done = h.coordinator.trigger();
    h.coordinator.decline(2, 1, "could not align: still waiting for input channel 1 (from 'map' subtask 0)");
    await expect(done).rejects.toThrow(/checkpoint 1 aborted: task 2 declined: could not align: still waiting for input channel 1 \(from 'map' subtask 0\)/);
    expect(h.aborted).toEqual([1]);
    // the next one works
    const next = h.coordinator.trigger();
    h.ackAll(2);
    expect((await next).checkpointId).toBe(2);
  });

  it('writing metadata failing aborts the checkpoint', async () => {
    const h = harness();
    h.storage.failNextWrite = true;
    const done = h.coordinator.trigger();
    h.ackAll(1);
    await expect(done).rejects.toThrow(/writing its metadata failed: disk full/);
    expect(h.completed).toEqual([]);
    expect(h.coordinator.latestCompleted).toBeUndefined();
  });

  it('an intermediate savepoint commits nothing, is not the latest checkpoint and subsumes nothing', async () => {
    const h = harness({ maxConcurrent: 2 });
    const cp1 = h.coordinator.trigger();
    h.ackAll(1);
    await cp1;
    const cp2 = h.coordinator.trigger();
    const sp = h.coordinator.trigger('savepoint');
    expect(h.triggered).toEqual([[1, 'checkpoint'], [2, 'checkpoint'], [3, 'savepoint']]);
    h.ackAll(3);
    const saved = await sp;
    expect(saved.scope).toBe('savepoint');
    expect(h.storage.written.map((w) => [w.id, w.scope])).toEqual([[1, 'checkpoint'], [3, 'savepoint']]);
    expect(h.completed).toEqual([[1, 'checkpoint']]);
    expect(h.coordinator.latestCompleted?.checkpointId).toBe(1);
    // checkpoint 2, older than the savepoint, was not subsumed by it
    h.ackAll(2);
    await cp2;
    expect(h.completed).toEqual([[1, 'checkpoint'], [2, 'checkpoint']]);
    expect(h.coordinator.latestCompleted?.checkpointId).toBe(2);
    expect(h.coordinator.history.find((s) => s.id === 3)).toMatchObject({ kind: 'savepoint', savepoint: true, status: 'completed' });
  });

  it('an aborted savepoint discards its own directory', async () => {
    const h = harness();
    const sp = h.coordinator.trigger('savepoint');
    h.coordinator.decline(0, 1, 'no');
    await expect(sp).rejects.toThrow(/aborted/);
    expect(h.storage.discarded).toEqual([{ id: 1, scope: 'savepoint' }]);
  });

  for (const kind of ['stop-savepoint', 'drain-savepoint'] as const) {
    it(`a ${kind} blocks every later trigger, periodic ones too, and is notified when complete`, async () => {
      const h = harness({ intervalMs: 100, maxConcurrent: 2 });
      h.coordinator.startPeriodic();
      vi.advanceTimersByTime(100);
      expect(h.triggered).toEqual([[1, 'checkpoint']]);
      const stop = h.coordinator.trigger(kind);
      expect(h.coordinator.stoppingWith).toBe(2);
      await expect(h.coordinator.trigger()).rejects.toThrow(/stopping with savepoint 2: nothing is triggered after it/);
      vi.advanceTimersByTime(1000);
      expect(h.triggered).toEqual([[1, 'checkpoint'], [2, kind]]);
      h.ackAll(2);
      const c = await stop;
      expect(c.scope).toBe('savepoint');
      // sinks commit what it covers; the pending older checkpoint is subsumed
      expect(h.completed).toEqual([[2, kind]]);
      expect(h.aborted).toEqual([1]);
      // if the job fails before it ends, failover must not go back before it
      expect(h.coordinator.latestCompleted?.checkpointId).toBe(2);
      h.coordinator.stop('the job stopped');
    });
  }

  it('a stop-savepoint that is aborted lets checkpoints go on', async () => {
    const h = harness({ intervalMs: 100 });
    h.coordinator.startPeriodic();
    const stop = h.coordinator.trigger('stop-savepoint');
    h.coordinator.decline(1, 1, 'no');
    await expect(stop).rejects.toThrow(/aborted/);
    expect(h.coordinator.stoppingWith).toBeUndefined();
    vi.advanceTimersByTime(100);
    expect(h.triggered).toEqual([[1, 'stop-savepoint'], [2, 'checkpoint']]);
    h.coordinator.stop('end');
  });

  it('periodic triggering respects maxConcurrent and minPauseMs', async () => {
    const h = harness({ intervalMs: 100, minPauseMs: 500 });
    h.coordinator.startPeriodic();
    vi.advanceTimersByTime(100);
    vi.advanceTimersByTime(100);
    expect(h.triggered.map(([id]) => id)).toEqual([1]);
    h.clock.t = 1100;
    h.ackAll(1);
    await vi.waitFor(() => expect(h.completed).toEqual([[1, 'checkpoint']]));
    h.clock.t = 1400;
    vi.advanceTimersByTime(100);
    expect(h.triggered.map(([id]) => id)).toEqual([1]);
    h.clock.t = 1600;
    vi.advanceTimersByTime(100);
    expect(h.triggered.map(([id]) => id)).toEqual([1, 2]);
    h.coordinator.stop('end');
  });

  it('tasks that finished are not waited for', async () => {
    const h = harness();
    h.coordinator.taskFinished(2);
    const done = h.coordinator.trigger();
    h.coordinator.acknowledge(0, 1, snapshot(0, 1));
    h.coordinator.acknowledge(1, 1, snapshot(1, 1));
    expect((await done).checkpointId).toBe(1);
  });

  it('stop aborts what is pending and refuses new triggers', async () => {
    const h = harness({ intervalMs: 100, maxConcurrent: 2 });
    h.coordinator.startPeriodic();
    const a = h.coordinator.trigger();
    const b = h.coordinator.trigger('savepoint');
    h.coordinator.stop('failover: worker died');
    await expect(a).rejects.toThrow(/checkpoint 1 aborted: failover: worker died/);
    await expect(b).rejects.toThrow(/checkpoint 2 aborted: failover: worker died/);
    await expect(h.coordinator.trigger()).rejects.toThrow(/stopped/);
    vi.advanceTimersByTime(1000);
    expect(h.triggered.map(([id]) => id)).toEqual([1, 2]);
  });
});
