/**
 * How the job manager reaches a task manager: one interface, two implementations. A worker-thread
 * task manager is called through comlink; an in-process one (tests, debugging) directly.
 */
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-endpoint.ts';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { SnapshotKind } from '../checkpoint/snapshot-kind.ts';
import type { TaskMetrics } from '../task/task-metrics.ts';
import type { ReaderEvent } from '../source/contract.ts';
import { isPeerLink, type PeerLink } from '../exchange/peer-link.ts';
import type { Deployment, TaskManagerApi, TaskManagerEvent } from './protocol.ts';
import { TaskManager } from './task-manager.ts';
import { LinkPortClient } from './link-port.ts';
import { SiblingThreadStarter } from '../sibling-threads.ts';
import { TerminateGuard } from '../terminate-guard.ts';

export interface TaskManagerGateway {
  readonly index: number;
  deploy(deployment: Deployment): Promise<void>;
  /** The task manager's end of its data link to task manager `peer` (transport.ts makes both ends). */
  connectPeer(peer: number, link: PeerLink | MessagePort): Promise<void>;
  start(): Promise<void>;
  cancel(): Promise<void>;
  metrics(): Promise<TaskMetrics[]>;
  triggerCheckpoint(id: number, kind: SnapshotKind): Promise<void>;
  notifyCheckpointComplete(id: number, final: boolean): Promise<void>;
  notifyCheckpointAborted(id: number): Promise<void>;
  sendSourceEvent(taskId: number, event: ReaderEvent): Promise<void>;
  /** Stops the task manager and frees its thread. */
  shutdown(): Promise<void>;
  /** Resolves once the task manager is up (its thread started and loaded its modules). */
  ready(): Promise<void>;
  /** Gives up on a task manager the heartbeat monitor found dead or stuck (calls to it fail from now on). */
  abandon?(why: string): void;
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
  connectPeer(peer: number, link: PeerLink | MessagePort): Promise<void> {
    return this.manager.connectPeer(peer, link);
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
  triggerCheckpoint(id: number, kind: SnapshotKind): Promise<void> {
    return this.manager.triggerCheckpoint(id, kind);
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
    await this.manager.shutdown();
    this.alive = false;
  }
  async ready(): Promise<void> {}
}

const bootUrl = new URL('./worker-boot.mjs', import.meta.url);
/**
 * How long `shutdown()` waits for `worker.terminate()`. A thread that cannot finish terminating
 * (stuck in native code) is abandoned after it: unreferenced, counted as ended, and the attempt
 * moves on without it.
 */
export const TERMINATE_TIMEOUT_MS = 2000;
/** How long a kill or shutdown waits for a booting thread to finish loading its modules first. */
const BOOT_WAIT_MS = 10_000;
const entryUrl = new URL('./worker-entry.ts', import.meta.url).href;

/**
 * Terminates `worker` (once `guard` lets it: terminate-guard.ts), waiting at most TERMINATE_TIMEOUT_MS;
 * a thread still running then is unreferenced (abandoned). False if so.
 */
export async function terminateWithin(worker: Worker, guard: TerminateGuard): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    guard.terminate(worker).then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), TERMINATE_TIMEOUT_MS))),
  ]).finally(() => clearTimeout(timer));
  if (!ended) worker.unref();
  return ended;
}

/**
 * Resolves when `up` does (the thread's first heartbeat: its modules, lmdb's native addon among
 * them, are loaded), or after BOOT_WAIT_MS. Kills and shutdowns wait for it: a thread terminated
 * while Node loads a native addon can abort the whole process.
 */
export function whenBooted(up: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([up.then(() => undefined, () => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, BOOT_WAIT_MS)))]).finally(() => clearTimeout(timer));
}

/**
 * The calls that load modules into a task manager's thread (prepare, deploy: the job module and the
 * connectors it imports, native addons among them). A kill waits for them like for the boot, for the
 * same reason; a failure injected a little later is no less a failure.
 */
export class ModuleLoads {
  private readonly running = new Set<Promise<unknown>>();

  track<T>(call: Promise<T>): Promise<T> {
    const settled = call.then(() => undefined, () => undefined);
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return call;
  }

  /** Resolves when the loads running now have ended, or after BOOT_WAIT_MS. */
  done(): Promise<void> {
    return whenBooted(Promise.all(this.running));
  }
}

/** Where a worker task manager's events go; rebound when the task manager serves a new attempt. */
export interface TaskManagerHandlers {
  onEvent(event: TaskManagerEvent): void;
  /** The thread died (crash, or terminate()); `code` is its exit code. */
  onExit(code: number, error?: Error): void;
  onBeat(): void;
}

export class WorkerTaskManager implements TaskManagerGateway {
  readonly worker: Worker;
  private handlers: TaskManagerHandlers;
  private readonly api: Comlink.Remote<TaskManagerApi>;
  private exited = false;
  private threadExited = false;
  private terminating: Promise<void> | undefined;
  private readonly up: Promise<void>;
  private readonly loads = new ModuleLoads();
  /** Waiting for the 'drained' event that ends a cancel(). */
  private onDrained: (() => void) | undefined;
  /** Ends every pending and later call; false if already ended. */
  private readonly markEnded: (why: string) => boolean;
  /** Rejects when the thread ends, so that no call waits forever on a dead worker. */
  private readonly exit: Promise<never>;
  /** Where data link ends go to the thread, outside the control protocol (link-port.ts). */
  private readonly links = new LinkPortClient();
  /** Starts the thread's LMDB writer threads here, beside it (sibling-threads.ts). */
  private readonly siblings = new SiblingThreadStarter();
  /** Keeps terminate() out of the thread's LMDB opens and closes (terminate-guard.ts). */
  private readonly terminateGuard = new TerminateGuard();

