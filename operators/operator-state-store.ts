/**
 * Non-keyed operator state as the operator sees it: named lists (source offsets, pending
 * transactions) that the runtime snapshots at each checkpoint and redistributes on rescale.
 */
export interface OperatorStateStore {
  /** Split state: on rescale, elements are divided among the new subtasks. */
  getListState<T>(name: string): OperatorListState<T>;
  /** Union state: on rescale (and restore), every subtask gets all elements of all old subtasks. */
  getUnionListState<T>(name: string): OperatorListState<T>;
}

export interface OperatorListState<T> {
  get(): T[];
  update(values: readonly T[]): void;
  add(value: T): void;
  clear(): void;
}

/** An in-memory store restored from snapshot lists; the runtime snapshots `lists()`. */
export class MemoryOperatorStateStore implements OperatorStateStore {
  private readonly split = new Map<string, unknown[]>();
  private readonly union = new Map<string, unknown[]>();

  constructor(restored?: { split?: Record<string, unknown[]>; union?: Record<string, unknown[]> }) {
    for (const [k, v] of Object.entries(restored?.split ?? {})) this.split.set(k, [...v]);
    for (const [k, v] of Object.entries(restored?.union ?? {})) this.union.set(k, [...v]);
  }

  private handle<T>(map: Map<string, unknown[]>, name: string): OperatorListState<T> {
    if (!map.has(name)) map.set(name, []);
    return {
      get: () => [...(map.get(name) as T[])],
      update: (values) => void map.set(name, [...values]),
      add: (value) => void (map.get(name) as T[]).push(value),
      clear: () => void map.set(name, []),
    };
  }

  getListState<T>(name: string): OperatorListState<T> {
    return this.handle<T>(this.split, name);
  }

  getUnionListState<T>(name: string): OperatorListState<T> {
    return this.handle<T>(this.union, name);
  }

  lists(): { split: Record<string, unknown[]>; union: Record<string, unknown[]> } {
    return { split: Object.fromEntries(this.split), union: Object.fromEntries(this.union) };
  }
}
