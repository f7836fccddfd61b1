/** What a task reports about itself (REST, dashboard, benchmarks, tests): counts per operator, its watermark, back pressure. */
import type { RecordWriter } from '../exchange/record-writer.ts';
import type { PlannedTask } from '../graph/execution-plan.ts';
import type { InputGate } from './input-gate.ts';
import type { OperatorChain } from './operator-chain.ts';

export type TaskStatus = 'created' | 'running' | 'finished' | 'failed' | 'canceled';

export interface TaskMetrics {
  taskId: number;
  subtask: number;
  worker: number;
  operators: { nodeId: number; name: string; recordsIn: number; recordsOut: number; counters: Record<string, number> }[];
  watermark: number;
  backPressuredMs: number;
  maxInputQueue: number;
  maxOutputBacklog: number;
  /** Records per batch the task last asked its senders for (buffer debloating); undefined without inputs or debloating. */
  inputBatchSize: number | undefined;
  /** Most records ahead of a checkpoint barrier on an output channel when it entered it (see OutputChannel). */
  maxRecordsAheadOfBarrier: number;
  /** The same over barriers behind batches of a debloated size only, and how many barriers that covers. */
  maxRecordsAheadOfDebloatedBarrier: number;
  debloatedBarriers: number;
  status: TaskStatus;
}

/** The metrics of the task `task` running `chain` at `subtask`. */
export function collectTaskMetrics(
  task: PlannedTask,
  subtask: number,
  chain: OperatorChain,
  writers: readonly RecordWriter[],
  gate: InputGate | undefined,
  state: { watermark: number; backPressuredMs: number; status: TaskStatus },
): TaskMetrics {
  let maxOutputBacklog = 0;
  let maxRecordsAheadOfBarrier = 0;
  let maxRecordsAheadOfDebloatedBarrier = 0;
  let debloatedBarriers = 0;
  for (const w of writers) {
    for (const ch of w.channels) {
      maxOutputBacklog = Math.max(maxOutputBacklog, ch.maxBacklog);
      maxRecordsAheadOfBarrier = Math.max(maxRecordsAheadOfBarrier, ch.maxRecordsAheadOfBarrier);
      maxRecordsAheadOfDebloatedBarrier = Math.max(maxRecordsAheadOfDebloatedBarrier, ch.maxRecordsAheadOfDebloatedBarrier);
      debloatedBarriers += ch.debloatedBarriers;
    }
  }
  return {
    taskId: task.id,
    subtask,
    worker: task.worker,
    operators: chain.nodes.map((cn) => ({
      nodeId: cn.node.id,
      name: cn.node.name,
      recordsIn: cn.node.kind === 'source' ? cn.metrics.recordsOut : cn.metrics.recordsIn,
      recordsOut: cn.metrics.recordsOut,
      counters: { ...cn.metrics.counters },
    })),
    watermark: state.watermark,
    backPressuredMs: state.backPressuredMs,
    maxInputQueue: gate?.maxQueuedBatches ?? 0,
    maxOutputBacklog,
    inputBatchSize: gate?.batchSize,
    maxRecordsAheadOfBarrier,
    maxRecordsAheadOfDebloatedBarrier,
    debloatedBarriers,
    status: state.status,
  };
}
