/**
 * User functions for `process`: plain objects or classes with `processElement` and optional
 * `open`, `onTimer`, `close`. The contexts passed in are reused from record to record: read what
 * you need during the call, do not keep them.
 *
 * Members that take record or key types are function-typed properties, not methods, so that tsc
 * checks them strictly (method parameters are bivariant): a function of `Click` does not fit a stream
 * of `Click | Purchase`, and a function keyed by `number` does not fit a stream keyed by `string`.
 * Implement them with ordinary methods. test/types/api-types.ts holds the cases.
 */
import type { OutputTag } from './operator.ts';
import type {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
} from '../state/descriptors.ts';
import type { AggregatingState, ListState, MapState, ReducingState, ValueState } from '../state/handles.ts';
import type { StateKey } from '../state/key-groups.ts';

/** Picks the key of a record for `keyBy` and keyed joins (Flink's KeySelector). */
export type KeySelector<T> = (value: T) => StateKey;

export interface Collector<T> {
  /** Emits with the timestamp of the record (or timer) being processed. */
  readonly collect: (value: T) => void;
}

export interface RuntimeContext {
  readonly operatorName: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
}

export interface KeyedRuntimeContext extends RuntimeContext {
  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  getMapState<UK extends StateKey, UV>(descriptor: MapStateDescriptor<UK, UV>): MapState<UK, UV>;
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>;
  getAggregatingState<IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT>;
}

export interface ProcessContext {
  /** Event time of the current record; NaN if it has none. */
  readonly timestamp: number;
  currentWatermark(): number;
  currentProcessingTime(): number;
  /** Emits to a side output with the current record's timestamp. */
  output<S>(tag: OutputTag<S>, value: S): void;
}

export interface TimerService {
  currentWatermark(): number;
  currentProcessingTime(): number;
  registerEventTimeTimer(time: number): void;
  registerProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
}

export interface KeyedContext<K> extends ProcessContext {
  readonly key: K;
  readonly timerService: TimerService;
}

export interface OnTimerContext<K> extends KeyedContext<K> {
  readonly timeDomain: 'event' | 'processing';
}

export interface ProcessFunction<IN, OUT> {
  readonly open?: (ctx: RuntimeContext) => void | Promise<void>;
  readonly processElement: (value: IN, ctx: ProcessContext, out: Collector<OUT>) => void;
  /** Bounded input ended. */
  readonly endInput?: (out: Collector<OUT>) => void;
  close?(): void | Promise<void>;
}

export interface KeyedProcessFunction<K, IN, OUT> {
  readonly open?: (ctx: KeyedRuntimeContext) => void | Promise<void>;
  readonly processElement: (value: IN, ctx: KeyedContext<K>, out: Collector<OUT>) => void;
  readonly onTimer?: (time: number, ctx: OnTimerContext<K>, out: Collector<OUT>) => void;
  close?(): void | Promise<void>;
}

export interface CoProcessFunction<IN1, IN2, OUT> {
  readonly open?: (ctx: RuntimeContext) => void | Promise<void>;
  readonly processElement1: (value: IN1, ctx: ProcessContext, out: Collector<OUT>) => void;
  readonly processElement2: (value: IN2, ctx: ProcessContext, out: Collector<OUT>) => void;
  close?(): void | Promise<void>;
}

export interface KeyedCoProcessFunction<K, IN1, IN2, OUT> {
  readonly open?: (ctx: KeyedRuntimeContext) => void | Promise<void>;
  readonly processElement1: (value: IN1, ctx: KeyedContext<K>, out: Collector<OUT>) => void;
  readonly processElement2: (value: IN2, ctx: KeyedContext<K>, out: Collector<OUT>) => void;
  readonly onTimer?: (time: number, ctx: OnTimerContext<K>, out: Collector<OUT>) => void;
  close?(): void | Promise<void>;
}
