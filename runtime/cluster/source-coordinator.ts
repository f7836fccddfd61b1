/**
 * The job manager's host of one source's split enumerator (Flink's SourceCoordinator): it creates
 * the enumerator (or restores it from the checkpoint), registers readers as their tasks start,
 * forwards split requests, delivers assignments to the readers' tasks, and snapshots the enumerator
 * when a checkpoint is triggered, before the trigger reaches any task. Assignments travel on the same
 * ordered control path as the checkpoint triggers, so a split assigned before the enumerator's
 * snapshot reaches its reader before the barrier (it is in the reader's state), and one assigned
 * after reaches it after the barrier (it is in the enumerator's state): each split is in exactly one.
 *
 * It also tracks what was assigned since each checkpoint, so that the splits of a failed reader can
 * go back to the enumerator (`readerFailed`, Flink's addSplitsBack for a regional failover).
 */
import { deserialize, serialize } from 'node:v8';
import type { EnumeratorEvent, ReaderEvent, Source, SourceSplit, SplitEnumerator, SplitEnumeratorContext } from '../source/contract.ts';
import { WeirError } from '../errors.ts';

export interface SourceCoordinatorOptions {
  uid: string;
  name: string;
  parallelism: number;
  /** Delivers an event to the reader of `subtask` (on the control path, in order with checkpoint triggers). */
  send(subtask: number, event: ReaderEvent): void;
  /** The enumerator failed (in a call or in async work): the job fails over. */
  onError(error: WeirError): void;
}

/** Enumerator state as stored in the checkpoint metadata: V8-serialized, base64 (as operator state). */
export function encodeEnumeratorState(state: unknown): string {
  return serialize(state).toString('base64');
}

export function decodeEnumeratorState(encoded: string): unknown {
  return deserialize(Buffer.from(encoded, 'base64'));
}

export class SourceCoordinator {
  private enumerator!: SplitEnumerator<SourceSplit, unknown>;
  private readonly registered = new Set<number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private readonly inflight = new Set<Promise<unknown>>();
  /** Assignments not yet covered by a checkpoint, per subtask. */
  private uncheckpointed = new Map<number, SourceSplit[]>();
  /** Assignments per checkpoint id (taken before that checkpoint's snapshot), per subtask. */
  private readonly byCheckpoint = new Map<number, Map<number, SourceSplit[]>>();

  constructor(
    private readonly source: Source<unknown, SourceSplit, unknown>,
    private readonly options: SourceCoordinatorOptions,
  ) {}

  private context(): SplitEnumeratorContext<SourceSplit> {
    return {
      parallelism: this.options.parallelism,
      registeredReaders: () => this.registered,
      assignSplits: (subtask, splits) => {
        if (splits.length === 0) return;
        if (!this.registered.has(subtask)) {
          throw new WeirError(`source '${this.options.name}' assigned splits to reader ${subtask}, which has not registered; assign in addReader or handleSplitRequest`, { domain: 'user' });
        }
        const copies = splits.map((s) => ({ ...s }));
        let list = this.uncheckpointed.get(subtask);
        if (!list) this.uncheckpointed.set(subtask, (list = []));
        list.push(...copies);
        this.options.send(subtask, { type: 'add-splits', splits: copies });
      },
      signalNoMoreSplits: (subtask) => this.options.send(subtask, { type: 'no-more-splits' }),
      callAsync: (work, handle, periodMs) => {
        const run = (): void => {
          if (this.closed) return;
          const p = work().then(
            (r) => this.guard('async work', () => !this.closed && handle(r)),
            (e: unknown) => this.fail('async work', e),
          );
          this.inflight.add(p);
          void p.finally(() => this.inflight.delete(p));
        };
        if (periodMs === undefined) run();
        else {
          const t = setInterval(run, periodMs);
          this.timers.add(t);
          run();
        }
      },
    };
  }

  /** Creates the enumerator, or restores it from `encodedState` (this source's state in the restored checkpoint). */
  async start(encodedState: string | undefined): Promise<void> {
    const ctx = this.context();
    this.enumerator =
      encodedState === undefined ? this.source.createEnumerator(ctx) : this.source.restoreEnumerator(ctx, decodeEnumeratorState(encodedState));
    await this.enumerator.start();
  }

