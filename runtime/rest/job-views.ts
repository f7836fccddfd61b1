/**
 * The REST API's JSON for jobs, named like Flink's REST API where a field means the same
 * (`jid`, `state`, `start-time`, `vertices`, checkpoint `history` with `end_to_end_duration` and
 * `state_size`, metric ids such as `numRecordsInPerSecond`). A vertex is a chain of fused operators
 * (Flink's JobVertex); its metrics are its head's input and its tail's output. Parameters are shown
 * redacted (runtime/cluster/redact.ts).
 */
import type { CheckpointStats } from '../checkpoint/coordinator.ts';
import type { ClusterJob, JobService } from '../cluster/cluster-job.ts';
import type { OperatorMetrics } from '../cluster/job-handle.ts';

const upper = (s: string): string => s.toUpperCase();

export function jobSummary(j: ClusterJob): Record<string, unknown> {
  return {
    jid: j.id,
    name: j.name,
    state: j.status === 'running' && j.handle?.restarting ? 'RESTARTING' : upper(j.status),
    'start-time': j.startedAt ?? -1,
    'end-time': j.endedAt ?? -1,
    duration: j.startedAt ? (j.endedAt ?? Date.now()) - j.startedAt : 0,
    slots: j.slots,
    restarts: j.handle?.restarts ?? 0,
  };
}

function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

export interface VertexView {
  id: number;
  name: string;
  parallelism: number;
  operators: string[];
  inputs: number[];
  metrics: Record<string, number | string | null>;
}

export function vertices(j: ClusterJob): VertexView[] {
  const h = j.handle;
  if (!h) return [];
  const chainOfNode = new Map<number, number>();
  for (const c of h.plan.chains) for (const n of c.nodeIds) chainOfNode.set(n, c.id);
  const ops = new Map<number, OperatorMetrics>((j.last?.operators ?? []).map((o) => [o.nodeId, o]));
  const rates = new Map(j.rates.map((r) => [r.nodeId, r]));
  return h.plan.chains.map((c) => {
    const head = c.nodeIds[0]!;
    const tail = c.nodeIds[c.nodeIds.length - 1]!;
    const inputs = [...new Set(h.graph.edges.filter((e) => chainOfNode.get(e.target) === c.id && chainOfNode.get(e.source) !== c.id).map((e) => chainOfNode.get(e.source)!))];
    const bp = rates.get(head)?.backPressure ?? 0;
    return {
      id: c.id,
      name: c.nodeIds.map((n) => h.graph.node(n).name).join(' -> '),
      parallelism: c.parallelism,
      operators: c.nodeIds.map((n) => h.graph.node(n).name),
      inputs,
      metrics: {
        numRecordsIn: ops.get(head)?.recordsIn ?? 0,
        numRecordsOut: ops.get(tail)?.recordsOut ?? 0,
        numRecordsInPerSecond: rates.get(head)?.recordsInPerSecond ?? 0,
        numRecordsOutPerSecond: rates.get(tail)?.recordsOutPerSecond ?? 0,
        backPressuredTimeMsPerSecond: Math.round(bp * 1000),
        backPressureLevel: bp > 0.5 ? 'high' : bp > 0.1 ? 'low' : 'ok',
        currentInputWatermark: finite(ops.get(head)?.watermark ?? -Infinity),
        currentOutputWatermark: finite(ops.get(tail)?.watermark ?? -Infinity),
      },
    };
  });
}

export function jobDetails(cluster: JobService, j: ClusterJob): Record<string, unknown> {
  const vs = vertices(j);
  const wms = vs.map((v) => v.metrics.currentOutputWatermark).filter((w): w is number => typeof w === 'number');
  return {
    ...jobSummary(j),
    module: j.modulePath,
    params: j.shownParams ?? null,
    vertices: vs,
    watermark: wms.length > 0 ? Math.min(...wms) : null,
    taskmanagers: cluster.taskManagers().filter((t) => t.jobs.includes(j.id)).map((t) => t.id),
    collected: j.handle?.collectedCounts() ?? {},
    savepoints: j.savepoints,
    error: j.error ? j.redactor.text(j.error) : null,
  };
}

function checkpointView(c: CheckpointStats): Record<string, unknown> {
  return {
    id: c.id,
    status: c.status === 'in-progress' ? 'IN_PROGRESS' : c.status === 'completed' ? 'COMPLETED' : 'FAILED',
    is_savepoint: c.savepoint,
    checkpoint_type: c.kind,
    trigger_timestamp: c.triggeredAt,
    end_to_end_duration: c.durationMs ?? null,
    state_size: c.bytes ?? null,
    alignment_duration: c.alignmentMs ?? null,
    external_path: c.location ?? null,
    failure_message: c.reason ?? null,
  };
}

export function checkpoints(j: ClusterJob): Record<string, unknown> {
  const all = j.checkpoints();
  const latest = (pred: (c: CheckpointStats) => boolean): unknown => {
    const c = [...all].reverse().find((x) => x.status === 'completed' && pred(x));
    return c ? checkpointView(c) : null;
  };
  return {
    counts: {
      total: all.length,
      completed: all.filter((c) => c.status === 'completed').length,
      in_progress: all.filter((c) => c.status === 'in-progress').length,
      failed: all.filter((c) => c.status === 'aborted').length,
    },
    latest: { completed: latest((c) => !c.savepoint), savepoint: latest((c) => c.savepoint) },
    history: [...all].reverse().map(checkpointView),
  };
}

export function exceptions(j: ClusterJob): Record<string, unknown> {
  return {
    exceptionHistory: {
      entries: j
        .exceptions()
        .reverse()
        .map((e) => ({ exceptionName: e.name, message: e.message, timestamp: e.timestamp, taskName: e.operator ?? null, subtask: e.subtask ?? null, restarted: e.restarted })),
      truncated: false,
    },
  };
}

export function vertexMetrics(j: ClusterJob, vid: number): { id: string; value: string }[] | undefined {
  const v = vertices(j).find((x) => x.id === vid);
  if (!v) return undefined;
  return Object.entries(v.metrics).map(([id, value]) => ({ id, value: String(value) }));
}
