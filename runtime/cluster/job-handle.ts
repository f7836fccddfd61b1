/** What the submitter holds of a running job: its result, its metrics, and a way to cancel it. */
import type { TaskMetrics } from '../task/task-metrics.ts';
import type { StreamGraph } from '../graph/stream-graph.ts';
import type { ExecutionPlan } from '../graph/execution-plan.ts';

/** 'stopped': ended by stop-with-savepoint (its savepoint completed and the sinks committed what it covers). */
export type JobStatus = 'running' | 'finished' | 'stopped' | 'failed' | 'canceled';

export interface OperatorMetrics {
  nodeId: number;
  name: string;
  parallelism: number;
  recordsIn: number;
  recordsOut: number;
  /** recordsIn per second of the job's run time so far. */
  recordsInPerSecond: number;
  /** Time the operator's tasks spent waiting for downstream credit, summed over subtasks. */
  backPressuredMs: number;
  /** Lowest watermark over the operator's subtasks (-Infinity before the first). */
  watermark: number;
  counters: Record<string, number>;
  /** Most unprocessed batches an input channel of this operator held at once. */
  maxInputQueue: number;
  /** Most batches an output channel of this operator held back for want of credit. */
  maxOutputBacklog: number;
  /** Smallest batch size (records) a subtask of this operator asked its senders for (buffer debloating); undefined without. */
  inputBatchSize: number | undefined;
  /**
   * Most records in flight ahead of a checkpoint barrier when it entered an output channel of this
   * operator (held back, in transit, or queued at the receiver).
   */
  maxRecordsAheadOfBarrier: number;
  /** The same over barriers behind batches of a debloated size only (what debloating bounds), and how many barriers that covers. */
  maxRecordsAheadOfDebloatedBarrier: number;
  debloatedBarriers: number;
}

export interface JobMetrics {
  elapsedMs: number;
  operators: OperatorMetrics[];
  /** The execution attempt the counters cover (1 is the first run; each failover starts a new one, with counters from zero, as in Flink). */
  attempt?: number;
  /** Failovers so far. */
  restarts?: number;
  /** Task managers that did not answer in time (busy or stuck); their tasks are missing from `operators`. */
  unresponsive?: number[];
}

/** Something a collect sink can be looked up by: its topic and, for typing, its record type. */
export interface CollectTopic<T> {
  readonly topic: string;
  readonly __type?: T;
}

export class JobResult {
  constructor(
    readonly jobId: string,
    readonly durationMs: number,
    private readonly collected: Map<string, unknown[]>,
    readonly metrics: JobMetrics,
  ) {}

  /** Everything a collect sink received, in arrival order. */
  get<T>(sink: CollectTopic<T>): T[] {
    return (this.collected.get(sink.topic) ?? []) as T[];
  }

  topics(): string[] {
    return [...this.collected.keys()];
  }
}

export function aggregateMetrics(graph: StreamGraph, plan: ExecutionPlan, tasks: TaskMetrics[], elapsedMs: number): JobMetrics {
  const byNode = new Map<number, OperatorMetrics>();
  for (const t of tasks) {
    for (const op of t.operators) {
      let m = byNode.get(op.nodeId);
      if (!m) {
        m = {
          nodeId: op.nodeId,
          name: op.name,
          parallelism: graph.parallelismOf(graph.node(op.nodeId)),
          recordsIn: 0,
          recordsOut: 0,
          recordsInPerSecond: 0,
          backPressuredMs: 0,
          watermark: Infinity,
          counters: {},
          maxInputQueue: 0,
          maxOutputBacklog: 0,
          inputBatchSize: undefined,
          maxRecordsAheadOfBarrier: 0,
          maxRecordsAheadOfDebloatedBarrier: 0,
          debloatedBarriers: 0,
        };
        byNode.set(op.nodeId, m);
      }
      m.recordsIn += op.recordsIn;
      m.recordsOut += op.recordsOut;
      m.backPressuredMs += t.backPressuredMs;
      m.watermark = Math.min(m.watermark, t.watermark);
      m.maxInputQueue = Math.max(m.maxInputQueue, t.maxInputQueue);
      m.maxOutputBacklog = Math.max(m.maxOutputBacklog, t.maxOutputBacklog);
      if (t.inputBatchSize !== undefined) m.inputBatchSize = Math.min(m.inputBatchSize ?? Infinity, t.inputBatchSize);
      m.maxRecordsAheadOfBarrier = Math.max(m.maxRecordsAheadOfBarrier, t.maxRecordsAheadOfBarrier);
      m.maxRecordsAheadOfDebloatedBarrier = Math.max(m.maxRecordsAheadOfDebloatedBarrier, t.maxRecordsAheadOfDebloatedBarrier);
      m.debloatedBarriers += t.debloatedBarriers;
      for (const [k, v] of Object.entries(op.counters)) m.counters[k] = (m.counters[k] ?? 0) + v;
    }
  }
  const operators = [...byNode.values()].sort((a, b) => a.nodeId - b.nodeId);
  for (const m of operators) m.recordsInPerSecond = elapsedMs > 0 ? (m.recordsIn * 1000) / elapsedMs : 0;
  void plan;
  return { elapsedMs, operators };
}
