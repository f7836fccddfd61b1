/**
 * The slots of a standalone cluster: its task manager threads (task-manager-host.ts), each offering
 * a number of slots, and which job uses which. A job reserves slots when it is admitted (as many as
 * its highest operator parallelism: every subtask index shares one slot, Flink's slot sharing) and
 * keeps the reservation until it ends, across failovers; each execution attempt is then placed on
 * live task managers with room for it. A task manager that dies is replaced by a new thread under
 * the same id; the jobs that had tasks on it fail over (their gateways report the exit) and are
 * placed again once there is room.
 */
import { WeirError } from '../errors.ts';
import type { ExecutionPlan } from '../graph/execution-plan.ts';
import type { TaskManagerGateway, TaskManagerHandlers } from './task-manager-gateway.ts';
import { TaskManagerHost } from './task-manager-host.ts';

/** What a job manager asks of a cluster's slots (ClusterOptions.slots). */
export interface SlotProvider {
  /** Reserves `slots` for a job; throws NotEnoughSlotsError when fewer are free. */
  reserve(jobId: string, slots: number): SlotReservation;
}

export interface SlotReservation {
  /** How many task managers to plan the job over. */
  readonly workers: number;
  /** Places one execution attempt: a task manager for each of the plan's workers (waits for room while a task manager is being replaced). */
  place(plan: ExecutionPlan, attempt: number, abandoned?: () => boolean): Promise<(handlersFor: (index: number) => TaskManagerHandlers) => TaskManagerGateway[]>;
  /** The job ended: its slots are free again. */
  release(): void;
}

export class NotEnoughSlotsError extends WeirError {
  constructor(
    readonly needed: number,
    readonly free: number,
    readonly total: number,
  ) {
    super(
      `the job needs ${needed} slot${needed === 1 ? '' : 's'} (its highest parallelism) but ${free} of the cluster's ${total} are free; ` +
        'lower --parallelism, wait for running jobs to end (weir run --wait-for-slots), or start the cluster with more --workers or --slots',
      { domain: 'user' },
    );
  }
}

export interface SlotPoolOptions {
  taskManagers: number;
  slotsPerTaskManager: number;
  heartbeatMs?: number;
  workerHeapMb?: number;
  /** How long an attempt waits for room (a replaced task manager to come up) before it fails. */
  placementTimeoutMs?: number;
  log?: (message: string) => void;
}

export interface TaskManagerInfo {
  id: number;
  slots: number;
  freeSlots: number;
  alive: boolean;
  startedAt: number;
  lastHeartbeat: number | undefined;
  /** Times this task manager id was replaced after its thread died. */
  replacements: number;
  jobs: string[];
}

export class SlotPool implements SlotProvider {
  private readonly hosts = new Map<number, TaskManagerHost>();
  private readonly replacements = new Map<number, number>();
  /** Slots used on each task manager by the placed attempts. */
  private readonly used = new Map<number, number>();
  private readonly reservations = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private closed = false;
  private readonly log: (message: string) => void;

  constructor(private readonly options: SlotPoolOptions) {
    this.log = options.log ?? (() => {});
    for (let id = 0; id < options.taskManagers; id++) this.startHost(id);
  }

