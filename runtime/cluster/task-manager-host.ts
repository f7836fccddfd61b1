/**
 * A task manager of a standalone cluster: one worker thread with a number of slots that registers
 * with the cluster's slot pool (slot-pool.ts) and outlives the jobs it runs. Unlike the per-job
 * `WorkerTaskManager`, one thread hosts the task managers of several jobs (host-entry.ts); each job's
 * execution attempt reaches its part of the thread through a `HostedTaskManager`, the same
 * `TaskManagerGateway` the job manager uses for its own threads, so failover, checkpoints and
 * metrics work the same way.
 */
import * as Comlink from 'comlink';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { SnapshotKind } from '../checkpoint/snapshot-kind.ts';
import type { ReaderEvent } from '../source/contract.ts';
import { isPeerLink, type PeerLink } from '../exchange/peer-link.ts';
import type { TaskMetrics } from '../task/task-metrics.ts';
import { nodeEndpoint } from './comlink-endpoint.ts';
import type { Deployment, TaskManagerEvent } from './protocol.ts';
import type { TaskManagerGateway, TaskManagerHandlers } from './task-manager-gateway.ts';
import { ModuleLoads, TERMINATE_TIMEOUT_MS, terminateWithin, whenBooted } from './task-manager-gateway.ts';
import { SiblingThreadStarter } from '../sibling-threads.ts';
import { TerminateGuard } from '../terminate-guard.ts';
import { LinkPortClient } from './link-port.ts';

/** Control calls of a host thread; `key` names one hosted task manager (job, attempt, place). */
export interface TaskManagerHostApi {
  open(key: string): Promise<void>;
  /** Loads a job module ahead of its deployment (a warm start for the job's next submission). */
  prepare(moduleUrl: string): Promise<void>;
  deploy(key: string, d: Deployment): Promise<void>;
  start(key: string): Promise<void>;
  cancel(key: string): Promise<void>;
  metrics(key: string): Promise<TaskMetrics[]>;
  triggerCheckpoint(key: string, id: number, kind: SnapshotKind): Promise<void>;
  notifyCheckpointComplete(key: string, id: number, final: boolean): Promise<void>;
  notifyCheckpointAborted(key: string, id: number): Promise<void>;
  sendSourceEvent(key: string, taskId: number, event: ReaderEvent): Promise<void>;
  /** Stops the hosted task manager's tasks and forgets it. */
  close(key: string): Promise<void>;
  hosted(): Promise<string[]>;
}

export type HostMessage = { type: 'heartbeat' } | { type: 'event'; key: string; event: TaskManagerEvent };

const bootUrl = new URL('./worker-boot.mjs', import.meta.url);
const entryUrl = new URL('./host-entry.ts', import.meta.url).href;

export class TaskManagerHost {
  readonly worker: Worker;
  readonly api: Comlink.Remote<TaskManagerHostApi>;
  readonly startedAt = Date.now();
  lastHeartbeat: number | undefined;
  private readonly guests = new Map<string, HostedTaskManager>();
  private exited = false;
  private readonly exit: Promise<never>;
  private readonly up: Promise<void>;
  /** Deployments loading the job's modules into this thread (kills wait for them). */
  readonly loads = new ModuleLoads();
  private terminating: Promise<void> | undefined;
  /** Where data link ends go to this thread (outside the control protocol). */
  readonly links = new LinkPortClient();
  /** Starts the thread's LMDB writer threads here, beside it (sibling-threads.ts). */
  private readonly siblings = new SiblingThreadStarter();
  /** Keeps terminate() out of the thread's LMDB opens and closes (terminate-guard.ts). */
  private readonly terminateGuard = new TerminateGuard();

  constructor(
    /** The task manager's id in the cluster (a replacement takes the id of the one it replaces). */
    readonly id: number,
    readonly slots: number,
    options: { heartbeatMs: number; workerHeapMb?: number; onExit(host: TaskManagerHost, code: number, error?: Error): void },
  ) {
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(bootUrl, {
      workerData: { entry: entryUrl, control: port2, links: this.links.remote, heartbeatMs: options.heartbeatMs, siblingThreads: this.siblings.port, terminateGuard: this.terminateGuard.buffer },
      transferList: [port2, this.links.remote, this.siblings.port],
      resourceLimits: options.workerHeapMb ? { maxOldGenerationSizeMb: options.workerHeapMb } : undefined,
    });
    let up!: () => void;
    this.up = new Promise<void>((resolve) => (up = resolve));
    let rejectExit!: (e: Error) => void;
    this.exit = new Promise<never>((_, reject) => (rejectExit = reject));
    this.exit.catch(() => {});
    let lastError: Error | undefined;
    this.worker.on('error', (e) => (lastError = e));
    this.worker.on('message', (m: HostMessage) => {
      if (m.type === 'heartbeat') {
        this.lastHeartbeat = Date.now();
        up();
        for (const g of this.guests.values()) g.handlers.onBeat();
      } else this.guests.get(m.key)?.receive(m.event);
    });
    this.worker.on('exit', (code) => {
      if (this.exited) return;
      this.exited = true;
      port1.close();
      this.links.close();
      this.siblings.close();
      rejectExit(new Error(`task manager ${this.id} is not running (exit code ${code})`));
      for (const g of [...this.guests.values()]) g.hostExited(code, lastError);
      this.guests.clear();
      options.onExit(this, code, lastError);
    });
    this.api = Comlink.wrap<TaskManagerHostApi>(nodeEndpoint(port1 as unknown as Parameters<typeof nodeEndpoint>[0]));
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Resolves once the thread is up (its first heartbeat); rejects if it died. */
  ready(): Promise<void> {
    return this.exited ? this.exit : Promise.race([this.up, this.exit]);
  }

  call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.exited) return this.exit;
    return Promise.race([fn(), this.exit]);
  }

  /** A task manager for one job's attempt on this thread, at place `index` of the job's plan. */
  host(key: string, index: number, handlers: TaskManagerHandlers, onClosed: () => void): HostedTaskManager {
    const g = new HostedTaskManager(this, key, index, handlers, () => {
      this.guests.delete(key);
      onClosed();
    });
    this.guests.set(key, g);
    return g;
  }

  /** The jobs with tasks on this thread now. */
  get jobs(): string[] {
    return [...new Set([...this.guests.keys()].map((k) => k.split('#')[0]!))];
  }

  /** Ends the thread as a crash would (failure injection, and a stuck thread). */
  kill(): void {
    void whenBooted(Promise.race([this.up, this.exit]))
      .then(() => this.loads.done())
      .then(() => this.terminateGuard.terminate(this.worker));
  }

  shutdown(): Promise<void> {
    this.terminating ??= (async () => {
      await whenBooted(Promise.race([this.up, this.exit]));
      if (!this.exited) await terminateWithin(this.worker, this.terminateGuard);
      // Its writer threads close their environments once they see it gone.
      await this.siblings.whenEnded(TERMINATE_TIMEOUT_MS);
    })();
    return this.terminating;
  }
}

