/**
 * What a checkpoint records (the JSON in `_metadata`) and how a job's tasks find their state in
 * it on restore, also at another parallelism: keyed state by key-group range (every new subtask
 * gets every old handle and reads only its own key groups), operator state redistributed as lists.
 * Operators are matched by uid.
 */
import { ConfigError } from '../errors.ts';
import { redistributeOperatorState, type KeyedStateHandle, type OperatorStateHandle } from '../../state/index.ts';
import type { StreamGraph } from '../graph/stream-graph.ts';

/** One subtask's share of one operator's state in a checkpoint. */
export interface SubtaskState {
  subtask: number;
  keyed?: KeyedStateHandle;
  operator?: OperatorStateHandle;
  /**
   * The operator had finished (its input ended) and has keyed state that was not written: the final
   * checkpoint (snapshot-kind.ts). Restored empty.
   */
  finished?: boolean;
}

/** What a task reports when it has taken its part of a checkpoint: its nodes' state by uid. */
export interface TaskSnapshot {
  nodes: Record<string, SubtaskState>;
  alignmentMs: number;
  /** Bytes written to checkpoint storage by this task. */
  bytes: number;
}

export interface OperatorCheckpointState {
  name: string;
  parallelism: number;
  maxParallelism: number;
  subtasks: SubtaskState[];
}

export interface CheckpointMetadata {
  format: 'weir.job-checkpoint/1';
  checkpointId: number;
  jobId: string;
  savepoint: boolean;
  /** The final checkpoint of a bounded job (snapshot-kind.ts): its finished operators' keyed state is not in it. */
  final?: boolean;
  createdAt: number;
  operators: Record<string, OperatorCheckpointState>;
  /** Split enumerator state per source uid (V8-serialized, base64): the splits not yet assigned. */
  enumerators?: Record<string, string>;
}

/** What one task restores: per node uid, its keyed handles (all old subtasks) and operator state. */
export interface TaskRestore {
  checkpointId: number;
  nodes: Record<string, { keyed: KeyedStateHandle[]; operator?: OperatorStateHandle }>;
}

/** Per uid and new subtask, what to restore; checks that the checkpoint fits the job. */
export function planRestore(
  graph: StreamGraph,
  metadata: CheckpointMetadata,
  /** `fromOtherJob`: a job started from a checkpoint or savepoint of another, not its own failover. */
  options: { allowNonRestoredState: boolean; fromOtherJob?: boolean },
): (uid: string, subtask: number) => TaskRestore['nodes'][string] | undefined {
  if (options.fromOtherJob && metadata.final) {
    const finished = Object.values(metadata.operators).filter((op) => op.subtasks.some((s) => s.finished));
    throw new ConfigError(
      'restore',
      `checkpoint ${metadata.checkpointId} is the final checkpoint of job ${metadata.jobId}, taken after its input ended: its operators had finished, ` +
        `so it holds no keyed state${finished.length > 0 ? ` (of ${finished.map((op) => `'${op.name}'`).join(', ')})` : ''} and no job can start from it (Flink discards it with the finished job); ` +
        'start from a savepoint taken before the input ended (weir savepoint or weir stop; triggerSavepoint() or stopWithSavepoint()) or from an earlier checkpoint of that job',
    );
  }
  const uids = new Map(graph.nodes.map((n) => [graph.uidOf(n), n]));
  const unknown = Object.keys(metadata.operators).filter((uid) => !uids.has(uid) && metadata.operators[uid]!.subtasks.some((s) => s.keyed || s.operator));
  if (unknown.length > 0 && !options.allowNonRestoredState) {
    throw new ConfigError(
      'restore',
      `checkpoint ${metadata.checkpointId} has state for operators this job does not have: ${unknown.map((u) => `'${u}' (${metadata.operators[u]!.name})`).join(', ')}; ` +
        'give those operators the same uid as before, or pass allowNonRestoredState: true to drop that state',
    );
  }
  const redistributed = new Map<string, OperatorStateHandle[]>();
  for (const [uid, node] of uids) {
    const op = metadata.operators[uid];
    if (!op) continue;
    const hasKeyed = op.subtasks.some((s) => s.keyed);
    if (hasKeyed && op.maxParallelism !== graph.maxParallelism) {
      throw new ConfigError(
        'maxParallelism',
        `operator '${node.name}' (uid '${uid}') was checkpointed with max parallelism ${op.maxParallelism}, the job now has ${graph.maxParallelism}; keyed state is split into that many key groups, so it must stay the same`,
      );
    }
    const opHandles = op.subtasks.map((s) => s.operator).filter((h): h is OperatorStateHandle => h !== undefined);
    if (opHandles.length > 0) redistributed.set(uid, redistributeOperatorState(opHandles, graph.parallelismOf(node)));
  }
  return (uid, subtask) => {
    const op = metadata.operators[uid];
    if (!op) return undefined;
    const keyed = op.subtasks.map((s) => s.keyed).filter((h): h is KeyedStateHandle => h !== undefined);
    return { keyed, operator: redistributed.get(uid)?.[subtask] };
  };
}
