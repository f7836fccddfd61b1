/**
 * State descriptors: a name and, for reducing and aggregating state, the function that folds
 * values. Operators declare them up front; the name is the state's identity inside its operator
 * (so it must stay the same across job versions for a savepoint to restore).
 */
import type { StateKey } from './key-groups.ts';

export interface StateTtlConfig {
  /** Time to live in milliseconds of processing time. */
  ttlMs: number;
  /** When the clock restarts: on create and write (default, Flink's OnCreateAndWrite) or also on read. */
  update?: 'on-create-and-write' | 'on-read-and-write';
}

interface DescriptorBase {
  name: string;
  ttl?: StateTtlConfig;
}

export interface ValueStateDescriptor<T> extends DescriptorBase {
  kind: 'value';
  /** Phantom field carrying the value type; never set. */
  readonly __type?: T;
}

export interface ListStateDescriptor<T> extends DescriptorBase {
  kind: 'list';
  readonly __type?: T;
}

export interface MapStateDescriptor<UK extends StateKey, UV> extends DescriptorBase {
  kind: 'map';
  readonly __type?: [UK, UV];
}

export interface ReducingStateDescriptor<T> extends DescriptorBase {
  kind: 'reducing';
  reduce(accumulated: T, value: T): T;
}

export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
  /** Needed by session windows, which merge windows and so their accumulators. */
  merge?(a: ACC, b: ACC): ACC;
}

export interface AggregatingStateDescriptor<IN, ACC, OUT> extends DescriptorBase {
  kind: 'aggregating';
  aggregate: AggregateFunction<IN, ACC, OUT>;
}

export type StateDescriptor =
  | ValueStateDescriptor<unknown>
  | ListStateDescriptor<unknown>
  | MapStateDescriptor<StateKey, unknown>
  | ReducingStateDescriptor<never>
  | AggregatingStateDescriptor<never, unknown, unknown>;

export function valueState<T>(name: string, options: { ttl?: StateTtlConfig } = {}): ValueStateDescriptor<T> {
  return { kind: 'value', name, ...options };
}

export function listState<T>(name: string, options: { ttl?: StateTtlConfig } = {}): ListStateDescriptor<T> {
  return { kind: 'list', name, ...options };
}

export function mapState<UK extends StateKey, UV>(name: string, options: { ttl?: StateTtlConfig } = {}): MapStateDescriptor<UK, UV> {
  return { kind: 'map', name, ...options };
}

export function reducingState<T>(name: string, reduce: (accumulated: T, value: T) => T, options: { ttl?: StateTtlConfig } = {}): ReducingStateDescriptor<T> {
  return { kind: 'reducing', name, reduce, ...options };
}

export function aggregatingState<IN, ACC, OUT>(
  name: string,
  aggregate: AggregateFunction<IN, ACC, OUT>,
  options: { ttl?: StateTtlConfig } = {},
): AggregatingStateDescriptor<IN, ACC, OUT> {
  return { kind: 'aggregating', name, aggregate, ...options };
}
