/**
 * Non-keyed operator state for sources and sinks (offsets, pending transactions): named lists per
 * subtask. On rescale a split list is dealt round-robin over the new subtasks (each element goes to
 * exactly one), a union list is given whole to every new subtask (as Flink's union list state).
 *
 * Elements are serialized with the V8 serializer (bigint, Map, Date, typed arrays survive) at
 * snapshot time, so the handle is a consistent copy, plain JSON, small enough to live inline in the
 * checkpoint metadata.
 */
import { deserialize, serialize } from 'node:v8';
import { ConfigError } from '../runtime/errors.ts';

export type OperatorStateMode = 'split' | 'union';

export interface OperatorListState<T> {
  get(): T[];
  add(value: T): void;
  addAll(values: readonly T[]): void;
  update(values: readonly T[]): void;
  clear(): void;
}

export interface OperatorStateHandle {
  type: 'weir.operator-state';
  version: 1;
  operatorUid: string;
  subtask: number;
  checkpointId: number;
  /** Per state: its mode and its elements, each V8-serialized and base64-encoded. */
  states: Record<string, { mode: OperatorStateMode; elements: string[] }>;
}

export class OperatorStateStore {
  private readonly lists = new Map<string, { mode: OperatorStateMode; values: unknown[] }>();
  private readonly restored = new Map<string, { mode: OperatorStateMode; elements: string[] }>();

  constructor(
    readonly operatorUid: string,
    readonly subtask: number,
    restore?: OperatorStateHandle,
  ) {
    if (restore) for (const [name, s] of Object.entries(restore.states)) this.restored.set(name, s);
  }

  getListState<T>(name: string): OperatorListState<T> {
    return this.state<T>(name, 'split');
  }

  getUnionListState<T>(name: string): OperatorListState<T> {
    return this.state<T>(name, 'union');
  }

  private state<T>(name: string, mode: OperatorStateMode): OperatorListState<T> {
    let s = this.lists.get(name);
    if (!s) {
      const r = this.restored.get(name);
      if (r && r.mode !== mode) {
        throw new ConfigError(
          `operator state '${name}' of '${this.operatorUid}'`,
          `was checkpointed as ${r.mode} list state and is now asked for as ${mode}; use get${r.mode === 'union' ? 'Union' : ''}ListState or a new state name`,
        );
      }
      s = { mode, values: r ? r.elements.map((e) => deserialize(Buffer.from(e, 'base64')) as unknown) : [] };
      this.restored.delete(name);
      this.lists.set(name, s);
    } else if (s.mode !== mode) {
      throw new ConfigError(`operator state '${name}' of '${this.operatorUid}'`, `is already registered as ${s.mode} list state`);
    }
    const st = s;
    return {
      get: () => [...(st.values as T[])],
      add: (v: T) => void st.values.push(v),
      addAll: (vs: readonly T[]) => void st.values.push(...vs),
      update: (vs: readonly T[]) => void (st.values = [...vs]),
      clear: () => void (st.values = []),
    };
  }

  /** A consistent copy of every list, taken synchronously. States restored but not asked for are kept. */
  snapshot(checkpointId: number): OperatorStateHandle {
    const states: OperatorStateHandle['states'] = {};
    for (const [name, s] of this.restored) states[name] = { mode: s.mode, elements: [...s.elements] };
    for (const [name, s] of this.lists) states[name] = { mode: s.mode, elements: s.values.map((v) => serialize(v).toString('base64')) };
    return { type: 'weir.operator-state', version: 1, operatorUid: this.operatorUid, subtask: this.subtask, checkpointId, states };
  }
}

/**
 * The handles for `newParallelism` subtasks from the handles of all old subtasks: split lists dealt
 * round-robin in old-subtask order (kept per subtask when the parallelism did not change), union
 * lists concatenated and given to every new subtask.
 */
export function redistributeOperatorState(handles: readonly OperatorStateHandle[], newParallelism: number): OperatorStateHandle[] {
  if (!Number.isInteger(newParallelism) || newParallelism < 1) throw new ConfigError('parallelism', `must be a positive integer, got ${newParallelism}`);
  const sorted = [...handles].sort((a, b) => a.subtask - b.subtask);
  const first = sorted[0];
  const operatorUid = first?.operatorUid ?? '';
  const checkpointId = first?.checkpointId ?? 0;
  const sameParallelism = sorted.length === newParallelism && sorted.every((h, i) => h.subtask === i);
  const out: OperatorStateHandle[] = [];
  for (let i = 0; i < newParallelism; i++) out.push({ type: 'weir.operator-state', version: 1, operatorUid, subtask: i, checkpointId, states: {} });
  const modes = new Map<string, OperatorStateMode>();
  const all = new Map<string, string[]>();
  for (const h of sorted) {
    for (const [name, s] of Object.entries(h.states)) {
      const m = modes.get(name);
      if (m !== undefined && m !== s.mode) throw new ConfigError(`operator state '${name}' of '${h.operatorUid}'`, `is split list state in one subtask and union in another`);
      modes.set(name, s.mode);
      let list = all.get(name);
      if (!list) all.set(name, (list = []));
      list.push(...s.elements);
    }
  }
  for (const [name, elements] of all) {
    const mode = modes.get(name)!;
    if (mode === 'union') {
      for (const h of out) h.states[name] = { mode, elements: [...elements] };
    } else if (sameParallelism) {
      // As Flink: without a rescale every subtask keeps its own list (a source's splits stay with their readers).
      for (const h of out) h.states[name] = { mode, elements: [...(sorted[h.subtask]!.states[name]?.elements ?? [])] };
    } else {
      for (const h of out) h.states[name] = { mode, elements: [] };
      elements.forEach((e, i) => out[i % newParallelism]!.states[name]!.elements.push(e));
    }
  }
  return out;
}
