/**
 * State descriptors: a name, a serializer (what values the state accepts and how it copies them,
 * default plain data: value-serializer.ts) and, for reducing and aggregating state, the function
 * that folds values. Operators declare them up front; the name is the state's identity inside its
 * operator (so it must stay the same across job versions for a savepoint to restore).
 */
import type { StateKey } from './key-groups.ts';
import { plainDataSerializer, type StateSerializer } from './value-serializer.ts';

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
  /** Default: plain data (value-serializer.ts). */
  serializer?: StateSerializer<T>;
  /** Phantom field carrying the value type; never set. */
  readonly __type?: T;
}

export interface ListStateDescriptor<T> extends DescriptorBase {
  kind: 'list';
  /** Of one element. Default: plain data. */
  serializer?: StateSerializer<T>;
  readonly __type?: T;
}

export interface MapStateDescriptor<UK extends StateKey, UV> extends DescriptorBase {
  kind: 'map';
  /** Of one map value (user keys are state keys). Default: plain data. */
  serializer?: StateSerializer<UV>;
  readonly __type?: [UK, UV];
}

export interface ReducingStateDescriptor<T> extends DescriptorBase {
  kind: 'reducing';
  serializer?: StateSerializer<T>;
  reduce(accumulated: T, value: T): T;
}

export interface AggregateFunction<IN, ACC, OUT> {
  /**
   * What the accumulator may hold and how it is checked when state keeps it (default: plain data,
   * walked on every add). Give one when a cheaper check is known to be enough.
   */
  accumulatorSerializer?: StateSerializer<ACC>;
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
  /** Needed by session windows, which merge windows and so their accumulators. */
  merge?(a: ACC, b: ACC): ACC;
}

export interface AggregatingStateDescriptor<IN, ACC, OUT> extends DescriptorBase {
  kind: 'aggregating';
  /** Of the accumulator. Default: `aggregate.accumulatorSerializer`, else plain data. */
  serializer?: StateSerializer<ACC>;
  aggregate: AggregateFunction<IN, ACC, OUT>;
}

export type StateDescriptor =
  | ValueStateDescriptor<unknown>
  | ListStateDescriptor<unknown>
  | MapStateDescriptor<StateKey, unknown>
  | ReducingStateDescriptor<never>
  | AggregatingStateDescriptor<never, unknown, unknown>;

export function valueState<T>(name: string, options: { ttl?: StateTtlConfig; serializer?: StateSerializer<T> } = {}): ValueStateDescriptor<T> {
  return { kind: 'value', name, ...options };
}

export function listState<T>(name: string, options: { ttl?: StateTtlConfig; serializer?: StateSerializer<T> } = {}): ListStateDescriptor<T> {
  return { kind: 'list', name, ...options };
}

export function mapState<UK extends StateKey, UV>(name: string, options: { ttl?: StateTtlConfig; serializer?: StateSerializer<UV> } = {}): MapStateDescriptor<UK, UV> {
  return { kind: 'map', name, ...options };
}

export function reducingState<T>(name: string, reduce: (accumulated: T, value: T) => T, options: { ttl?: StateTtlConfig; serializer?: StateSerializer<T> } = {}): ReducingStateDescriptor<T> {
  return { kind: 'reducing', name, reduce, ...options };
}

export function aggregatingState<IN, ACC, OUT>(
  name: string,
  aggregate: AggregateFunction<IN, ACC, OUT>,
  options: { ttl?: StateTtlConfig; serializer?: StateSerializer<ACC> } = {},
): AggregatingStateDescriptor<IN, ACC, OUT> {
  return { kind: 'aggregating', name, aggregate, ...options };
}

/** The descriptor's serializer, or the default (for aggregating state: the aggregate's, then the default). */
export function serializerOf<T>(d: { serializer?: StateSerializer<T>; aggregate?: { accumulatorSerializer?: StateSerializer<T> } }): StateSerializer<T> {
  return d.serializer ?? d.aggregate?.accumulatorSerializer ?? (plainDataSerializer as StateSerializer<T>);
}
