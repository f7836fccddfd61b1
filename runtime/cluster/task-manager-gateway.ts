/**
 * How the job manager reaches a task manager: one interface, two implementations. A worker-thread
 * task manager is called through comlink; an in-process one (tests, debugging) directly.
 */
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-endpoint.ts';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { TaskMetrics } from '../task/stream-task.ts';
import type { Deployment, TaskManagerApi, TaskManagerEvent } from './protocol.ts';
import { TaskManager } from './task-manager.ts';

export interface TaskManagerGateway {
  readonly index: number;
  deploy(deployment: Deployment): Promise<void>;
  connectPeer(peer: number, port: MessagePort): Promise<void>;
  start(): Promise<void>;
  cancel(): Promise<void>;
  metrics(): Promise<TaskMetrics[]>;
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
    this.worker.on('exit', (code) => {
      this.exited = true;
      port1.close();
      onExit(code, lastError);
    });
    this.api = Comlink.wrap<TaskManagerApi>(nodeEndpoint(port1 as unknown as Parameters<typeof nodeEndpoint>[0]));
  }

  deploy(d: Deployment): Promise<void> {
    return this.api.deploy(d);
  }
  connectPeer(peer: number, port: MessagePort): Promise<void> {
    return this.api.connectPeer(peer, Comlink.transfer(port, [port] as unknown as Parameters<typeof Comlink.transfer>[1]));
  }
  start(): Promise<void> {
    return this.api.start();
  }
  cancel(): Promise<void> {
    return this.api.cancel();
  }
  metrics(): Promise<TaskMetrics[]> {
    return this.api.metrics();
  }
  async shutdown(): Promise<void> {
    if (this.exited) return;
    await this.worker.terminate();
  }

  get alive(): boolean {
    return !this.exited;
  }
}
