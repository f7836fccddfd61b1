/**
 * How the job manager reaches a task manager: one interface, two implementations. A worker-thread
 * task manager is called through comlink; an in-process one (tests, debugging) directly.
 */
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-endpoint.ts';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { TaskMetrics } from '../task/stream-task.ts';
import type { ReaderEvent } from '../source/contract.ts';
import type { Deployment, TaskManagerApi, TaskManagerEvent } from './protocol.ts';
import { TaskManager } from './task-manager.ts';

export interface TaskManagerGateway {
  readonly index: number;
  deploy(deployment: Deployment): Promise<void>;
  connectPeer(peer: number, port: MessagePort): Promise<void>;
  start(): Promise<void>;
  cancel(): Promise<void>;
  metrics(): Promise<TaskMetrics[]>;
  triggerCheckpoint(id: number, savepoint: boolean): Promise<void>;
  notifyCheckpointComplete(id: number, final: boolean): Promise<void>;
  notifyCheckpointAborted(id: number): Promise<void>;
  sendSourceEvent(taskId: number, event: ReaderEvent): Promise<void>;
  /** Stops the task manager and frees its thread. */
  shutdown(): Promise<void>;
  readonly alive: boolean;
}

export class InProcessTaskManager implements TaskManagerGateway {
  private readonly manager: TaskManager;
  alive = true;

  constructor(
    readonly index: number,
    onEvent: (event: TaskManagerEvent) => void,
  ) {
    this.manager = new TaskManager(onEvent);
  }

  deploy(d: Deployment): Promise<void> {
    return this.manager.deploy(d);
  }
  connectPeer(peer: number, port: MessagePort): Promise<void> {
    return this.manager.connectPeer(peer, port);
  }
  start(): Promise<void> {
    return this.manager.start();
  }
  cancel(): Promise<void> {
    return this.manager.cancel();
  }
  metrics(): Promise<TaskMetrics[]> {
    return this.manager.metrics();
  }
  triggerCheckpoint(id: number, savepoint: boolean): Promise<void> {
    return this.manager.triggerCheckpoint(id, savepoint);
  }
  notifyCheckpointComplete(id: number, final: boolean): Promise<void> {
    return this.manager.notifyCheckpointComplete(id, final);
  }
  notifyCheckpointAborted(id: number): Promise<void> {
    return this.manager.notifyCheckpointAborted(id);
  }
  sendSourceEvent(taskId: number, event: ReaderEvent): Promise<void> {
    return this.manager.sendSourceEvent(taskId, event);
  }
  async shutdown(): Promise<void> {
    await this.manager.cancel();
    this.alive = false;
  }
}

const bootUrl = new URL('./worker-boot.mjs', import.meta.url);
const entryUrl = new URL('./worker-entry.ts', import.meta.url).href;

export class WorkerTaskManager implements TaskManagerGateway {
  readonly worker: Worker;
  private readonly api: Comlink.Remote<TaskManagerApi>;
  private exited = false;
  /** Rejects when the thread ends, so that no call waits forever on a dead worker. */
  private readonly exit: Promise<never>;

  constructor(
    readonly index: number,
    onEvent: (event: TaskManagerEvent) => void,
    /** The thread died (crash, or terminate()); `code` is its exit code. */
    onExit: (code: number, error?: Error) => void,
    resourceLimits?: { maxOldGenerationSizeMb?: number },
  ) {
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(bootUrl, {
      workerData: { entry: entryUrl, control: port2 },
      transferList: [port2],
      resourceLimits,
    });
    let lastError: Error | undefined;
    this.worker.on('message', (event: TaskManagerEvent) => onEvent(event));
    this.worker.on('error', (e) => (lastError = e));
    let rejectExit!: (e: Error) => void;
    this.exit = new Promise<never>((_, reject) => (rejectExit = reject));
    this.exit.catch(() => {});
    this.worker.on('exit', (code) => {
      this.exited = true;
      port1.close();
      rejectExit(new Error(`task manager ${index} is not running (exit code ${code})`));
      onExit(code, lastError);
    });
    this.api = Comlink.wrap<TaskManagerApi>(nodeEndpoint(port1 as unknown as Parameters<typeof nodeEndpoint>[0]));
  }

  deploy(d: Deployment): Promise<void> {
    return this.call(() => this.api.deploy(d));
  }
  connectPeer(peer: number, port: MessagePort): Promise<void> {
    return this.call(() => this.api.connectPeer(peer, Comlink.transfer(port, [port] as unknown as Parameters<typeof Comlink.transfer>[1])));
  }
  start(): Promise<void> {
    return this.call(() => this.api.start());
  }
  cancel(): Promise<void> {
    return this.call(() => this.api.cancel());
  }
  metrics(): Promise<TaskMetrics[]> {
    return this.call(() => this.api.metrics());
  }
  triggerCheckpoint(id: number, savepoint: boolean): Promise<void> {
    return this.call(() => this.api.triggerCheckpoint(id, savepoint));
  }
  notifyCheckpointComplete(id: number, final: boolean): Promise<void> {
    return this.call(() => this.api.notifyCheckpointComplete(id, final));
  }
  notifyCheckpointAborted(id: number): Promise<void> {
    return this.call(() => this.api.notifyCheckpointAborted(id));
  }
  sendSourceEvent(taskId: number, event: ReaderEvent): Promise<void> {
    return this.call(() => this.api.sendSourceEvent(taskId, event));
  }
  private call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.exited) return this.exit;
    return Promise.race([fn(), this.exit]);
  }

  /** Ends the thread as a crash would (failure injection). */
  kill(): void {
    void this.worker.terminate();
  }
  async shutdown(): Promise<void> {
    if (this.exited) return;
    await this.worker.terminate();
  }

  get alive(): boolean {
    return !this.exited;
  }
}
