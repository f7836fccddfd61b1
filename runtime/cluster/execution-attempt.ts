/**
 * One deployment of a job: its task managers, the data channels between them, the plan deployed
 * with the state to restore, and the tasks started. A failover stops the attempt (cancels every
 * task) and starts a new one from the latest completed checkpoint; with a task manager pool, the
 * task managers that stopped their tasks cleanly serve the next attempt and only dead or stuck
 * ones are replaced (task-manager-pool.ts).
 */
import type { TaskRestore } from '../checkpoint/metadata.ts';
import { HeartbeatMonitor, DEFAULT_HEARTBEAT, type HeartbeatSettings } from './heartbeat-monitor.ts';
import type { Deployment, TaskManagerEvent } from './protocol.ts';
import { InProcessTaskManager, WorkerTaskManager, type TaskManagerGateway, type TaskManagerHandlers } from './task-manager-gateway.ts';
import type { TaskManagerPool } from './task-manager-pool.ts';
import { inProcessTransport, workerThreadTransport, type Transport } from './transport.ts';

/** How long tasks get to stop by themselves before their threads are ended. */
const CANCEL_GRACE_MS = 3000;

export interface AttemptOptions {
  workers: number;
  workerHeapMb?: number;
  onEvent(event: TaskManagerEvent): void;
  onManagerExit(index: number, code: number, error?: Error): void;
  /** A task manager stopped sending heartbeats (dead or stuck); it has been abandoned. */
  onManagerLost?(index: number, message: string): void;
  heartbeat?: HeartbeatSettings;
  /** Where worker task managers come from and go back to; without it each attempt starts and ends its own threads. */
  pool?: TaskManagerPool;
  /** Task managers placed by a standalone cluster's slot pool (slot-pool.ts), bound to this attempt's handlers. */
  placed?: (handlersFor: (index: number) => TaskManagerHandlers) => TaskManagerGateway[];
  /** `workers` task managers on the calling thread, linked in process (ClusterOptions.transport). */
  inProcess?: boolean;
}

export class ExecutionAttempt {
  readonly managers: TaskManagerGateway[];
  /** Task managers kept from the previous attempt, and taken from the warm spares. */
  readonly reused: number = 0;
  readonly fromSpare: number = 0;
  private stopping = false;
  private readonly heartbeats: HeartbeatMonitor;
  private readonly transport: Transport;

  constructor(
    readonly number: number,
    private readonly options: AttemptOptions,
  ) {
    const { workers, onEvent } = options;
    const heartbeat = options.heartbeat ?? DEFAULT_HEARTBEAT;
    this.heartbeats = new HeartbeatMonitor(heartbeat, (i, message) => {
      if (this.stopping) return;
      this.managers[i]?.abandon?.(message);
      options.onManagerLost?.(i, message);
    });
    const handlersFor = (i: number) => ({
      onEvent,
      onExit: (code: number, error?: Error) => {
        if (!this.stopping) options.onManagerExit(i, code, error);
      },
      onBeat: () => this.heartbeats.beat(i),
    });
    if (options.placed) this.managers = options.placed(handlersFor);
    else if (workers === 0 || options.inProcess) this.managers = Array.from({ length: Math.max(1, workers) }, (_, i) => new InProcessTaskManager(i, onEvent));
    else if (options.pool) {
      const taken = options.pool.take(handlersFor);
      this.managers = taken.managers;
      this.reused = taken.reused;
      this.fromSpare = taken.fromSpare;
    } else {
      this.managers = Array.from(
        { length: workers },
        (_, i) => new WorkerTaskManager(i, handlersFor(i), options.workerHeapMb ? { maxOldGenerationSizeMb: options.workerHeapMb } : undefined, heartbeat.intervalMs),
      );
    }
    // In-process task managers share the job manager's event loop: nothing to watch.
    this.transport = workers === 0 || options.inProcess ? inProcessTransport : workerThreadTransport;
    if (this.transport === workerThreadTransport) {
      for (let i = 0; i < this.managers.length; i++) this.heartbeats.watch(i);
      this.heartbeats.start();
    }
  }

  /** Milliseconds start() spent until every task manager was up (peers connected), and deploying and starting tasks. */
  readonly timings = { startWorkersMs: 0, deployMs: 0 };
  private readonly createdAt = performance.now();

  /** Connects, deploys and starts; on any error stops every thread and rethrows. */
  async start(deployment: Omit<Deployment, 'worker' | 'restore'>, restore: Record<number, TaskRestore> | undefined): Promise<void> {
    try {
      await Promise.all(this.managers.map((m) => m.ready()));
      for (let a = 0; a < this.managers.length; a++) {
        for (let b = a + 1; b < this.managers.length; b++) {
          await this.transport.connect(this.managers[a]!, this.managers[b]!);
        }
      }
      const up = performance.now();
      this.timings.startWorkersMs = up - this.createdAt;
      await Promise.all(
        this.managers.map((m) => {
          const own = restore
            ? Object.fromEntries(deployment.plan.tasks.filter((t) => t.worker === m.index && restore[t.id]).map((t) => [t.id, restore[t.id]!]))
            : undefined;
          return m.deploy({ ...deployment, worker: m.index, restore: own });
        }),
      );
      await Promise.all(this.managers.map((m) => m.start()));
      this.timings.deployMs = performance.now() - up;
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private stopped: Promise<void> | undefined;

  /**
   * Cancels every task; safe to call more than once. Task managers that stopped their tasks within
   * the grace period go back to the pool when `keepThreads` (a failover); the others, and all of
   * them without a pool or when the job ends, have their threads ended.
   */
  stop(keepThreads = false): Promise<void> {
    this.stopping = true;
    this.heartbeats.stop();
    this.stopped ??= (async () => {
      // Tasks stop at their next step; one stuck in user I/O must not keep its thread alive.
      const grace = (p: Promise<unknown>): Promise<boolean> =>
        Promise.race([p.then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), CANCEL_GRACE_MS).unref())]);
      const clean = await Promise.all(this.managers.map((m) => grace(m.cancel())));
      const pool = this.options.pool;
      await Promise.all(
        this.managers.map((m, i) => {
          if (keepThreads && pool && clean[i] && m instanceof WorkerTaskManager && m.alive) {
            pool.keep(m);
            return Promise.resolve();
          }
          return m.shutdown().catch(() => {});
        }),
      );
    })();
    return this.stopped;
  }

  get alive(): number {
    return this.managers.filter((m) => m.alive).length;
  }
}