  /** Resolves once every task manager is up. */
  async ready(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.ready()));
  }

  private startHost(id: number): void {
    const host = new TaskManagerHost(id, this.options.slotsPerTaskManager, {
      heartbeatMs: this.options.heartbeatMs ?? 1000,
      workerHeapMb: this.options.workerHeapMb,
      onExit: (h, code, error) => {
        if (this.hosts.get(id) !== h) return;
        this.used.set(id, 0);
        if (this.closed) return;
        this.replacements.set(id, (this.replacements.get(id) ?? 0) + 1);
        this.log(`task manager ${id} died (exit code ${code}${error ? `: ${error.message}` : ''}); starting a replacement`);
        this.startHost(id);
      },
    });
    this.hosts.set(id, host);
    this.used.set(id, 0);
    host.ready().then(
      () => {
        this.log(`task manager ${id} registered with ${host.slots} slots`);
        this.wake();
      },
      () => {},
    );
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  get totalSlots(): number {
    return this.options.taskManagers * this.options.slotsPerTaskManager;
  }

  get freeSlots(): number {
    let reserved = 0;
    for (const n of this.reservations.values()) reserved += n;
    return this.totalSlots - reserved;
  }

  /** Resolves when slots may have been freed (a job ended, a task manager came up). */
  changed(): Promise<void> {
    return new Promise((resolve) => {
      const w = (): void => {
        this.waiters.delete(w);
        resolve();
      };
      this.waiters.add(w);
    });
  }

  taskManagers(): TaskManagerInfo[] {
    return [...this.hosts.values()].map((h) => ({
      id: h.id,
      slots: h.slots,
      freeSlots: h.slots - (this.used.get(h.id) ?? 0),
      alive: h.alive,
      startedAt: h.startedAt,
      lastHeartbeat: h.lastHeartbeat,
      replacements: this.replacements.get(h.id) ?? 0,
      jobs: h.jobs,
    }));
  }

  /** Failure injection: ends task manager `id`'s thread as a crash would. */
  kill(id: number): void {
    const h = this.hosts.get(id);
    if (!h) throw new WeirError(`no task manager ${id}; see /taskmanagers`, { domain: 'user' });
    h.kill();
  }

  /** Loads a job module on every task manager ahead of its deployment. */
  async prepare(moduleUrl: string): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.call(() => h.api.prepare(moduleUrl)).catch(() => {})));
  }

  reserve(jobId: string, slots: number): SlotReservation {
    const free = this.freeSlots;
    if (slots > free) throw new NotEnoughSlotsError(slots, free, this.totalSlots);
    const workers = this.workersFor(slots);
    this.reservations.set(jobId, slots);
    return {
      workers,
      place: (plan, attempt, abandoned) => this.place(jobId, plan, attempt, abandoned),
      release: () => {
        if (this.reservations.delete(jobId)) this.wake();
      },
    };
  }

  /**
   * How many task managers to plan a job of `slots` over: one per task manager up to all of them
   * (subtasks spread evenly), fewer or more when the free slots are spread so that the even split
   * does not fit (more workers than task managers share a thread, as separate task managers). With
   * `slots` free in all, `slots` workers of one slot each always fit. While a task manager is being
   * replaced the even split is planned, and placed once it is up.
   */
  private workersFor(slots: number): number {
    const even = Math.max(1, Math.min(slots, this.options.taskManagers));
    const allUp = [...this.hosts.values()].every((h) => h.alive && h.lastHeartbeat !== undefined);
    if (!allUp) return even;
    const split = (w: number): number[] => Array.from({ length: w }, (_, i) => Math.floor(slots / w) + (i < slots % w ? 1 : 0));
    for (let w = even; w >= 1; w--) if (this.tryPlace(split(w))) return w;
    for (let w = even + 1; w <= slots; w++) if (this.tryPlace(split(w))) return w;
    return even;
  }

  /** Slots each of the plan's workers needs: its most subtasks of any one chain. */
  private static demands(plan: ExecutionPlan): number[] {
    const demand = new Array<number>(plan.workers).fill(0);
    for (const chain of plan.chains) {
      const perWorker = new Array<number>(plan.workers).fill(0);
      for (const t of plan.tasks) if (t.chainId === chain.id) perWorker[t.worker]!++;
      perWorker.forEach((n, w) => (demand[w] = Math.max(demand[w]!, n)));
    }
    return demand;
  }

  /** Live task managers for each worker, most demanding first onto the most free; undefined if they do not fit now. */
  private tryPlace(demands: number[]): number[] | undefined {
    const free = new Map<number, number>();
    for (const h of this.hosts.values()) if (h.alive && h.lastHeartbeat !== undefined) free.set(h.id, h.slots - (this.used.get(h.id) ?? 0));
    const taken = new Map<number, number>();
    const out: number[] = new Array<number>(demands.length);
    const order = demands.map((d, w) => [d, w] as const).sort((a, b) => b[0] - a[0]);
    for (const [d, w] of order) {
      let best: number | undefined;
      for (const [id, f] of free) {
        if (f < d) continue;
        if (best === undefined) best = id;
        else {
          const [tb, tc] = [taken.get(best) ?? 0, taken.get(id) ?? 0];
          if (tc < tb || (tc === tb && f > free.get(best)!)) best = id;
        }
      }
      if (best === undefined) return undefined;
      free.set(best, free.get(best)! - d);
      taken.set(best, (taken.get(best) ?? 0) + 1);
      out[w] = best;
    }
    return out;
  }

  private async place(jobId: string, plan: ExecutionPlan, attempt: number, abandoned: () => boolean = () => false): Promise<(handlersFor: (index: number) => TaskManagerHandlers) => TaskManagerGateway[]> {
    const demands = SlotPool.demands(plan);
    const deadline = Date.now() + (this.options.placementTimeoutMs ?? 60_000);
    let placement = this.tryPlace(demands);
    while (!placement) {
      if (this.closed) throw new WeirError('the cluster is shutting down', { domain: 'internal' });
      // The job ended (canceled) while it waited for room: place nothing.
      if (abandoned()) throw new WeirError(`job ${jobId} ended while waiting for room for its task managers`, { domain: 'internal' });
      const left = deadline - Date.now();
      if (left <= 0) throw new WeirError(`job ${jobId}: no room for its ${demands.length} task managers within ${this.options.placementTimeoutMs ?? 60_000} ms (task managers dead and not replaced?)`, { domain: 'internal', retriable: true });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.changed(), new Promise((r) => (timer = setTimeout(r, Math.min(left, 1000))))]).finally(() => clearTimeout(timer));
      placement = this.tryPlace(demands);
    }
    for (let w = 0; w < placement.length; w++) this.used.set(placement[w]!, (this.used.get(placement[w]!) ?? 0) + demands[w]!);
    const hosts = placement.map((id) => this.hosts.get(id)!);
    return (handlersFor) =>
      hosts.map((host, w) => {
        let released = false;
        return host.host(`${jobId}#${attempt}#${w}`, w, handlersFor(w), () => {
          if (released) return;
          released = true;
          if (this.hosts.get(host.id) === host) this.used.set(host.id, Math.max(0, (this.used.get(host.id) ?? 0) - demands[w]!));
          this.wake();
        });
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    await Promise.all([...this.hosts.values()].map((h) => h.shutdown()));
  }
}
