/**
 * The keyed state backend: where an operator's keyed state and timers live, scoped by key group.
 * Two implementations: `heap/` (JS Maps; tests and small state) and `lmdb/` (on disk, larger than
 * memory, the default for jobs). Operators talk to this interface only.
 */
import type {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
} from './descriptors.ts';
import type { AggregatingState, ListState, MapState, ReducingState, ValueState } from './handles.ts';
import type { KeyGroupRange, StateKey } from './key-groups.ts';
import type { TimerService } from './timers.ts';
import type { KeyedStateHandle } from './snapshot/keyed-state-handle.ts';
import type { CheckpointScope } from './checkpoint-storage/storage.ts';

export interface KeyedStateBackend {
  readonly keyGroupRange: KeyGroupRange;
  readonly maxParallelism: number;

  /**
   * Scope every handle to this key until the next call. `keyHash`, when the caller has it (the
   * record came through a keyBy exchange, see Operator.processBatch), is the key's keyGroupHash: a
   * backend that indexes keys by hash may use it instead of hashing the key again.
   */
  setCurrentKey(key: StateKey, keyGroup: number, keyHash?: number): void;
  currentKey(): StateKey;
  currentKeyGroup(): number;

  getValueState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  getMapState<UK extends StateKey, UV>(descriptor: MapStateDescriptor<UK, UV>): MapState<UK, UV>;
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>;
  getAggregatingState<IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT>;

  /** Every key that has state under `stateName`, with its key group (Flink's applyToAllKeys). */
  keys(stateName: string): Iterable<[StateKey, number]>;

  /** Event-time and processing-time timers, stored with the keyed state. */
  readonly timers: TimerService;

  /**
   * Takes a consistent view of all keyed state and timers before it returns (writes made after the
   * call are not in the snapshot), then writes it out while processing continues. The returned
   * handle is plain JSON for the checkpoint metadata. `scope` says where the file goes: a savepoint's
   * files live in the savepoint's own directory, which checkpoint retention never deletes.
   */
  snapshot(checkpointId: number, scope?: CheckpointScope): Promise<KeyedStateHandle>;

  /** Release files and memory. */
  dispose(): Promise<void>;
}

/** The processing-time clock; tests swap it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
