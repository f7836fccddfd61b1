/**
 * What user code holds: state handles scoped to the current key of the operator. A handle is only
 * valid synchronously inside the call that processes one record or one timer, because the backend's
 * current key moves on with the next record.
 */
import type { StateKey } from './key-groups.ts';

export interface ValueState<T> {
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}

export interface ListState<T> {
  get(): T[];
  add(value: T): void;
  addAll(values: readonly T[]): void;
  update(values: readonly T[]): void;
  clear(): void;
}

export interface MapState<UK extends StateKey, UV> {
  get(key: UK): UV | undefined;
  put(key: UK, value: UV): void;
  remove(key: UK): void;
  contains(key: UK): boolean;
  /** Entries in user-key order. */
  entries(): IterableIterator<[UK, UV]>;
  keys(): IterableIterator<UK>;
  isEmpty(): boolean;
  clear(): void;
}

export interface ReducingState<T> {
  get(): T | undefined;
  add(value: T): void;
  clear(): void;
}

export interface AggregatingState<IN, OUT> {
  get(): OUT | undefined;
  add(value: IN): void;
  clear(): void;
}
