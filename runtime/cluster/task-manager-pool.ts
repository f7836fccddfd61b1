/**
 * The worker-thread task managers of one job, kept across its execution attempts. Starting a task
 * manager thread costs about 2 s on a 2-core machine (the runtime's modules load in each thread),
 * most of a failover's time; so a failover replaces only the task managers that died or could not
 * stop their tasks, and keeps the others, their threads, loaded modules and LMDB writer threads
 * (as Flink keeps its TaskManagers and redeploys only the tasks). A warm spare (`spares`: started
 * with the job's task managers, job module loaded, writer thread up) takes the place of a dead task
 * manager; the job manager starts a new spare once the job has recovered.
 */
import { WorkerTaskManager, type TaskManagerHandlers } from './task-manager-gateway.ts';

export interface PoolOptions {
  workers: number;
  workerHeapMb?: number;
  heartbeatMs: number;
  moduleUrl: string;
  /** Whether a spare starts the LMDB writer thread while it warms up (the job keeps keyed state in LMDB). */
  writerThread: boolean;
  /** Warm spare task managers to keep (0 or 1 make sense). */
  spares: number;
}

const idle: TaskManagerHandlers = { onEvent: () => {}, onExit: () => {}, onBeat: () => {} };

export class TaskManagerPool {
  /** Task managers kept from the last attempt, by index. */
  private readonly kept = new Map<number, WorkerTaskManager>();
  private readonly spareManagers: { manager: WorkerTaskManager; ready: Promise<boolean> }[] = [];
  private closed = false;

  constructor(private readonly options: PoolOptions) {}

  private create(index: number, handlers: TaskManagerHandlers): WorkerTaskManager {
    return new WorkerTaskManager(index, handlers, this.options.workerHeapMb ? { maxOldGenerationSizeMb: this.options.workerHeapMb } : undefined, this.options.heartbeatMs);
  }

  /** The task managers of a new attempt: kept ones at their index, spares or new threads for the rest. */
  take(handlersFor: (index: number) => TaskManagerHandlers): { managers: WorkerTaskManager[]; reused: number; fromSpare: number } {
    let reused = 0;
    let fromSpare = 0;
    const managers: WorkerTaskManager[] = [];
    for (let i = 0; i < this.options.workers; i++) {
      let m = this.kept.get(i);
      this.kept.delete(i);
      if (m && !m.alive) m = undefined;
      if (m) reused++;
      else {
        const spare = this.spareManagers.shift();
        if (spare?.manager.alive) {
          m = spare.manager;
          fromSpare++;
        } else {
          void spare?.manager.shutdown();
          m = undefined;
        }
      }
      if (m) m.rebind(i, handlersFor(i));
      else m = this.create(i, handlersFor(i));
      managers.push(m);
    }
    for (const m of this.kept.values()) void m.shutdown();
    this.kept.clear();
    return { managers, reused, fromSpare };
  }

  /** After an attempt stopped: `m` stopped its tasks cleanly and may serve the next attempt. */
  keep(m: WorkerTaskManager): void {
    if (this.closed || !m.alive) {
      void m.shutdown();
      return;
    }
    m.rebind(m.index, idle);
    this.kept.set(m.index, m);
  }

  /** Starts spares up to `spares` (in the background; a spare that fails to warm up is dropped). */
  fillSpares(): void {
    while (!this.closed && this.spareManagers.length < this.options.spares) {
      const manager = this.create(-1, idle);
      const entry = {
        manager,
        ready: manager.prepare(this.options.moduleUrl, this.options.writerThread).then(
          () => true,
          () => {
            const i = this.spareManagers.indexOf(entry);
            if (i >= 0) this.spareManagers.splice(i, 1);
            void manager.shutdown();
            return false;
          },
        ),
      };
      this.spareManagers.push(entry);
    }
  }

  /** Ends every thread (the job is over). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.kept.values(), ...this.spareManagers.map((s) => s.manager)];
    this.kept.clear();
    this.spareManagers.length = 0;
    await Promise.all(all.map((m) => m.shutdown().catch(() => {})));
  }
}