/** One job attempt's task manager on a host thread. */
export class HostedTaskManager implements TaskManagerGateway {
  private ended = false;
  private readonly opened: Promise<void>;
  private onDrained: (() => void) | undefined;
  private endedBecause: Error | undefined;

  constructor(
    private readonly host: TaskManagerHost,
    private readonly key: string,
    readonly index: number,
    readonly handlers: TaskManagerHandlers,
    private readonly onClosed: () => void,
  ) {
    this.opened = this.host.call(() => this.host.api.open(key));
    this.opened.catch(() => {});
  }

  get hostId(): number {
    return this.host.id;
  }

  receive(event: TaskManagerEvent): void {
    if (this.ended) return;
    if (event.type === 'drained') this.onDrained?.();
    else this.handlers.onEvent(event);
  }

  hostExited(code: number, error?: Error): void {
    if (this.ended) return;
    this.markEnded(new Error(`task manager ${this.host.id} is not running (exit code ${code})`));
    this.handlers.onExit(code, error);
  }

  private markEnded(why: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.endedBecause = why;
    this.onClosed();
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.ended) return Promise.reject(this.endedBecause ?? new Error(`task manager ${this.key} was closed`));
    return this.host.call(async () => {
      await this.opened;
      return fn();
    });
  }

  deploy(d: Deployment): Promise<void> {
    return this.host.loads.track(this.call(() => this.host.api.deploy(this.key, d)));
  }
  connectPeer(peer: number, link: PeerLink | MessagePort): Promise<void> {
    if (isPeerLink(link)) return Promise.reject(new Error(`task manager ${this.key} runs on a worker thread: connect it with a MessagePort (workerThreadTransport)`));
    return this.call(() => this.host.links.offer(peer, link, this.key));
  }
  start(): Promise<void> {
    return this.call(() => this.host.api.start(this.key));
  }
  async cancel(): Promise<void> {
    const drained = new Promise<void>((resolve) => (this.onDrained = resolve));
    await this.call(() => this.host.api.cancel(this.key));
    await this.call(() => drained);
    this.onDrained = undefined;
  }
  metrics(): Promise<TaskMetrics[]> {
    return this.call(() => this.host.api.metrics(this.key));
  }
  triggerCheckpoint(id: number, kind: SnapshotKind): Promise<void> {
    return this.call(() => this.host.api.triggerCheckpoint(this.key, id, kind));
  }
  notifyCheckpointComplete(id: number, final: boolean): Promise<void> {
    return this.call(() => this.host.api.notifyCheckpointComplete(this.key, id, final));
  }
  notifyCheckpointAborted(id: number): Promise<void> {
    return this.call(() => this.host.api.notifyCheckpointAborted(this.key, id));
  }
  sendSourceEvent(taskId: number, event: ReaderEvent): Promise<void> {
    return this.call(() => this.host.api.sendSourceEvent(this.key, taskId, event));
  }
  /** Closes this job's task manager on the thread (the thread goes on) and gives its slots back. */
  async shutdown(): Promise<void> {
    if (this.ended) return;
    const closing = this.call(() => this.host.api.close(this.key)).catch(() => {});
    this.markEnded(new Error(`task manager ${this.key} was closed`));
    await closing;
  }
  ready(): Promise<void> {
    return this.call(() => this.host.ready());
  }
  /** Failure injection: ends the host thread as a crash would (every job with tasks on it fails over; the pool starts a new thread). */
  kill(): void {
    this.host.kill();
  }
  /** The heartbeat monitor gave up on this thread: calls fail from now on, and the cluster replaces the thread. */
  abandon(why: string): void {
    this.markEnded(new Error(why));
    this.host.kill();
  }
  get alive(): boolean {
    return !this.ended && this.host.alive;
  }
}
