/**
 * A task manager: runs the tasks the job manager assigned to it, all on one thread's event loop
 * (a worker thread, or the main thread for an in-process cluster). It builds the job graph itself
 * from the job module, so user closures never cross threads; the plan says which tasks are its own.
 */
import { rm } from '../worker-safe-fs.ts';
import path from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { collectStateFiles } from '../../state/checkpoint-storage/storage.ts';
import { createKeyedStateBackend, type CheckpointStorage } from '../../state/index.ts';
import { prestartWriterThread, waitForWriterThreadLoaded } from '../../state/lmdb/writer-client.ts';
import { loadJob } from '../graph/job-definition.ts';
import { runsKeyedOperators } from '../graph/execution-plan.ts';
import { checkpointConfig, createCheckpointStorage } from '../checkpoint/config.ts';
import { restoringStorage } from '../checkpoint/restore-storage.ts';
import type { SnapshotKind } from '../checkpoint/snapshot-kind.ts';
import { DataPlane } from '../exchange/data-plane.ts';
import type { PeerLink } from '../exchange/peer-link.ts';
import { JobValidationError } from '../errors.ts';
import { StreamTask } from '../task/stream-task.ts';
import type { TaskMetrics } from '../task/task-metrics.ts';
import type { ReaderEvent } from '../source/contract.ts';
import { serializeError, type Deployment, type TaskManagerApi, type TaskManagerEvent } from './protocol.ts';
import { SideWorkPool } from './side-work-pool.ts';

export class TaskManager implements TaskManagerApi {
  private plane: DataPlane | undefined;
  private readonly pendingPeers: [number, PeerLink | MessagePort][] = [];
  private tasks: StreamTask[] = [];
  private deployment: Deployment | undefined;
  /** Side work of this task manager's operators (`ctx.sideWork`); ends with it. */
  private readonly sideWork = new SideWorkPool();

  constructor(private readonly report: (event: TaskManagerEvent) => void) {}

  private storageFor(d: Deployment): CheckpointStorage {
    // The job's storage even with checkpointing off: savepoints are written there too.
    const retained = (d.checkpoint ?? checkpointConfig()).retained;
    const own = createCheckpointStorage(d.checkpointStorage, d.jobId, retained);
    if (!d.restoreFromJobId || d.restoreFromJobId === d.jobId) return own;
    const other = createCheckpointStorage(d.restoreStorage ?? d.checkpointStorage, d.restoreFromJobId, retained);
    return restoringStorage(own, other, collectStateFiles(d.restore ?? {}));
  }

  /**
   * Warms this task manager up for a job before it is deployed (a spare task manager, or one kept
   * across attempts): loads the job module and, if the job keeps keyed state in LMDB
   * (`writerThread`), starts the LMDB writer thread.
   */
  async prepare(moduleUrl: string, writerThread: boolean): Promise<void> {
    if (writerThread) prestartWriterThread();
    await loadJob(moduleUrl);
    await waitForWriterThreadLoaded();
  }

