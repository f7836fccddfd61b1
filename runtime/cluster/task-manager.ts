/**
 * A task manager: runs the tasks the job manager assigned to it, all on one thread's event loop
 * (a worker thread, or the main thread for an in-process cluster). It builds the job graph itself
 * from the job module, so user closures never cross threads; the plan says which tasks are its own.
 */
import type { MessagePort } from 'node:worker_threads';
import { HeapKeyedStateBackend } from '../../state/heap/heap-backend.ts';
import { buildGraph, loadJob } from '../api/job.ts';
import { DataPlane } from '../exchange/data-plane.ts';
import { JobValidationError } from '../errors.ts';
import type { StreamGraph } from '../graph/stream-graph.ts';
import { StreamTask, type TaskMetrics } from '../task/stream-task.ts';
import { serializeError, type Deployment, type TaskManagerApi, type TaskManagerEvent } from './protocol.ts';

export class TaskManager implements TaskManagerApi {
  private plane: DataPlane | undefined;
  private readonly pendingPeers: [number, MessagePort][] = [];
  private tasks: StreamTask[] = [];
  private graph: StreamGraph | undefined;
  private deployment: Deployment | undefined;

  constructor(private readonly report: (event: TaskManagerEvent) => void) {}

  async deploy(d: Deployment): Promise<void> {
    this.deployment = d;
    const job = await loadJob(d.moduleUrl);
    const env = buildGraph(job, d.params, d.defaults);
    this.graph = env.graph;
    const fingerprint = env.graph.fingerprint();
    if (fingerprint !== d.plan.fingerprint) {
      throw new JobValidationError(
        `task manager ${d.worker} built a different job graph than the job manager from ${d.moduleUrl}; ` +
          'a job module must build the same graph every time it runs (no randomness, clock or environment in its shape)',
      );
    }
    const plane = new DataPlane(d.worker);
    plane.addRoutes(d.plan.channels.map((c) => ({ id: c.id, senderWorker: c.senderWorker, receiverWorker: c.receiverWorker })));
    for (const [peer, port] of this.pendingPeers.splice(0)) plane.connectPeer(peer, port);
    this.plane = plane;
    const client = { send: (topic: string, payload: unknown) => this.report({ type: 'client', topic, payload }) };
    this.tasks = d.plan.tasks
      .filter((t) => t.worker === d.worker)
      .map(
        (t) =>
          new StreamTask(t, d.plan, env.graph, d.settings, {
            plane,
            client,
            createKeyedState: async (_node, _subtask, range) =>
              new HeapKeyedStateBackend({ keyGroupRange: range, maxParallelism: d.plan.maxParallelism }),
          }),
      );
  }

  async connectPeer(peer: number, port: MessagePort): Promise<void> {
    if (this.plane) this.plane.connectPeer(peer, port);
    else this.pendingPeers.push([peer, port]);
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

  async cancel(): Promise<void> {
    for (const task of this.tasks) task.cancel();
    this.plane?.close();
  }

  async metrics(): Promise<TaskMetrics[]> {
    return this.tasks.map((t) => t.metrics());
  }
}
