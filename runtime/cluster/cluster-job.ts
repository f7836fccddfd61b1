/**
 * A job as a cluster shows it: its submission (module, redacted parameters, slots), status, log,
 * live rates sampled from its metrics, savepoints and exceptions. The standalone cluster keeps one
 * per submitted job; an in-process `weir run --dashboard` keeps one for its job.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import type { JsonValue } from '../graph/job-definition.ts';
import type { CheckpointStats } from '../checkpoint/coordinator.ts';
import type { RestartStrategyConfig } from '../failover/restart-strategy.ts';
import type { JobHandle, SavepointRef } from './job-master.ts';
import type { JobStatus, OperatorMetrics } from './job-handle.ts';
import { WeirError } from '../errors.ts';
import { Redactor } from './redact.ts';
import type { TaskManagerInfo } from './slot-pool.ts';

export class JobNotFoundError extends WeirError {
  constructor(message: string) {
    super(message, { domain: 'user' });
  }
}

/** What the REST API serves: the standalone cluster's jobs, or the one job of an in-process run. */
export interface JobService {
  readonly startedAt: number;
  readonly totalSlots: number;
  readonly freeSlots: number;
  list(): ClusterJob[];
  /** A job by id, unique id prefix, or name; JobNotFoundError if none. */
  job(ref: string): ClusterJob;
  taskManagers(): TaskManagerInfo[];
  submit(request: SubmitRequest): Promise<ClusterJob>;
  cancel(ref: string): Promise<ClusterJob>;
  savepoint(ref: string, targetDir?: string): Promise<SavepointRef>;
  stop(ref: string, options?: { targetDir?: string; drain?: boolean }): Promise<SavepointRef>;
  logOf(ref: string): string;
  killTaskManager(id: number): void;
}

export interface SubmitRequest {
  /** Path of the job module (a .ts file; run directly). */
  module: string;
  params?: JsonValue;
  parallelism?: number;
  /** A savepoint (or retained checkpoint) to start from: its directory, or the reference `weir savepoint` prints. */
  fromSavepoint?: string | SavepointRef;
  allowNonRestoredState?: boolean;
  checkpointIntervalMs?: number;
  restartStrategy?: RestartStrategyConfig;
  /** Wait in line for free slots instead of failing at once. */
  waitForSlots?: boolean;
}


export type ClusterJobStatus = JobStatus | 'waiting';

/** Live rates of one operator, from the last two metric samples. */
export interface OperatorRates {
  nodeId: number;
  recordsInPerSecond: number;
  recordsOutPerSecond: number;
  /** Share of the last interval the operator's subtasks waited for downstream credit (0..1). */
  backPressure: number;
}

export interface ExceptionEntry {
  timestamp: number;
  name: string;
  message: string;
  operator?: string;
  subtask?: number;
  restarted: boolean;
}

interface Sample {
  at: number;
  operators: OperatorMetrics[];
  attempt: number;
}

export class ClusterJob {
  status: ClusterJobStatus = 'waiting';
  handle: JobHandle | undefined;
  readonly submittedAt = Date.now();
  startedAt: number | undefined;
  endedAt: number | undefined;
  error: string | undefined;
  readonly savepoints: SavepointRef[] = [];
  readonly redactor: Redactor;
  last: Sample | undefined;
  rates: OperatorRates[] = [];
  cancelWaiting: (() => void) | undefined;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly modulePath: string,
    readonly moduleUrl: string,
    readonly params: JsonValue | undefined,
    readonly slots: number,
    readonly request: SubmitRequest,
    /** Where the job's log goes; undefined: kept in memory. */
    readonly logFile: string | undefined,
  ) {
    this.redactor = new Redactor(params);
  }

  private readonly logLines: string[] = [];

  get shownParams(): JsonValue | undefined {
    return this.redactor.params(this.params);
  }

  log(line: string): void {
    const text = `${new Date().toISOString()} ${this.redactor.text(line)}\n`;
    if (this.logFile) appendFileSync(this.logFile, text);
    else this.logLines.push(text);
  }

  /** The job's log so far. */
  logText(): string {
    if (!this.logFile) return this.logLines.join('');
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Follows a started job: its status, log lines for its checkpoints, failures and end. */
  attach(h: JobHandle, onEnded: (status: JobStatus) => void = () => {}): void {
    this.handle = h;
    this.status = 'running';
    this.startedAt = Date.now();
    h.on('checkpoint-completed', (id) => {
      const c = h.checkpoints().find((x) => x.id === id);
      this.log(`checkpoint ${id} completed in ${c?.durationMs?.toFixed(0) ?? '?'} ms, ${c?.bytes ?? 0} bytes`);
    });
    h.on('failover', (f) => this.log(`failure in attempt ${f.attempt}: ${f.cause.name}: ${f.cause.message}${f.restarted ? '; restarting' : `; not restarted: ${f.notRestartedBecause ?? ''}`}`));
    h.on('restarted', (n) => this.log(`attempt ${n} running`));
    h.on('recovered', (f) => this.log(`recovered from checkpoint ${f.restoredCheckpointId ?? '(none)'}`));
    const ended = (): void => {
      this.status = h.status;
      this.endedAt = Date.now();
      this.log(`${h.status}${this.error ? `: ${this.error}` : ''}`);
      onEnded(h.status);
    };
    h.result().then(ended, (e: unknown) => {
      if (h.status === 'failed') this.error = e instanceof Error ? e.message : String(e);
      ended();
    });
  }

  /** Samples the running job's counters; rates are differences between the last two samples. */
  async sample(): Promise<void> {
    if (this.status !== 'running' || !this.handle) return;
    const m = await this.handle.metrics().catch(() => undefined);
    if (!m) return;
    const now = Date.now();
    const prev = this.last;
    const attempt = m.attempt ?? 0;
    if (prev && prev.attempt === attempt && now > prev.at) {
      const dt = (now - prev.at) / 1000;
      this.rates = m.operators.map((o) => {
        const p = prev.operators.find((x) => x.nodeId === o.nodeId);
        const d = (a: number, b: number | undefined): number => Math.max(0, a - (b ?? 0));
        return {
          nodeId: o.nodeId,
          recordsInPerSecond: d(o.recordsIn, p?.recordsIn) / dt,
          recordsOutPerSecond: d(o.recordsOut, p?.recordsOut) / dt,
          backPressure: Math.min(1, d(o.backPressuredMs, p?.backPressuredMs) / (dt * 1000 * Math.max(1, o.parallelism))),
        };
      });
    }
    this.last = { at: now, operators: m.operators, attempt };
  }

  checkpoints(): CheckpointStats[] {
    return this.handle?.checkpoints() ?? [];
  }

  exceptions(): ExceptionEntry[] {
    const out: ExceptionEntry[] = (this.handle?.failovers() ?? []).map((f) => ({
      timestamp: f.at,
      name: f.cause.name,
      message: this.redactor.text(f.cause.message),
      operator: f.cause.operator,
      subtask: f.cause.subtask,
      restarted: f.restarted,
    }));
    if (this.error && !out.some((e) => !e.restarted)) out.push({ timestamp: this.endedAt ?? Date.now(), name: 'JobFailedError', message: this.redactor.text(this.error), restarted: false });
    return out;
  }
}