  /** Resolves when no async work of the enumerator is running (for tests and orderly shutdown). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  handle(subtask: number, event: EnumeratorEvent): void {
    if (event.type === 'register') {
      this.registered.add(subtask);
      this.guard('addReader', () => this.enumerator.addReader(subtask));
    } else if (event.type === 'source-event') this.guard('handleSourceEvent', () => this.enumerator.handleSourceEvent?.(subtask, event.event));
    else this.guard('handleSplitRequest', () => this.enumerator.handleSplitRequest(subtask));
  }

  /** Snapshots the enumerator for checkpoint `id` (synchronously, before the trigger goes out). */
  snapshot(id: number): string {
    this.byCheckpoint.set(id, this.uncheckpointed);
    this.uncheckpointed = new Map();
    return encodeEnumeratorState(this.enumerator.snapshotState(id));
  }

  checkpointComplete(id: number): void {
    for (const k of [...this.byCheckpoint.keys()]) if (k <= id) this.byCheckpoint.delete(k);
    this.guard('notifyCheckpointComplete', () => this.enumerator.notifyCheckpointComplete?.(id));
  }

  /**
   * The reader of `subtask` failed and restarts from checkpoint `restoredId`: the splits assigned to it
   * after that checkpoint are in no state it restores, so they go back to the enumerator.
   */
  readerFailed(subtask: number, restoredId: number): void {
    this.registered.delete(subtask);
    const back: SourceSplit[] = [];
    for (const [id, m] of [...this.byCheckpoint].sort((a, b) => a[0] - b[0])) if (id > restoredId) back.push(...(m.get(subtask) ?? []));
    back.push(...(this.uncheckpointed.get(subtask) ?? []));
    for (const m of this.byCheckpoint.values()) m.delete(subtask);
    this.uncheckpointed.delete(subtask);
    if (back.length > 0) this.guard('addSplitsBack', () => this.enumerator.addSplitsBack(back, subtask));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    // Async work still running is not awaited (it may hang on a dead store); its result is dropped.
    await this.enumerator?.close?.();
  }

  private guard(what: string, fn: () => unknown): void {
    try {
      fn();
    } catch (e) {
      this.fail(what, e);
    }
  }

  private fail(what: string, e: unknown): void {
    if (this.closed) return;
    const error = new WeirError(`split enumerator of source '${this.options.name}' (uid '${this.options.uid}') failed in ${what}: ${e instanceof Error ? e.message : String(e)}`, {
      domain: e instanceof WeirError ? e.domain : 'internal',
      cause: e,
    });
    error.operator = this.options.name;
    this.options.onError(error);
  }
}

/** Where the job manager finds a source task: its source node's coordinator and its subtask. */
interface SourceTask {
  coordinator: SourceCoordinator;
  subtask: number;
  worker: number;
}

/**
 * The coordinators of every source of one execution attempt, keyed by the source's uid; what the
 * job manager calls (start, route reader events, snapshot with each checkpoint, close).
 */
export class SourceCoordinators {
  private readonly byUid = new Map<string, SourceCoordinator>();
  private readonly byTask = new Map<number, SourceTask>();

  constructor(
    sources: readonly { uid: string; name: string; parallelism: number; source: Source<unknown, SourceSplit, unknown>; tasks: readonly { taskId: number; subtask: number; worker: number }[] }[],
    deliver: (worker: number, taskId: number, event: ReaderEvent) => void,
    onError: (error: WeirError) => void,
  ) {
    for (const s of sources) {
      const bySubtask = new Map(s.tasks.map((t) => [t.subtask, t]));
      const coordinator = new SourceCoordinator(s.source, {
        uid: s.uid,
        name: s.name,
        parallelism: s.parallelism,
        send: (subtask, event) => {
          const t = bySubtask.get(subtask);
          if (t) deliver(t.worker, t.taskId, event);
        },
        onError,
      });
      this.byUid.set(s.uid, coordinator);
      for (const t of s.tasks) this.byTask.set(t.taskId, { coordinator, subtask: t.subtask, worker: t.worker });
    }
  }

  /** Starts every enumerator: restored where `restored` (uid -> encoded state) has its state, fresh otherwise. */
  async start(restored: Readonly<Record<string, string>> | undefined): Promise<void> {
    for (const [uid, c] of this.byUid) await c.start(restored?.[uid]);
  }

  handle(taskId: number, event: EnumeratorEvent): void {
    const t = this.byTask.get(taskId);
    t?.coordinator.handle(t.subtask, event);
  }

  snapshot(checkpointId: number): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [uid, c] of this.byUid) out[uid] = c.snapshot(checkpointId);
    return out;
  }

  checkpointComplete(checkpointId: number): void {
    for (const c of this.byUid.values()) c.checkpointComplete(checkpointId);
  }

  async close(): Promise<void> {
    await Promise.all([...this.byUid.values()].map((c) => c.close().catch(() => {})));
  }
}