  constructor(
    /** Its place in the current attempt (a spare takes the index of the task manager it replaces). */
    public index: number,
    handlers: TaskManagerHandlers,
    resourceLimits?: { maxOldGenerationSizeMb?: number },
    heartbeatMs = 1000,
  ) {
    this.handlers = handlers;
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(bootUrl, {
      workerData: { entry: entryUrl, control: port2, links: this.links.remote, heartbeatMs, siblingThreads: this.siblings.port, terminateGuard: this.terminateGuard.buffer },
      transferList: [port2, this.links.remote, this.siblings.port],
      resourceLimits,
    });
    let lastError: Error | undefined;
    let up!: () => void;
    this.up = new Promise<void>((resolve) => (up = resolve));
    this.worker.on('message', (event: TaskManagerEvent) => {
      if (event.type === 'heartbeat') {
        up();
        this.handlers.onBeat();
      } else if (event.type === 'drained') {
        this.onDrained?.();
      } else this.handlers.onEvent(event);
    });
    this.worker.on('error', (e) => (lastError = e));
    let rejectExit!: (e: Error) => void;
    this.exit = new Promise<never>((_, reject) => (rejectExit = reject));
    this.exit.catch(() => {});
    this.markEnded = (why: string) => {
      if (this.exited) return false;
      this.exited = true;
      port1.close();
      this.links.close();
      this.siblings.close();
      rejectExit(new Error(`task manager ${this.index} is not running (${why})`));
      return true;
    };
    this.worker.on('exit', (code) => {
      this.threadExited = true;
      if (this.markEnded(`exit code ${code}`)) this.handlers.onExit(code, lastError);
    });
    this.api = Comlink.wrap<TaskManagerApi>(nodeEndpoint(port1 as unknown as Parameters<typeof nodeEndpoint>[0]));
  }

  /** Serves a new attempt at `index`, its events going to `handlers`. */
  rebind(index: number, handlers: TaskManagerHandlers): void {
    this.index = index;
    this.handlers = handlers;
  }

  prepare(moduleUrl: string, writerThread: boolean): Promise<void> {
    return this.loads.track(this.call(() => this.api.prepare(moduleUrl, writerThread)));
  }

  deploy(d: Deployment): Promise<void> {
    return this.loads.track(this.call(() => this.api.deploy(d)));
  }
  connectPeer(peer: number, link: PeerLink | MessagePort): Promise<void> {
    if (isPeerLink(link)) return Promise.reject(new Error(`task manager ${this.index} runs on a worker thread: connect it with a MessagePort (workerThreadTransport)`));
    return this.call(() => this.links.offer(peer, link));
  }
  start(): Promise<void> {
    return this.call(() => this.api.start());
  }
  /**
   * Stops every task; resolves once the task manager's events from those tasks have all arrived (a
   * 'drained' event follows them on the same port), so none reaches the next attempt's handlers.
   */
  async cancel(): Promise<void> {
    const drained = new Promise<void>((resolve) => (this.onDrained = resolve));
    await this.call(() => this.api.cancel());
    await this.call(() => drained);
    this.onDrained = undefined;
  }
  metrics(): Promise<TaskMetrics[]> {
    return this.call(() => this.api.metrics());
  }
  triggerCheckpoint(id: number, kind: SnapshotKind): Promise<void> {
    return this.call(() => this.api.triggerCheckpoint(id, kind));
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

  ready(): Promise<void> {
    return this.exited ? this.exit : Promise.race([this.up, this.exit]);
  }

  /**
   * Ends the thread as a crash would (failure injection); once it has booted and loaded the job's
   * modules, though: a thread terminated while Node loads a native addon (lmdb) can abort the whole
   * process.
   */
  kill(): void {
    void this.booted().then(() => this.terminateGuard.terminate(this.worker));
  }

  private async booted(): Promise<void> {
    await whenBooted(Promise.race([this.up, this.exit.catch(() => undefined)]));
    await this.loads.done();
  }
  /**
   * Ends the thread; waits at most TERMINATE_TIMEOUT_MS for it. A thread that does not end in
   * time is abandoned: it no longer keeps the process alive and every call to it fails at once.
   */
  shutdown(): Promise<void> {
    this.terminating ??= this.terminateBounded();
    return this.terminating;
  }

  private async terminateBounded(): Promise<void> {
    if (this.threadExited) return;
    await this.booted();
    if (!(await terminateWithin(this.worker, this.terminateGuard))) this.markEnded(`abandoned: its thread did not end within ${TERMINATE_TIMEOUT_MS} ms of terminate()`);
    // Its writer threads close their environments once they see it gone.
    await this.siblings.whenEnded(TERMINATE_TIMEOUT_MS);
  }

  /** Gives up on a thread the heartbeat monitor found dead or stuck: calls to it fail from now on. */
  abandon(why: string): void {
    this.markEnded(why);
    void this.shutdown();
  }

  get alive(): boolean {
    return !this.exited;
  }
}