  async deploy(d: Deployment): Promise<void> {
    if (this.tasks.length > 0) throw new Error(`task manager ${d.worker} still runs the tasks of an earlier deployment; cancel them first`);
    this.deployment = d;
    const job = await loadJob(d.moduleUrl);
    const graph = job.buildGraph(d.params, d.defaults);
    const fingerprint = graph.fingerprint();
    if (fingerprint !== d.plan.fingerprint) {
      throw new JobValidationError(
        `task manager ${d.worker} built a different job graph than the job manager from ${d.moduleUrl}; ` +
          'a job module must build the same graph every time it runs (no randomness, clock or environment in its shape)',
      );
    }
    // Only where keyed operators run: booting the thread (module loading) takes a core for a few
    // hundred milliseconds, which a task manager without keyed state would pay while processing
    // (it halved the throughput of the chained and exchange benchmarks on 2 cores).
    if (d.stateBackend === 'lmdb' && runsKeyedOperators(graph, d.plan, d.worker)) prestartWriterThread();
    const plane = new DataPlane(d.worker);
    plane.addRoutes(d.plan.channels.map((c) => ({ id: c.id, senderWorker: c.senderWorker, receiverWorker: c.receiverWorker })));
    for (const [peer, port] of this.pendingPeers.splice(0)) plane.connectPeer(peer, port);
    this.plane = plane;
    const storage = this.storageFor(d);
    const client = { send: (topic: string, payload: unknown) => this.report({ type: 'client', topic, payload }) };
    const checkpointing = { enabled: d.checkpoint !== undefined, aligned: d.checkpoint?.mode !== 'at-least-once', alignmentTimeoutMs: d.checkpoint?.alignmentTimeoutMs };
    const workDir = path.join(d.workDir, `tm-${d.worker}`);
    this.tasks = d.plan.tasks
      .filter((t) => t.worker === d.worker)
      .map(
        (t) =>
          new StreamTask(
            t,
            d.plan,
            graph,
            d.settings,
            {
              plane,
              client,
              sideWork: this.sideWork,
              createKeyedState: (node, subtask, range, restore) =>
                createKeyedStateBackend({
                  kind: d.stateBackend,
                  workDir,
                  operatorUid: node.uid,
                  subtask,
                  keyGroupRange: range,
                  maxParallelism: d.plan.maxParallelism,
                  storage,
                  restore,
                }),
              onEndOfData: () => this.report({ type: 'end-of-data', taskId: t.id }),
              onCheckpointAck: (checkpointId, snapshot) => this.report({ type: 'checkpoint-ack', taskId: t.id, checkpointId, snapshot }),
              onCheckpointDeclined: (checkpointId, reason) => this.report({ type: 'checkpoint-declined', taskId: t.id, checkpointId, reason }),
              onOpened: () => this.report({ type: 'task-opened', taskId: t.id }),
              sendToEnumerator: (event) => this.report({ type: 'source-event', taskId: t.id, event }),
            },
            checkpointing,
            d.restore?.[t.id],
          ),
      );
    // The deployment is done once the writer thread has loaded lmdb: its boot takes a core for a few
    // hundred milliseconds, which would otherwise overlap the job's first records (window-tumbling-lmdb
    // ran at 2.8M records/s instead of 4.2M without this wait).
    await waitForWriterThreadLoaded();
  }

  async connectPeer(peer: number, link: PeerLink | MessagePort): Promise<void> {
    if (this.plane) this.plane.connectPeer(peer, link);
    else this.pendingPeers.push([peer, link]);
  }

  async start(): Promise<void> {
    for (const task of this.tasks) {
      task.run().then(
        () => {
          if (task.status === 'finished') this.report({ type: 'task-finished', taskId: task.task.id });
        },
        (e: unknown) => this.report({ type: 'task-failed', taskId: task.task.id, error: serializeError(e) }),
      );
    }
  }

  async triggerCheckpoint(id: number, kind: SnapshotKind): Promise<void> {
    for (const task of this.tasks) if (task.isSource) task.triggerCheckpoint(id, kind);
  }

  async notifyCheckpointComplete(id: number, final: boolean): Promise<void> {
    for (const task of this.tasks) task.notifyCheckpointComplete(id, final);
  }

  async notifyCheckpointAborted(id: number): Promise<void> {
    for (const task of this.tasks) task.notifyCheckpointAborted(id);
  }

  async sendSourceEvent(taskId: number, event: ReaderEvent): Promise<void> {
    this.tasks.find((t) => t.task.id === taskId)?.deliverToReader(event);
  }

  /** Stops every task and forgets the deployment: the task manager can be deployed again (the next attempt). */
  async cancel(): Promise<void> {
    const tasks = this.tasks;
    for (const task of tasks) task.cancel();
    await Promise.all(tasks.map((t) => t.stopped));
    this.plane?.close();
    this.plane = undefined;
    this.tasks = [];
    this.pendingPeers.splice(0);
    const d = this.deployment;
    this.deployment = undefined;
    if (d) await rm(path.join(d.workDir, `tm-${d.worker}`), { recursive: true, force: true }).catch(() => {});
    this.report({ type: 'drained' });
  }

  /** Ends this task manager: its tasks, then its side-work threads (kept across attempts until now). */
  async shutdown(): Promise<void> {
    await this.cancel();
    await this.sideWork.close();
  }

  async metrics(): Promise<TaskMetrics[]> {
    return this.tasks.map((t) => t.metrics());
  }
}
