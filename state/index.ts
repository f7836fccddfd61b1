/**
 * The public entry of state/: keyed state backends (LMDB by default, heap for tests and small
 * state), snapshots and restores, operator state, and checkpoint storage.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from '../runtime/worker-safe-fs.ts';
import path from 'node:path';
import { ConfigError } from '../runtime/errors.ts';
import type { Clock, KeyedStateBackend } from './backend.ts';
import type { CheckpointStorage } from './checkpoint-storage/storage.ts';
import { HeapKeyedStateBackend } from './heap/heap-backend.ts';
import type { KeyGroupRange } from './key-groups.ts';
import { LmdbKeyedStateBackend } from './lmdb/lmdb-backend.ts';
import type { KeyedStateHandle } from './snapshot/keyed-state-handle.ts';

export type { Clock, KeyedStateBackend } from './backend.ts';
export { systemClock } from './backend.ts';
export type {
  AggregateFunction,
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateDescriptor,
  StateTtlConfig,
  ValueStateDescriptor,
} from './descriptors.ts';
export { aggregatingState, listState, mapState, reducingState, valueState } from './descriptors.ts';
export { StateValueError, plainDataSerializer, sharedPlainData, type SharedPlainDataOptions, type StateSerializer } from './value-serializer.ts';
export type { AggregatingState, ListState, MapState, ReducingState, ValueState } from './handles.ts';
export type { KeyGroupRange, KeyPrimitive, StateKey } from './key-groups.ts';
export {
  DEFAULT_MAX_PARALLELISM,
  hashKey,
  isStateKey,
  keyGroupOf,
  keyGroupRangeFor,
  rangeContains,
  subtaskForKeyGroup,
} from './key-groups.ts';
export type { TimeDomain, Timer, TimerService } from './timers.ts';
export type { KeyGroupBlock, KeyedStateHandle } from './snapshot/keyed-state-handle.ts';
export { HeapKeyedStateBackend } from './heap/heap-backend.ts';
export { LmdbKeyedStateBackend } from './lmdb/lmdb-backend.ts';
export {
  OperatorStateStore,
  redistributeOperatorState,
  type OperatorListState,
  type OperatorStateHandle,
  type OperatorStateMode,
} from './operator-state.ts';
export {
  CheckpointStorageError,
  collectStateFiles,
  type CheckpointListing,
  type CheckpointScope,
  type CheckpointStorage,
  type CompletedCheckpoint,
  type FileData,
  type StateFileHandle,
  type WriteOptions,
} from './checkpoint-storage/storage.ts';
export { LocalCheckpointStorage, type LocalCheckpointStorageOptions } from './checkpoint-storage/local.ts';
export { S3CheckpointStorage, type S3CheckpointStorageOptions } from './checkpoint-storage/s3.ts';

export interface KeyedStateBackendOptions {
  kind: 'lmdb' | 'heap';
  /** Scratch directory for the LMDB working files (a fresh subdirectory is made and removed on dispose). */
  workDir: string;
  operatorUid: string;
  subtask: number;
  keyGroupRange: KeyGroupRange;
  maxParallelism: number;
  storage: CheckpointStorage;
  /** Handles of the operator's keyed state from a checkpoint, from all its subtasks at any parallelism. */
  restore?: KeyedStateHandle[];
  clock?: Clock;
  /** LMDB only: buffered writes per commit (default 32768). */
  flushEvery?: number;
  /** LMDB only: entries of the in-memory cache of value, reducing and aggregating state (default: 10k to 1M by heap size). */
  cacheEntries?: number;
}

/** A keyed state backend, with the key groups of `keyGroupRange` restored from `restore` (timers included). */
export async function createKeyedStateBackend(options: KeyedStateBackendOptions): Promise<KeyedStateBackend> {
  const { keyGroupRange: r, maxParallelism } = options;
  if (!(Number.isInteger(r.start) && Number.isInteger(r.end) && r.start >= 0 && r.start <= r.end && r.end < maxParallelism)) {
    throw new ConfigError('keyGroupRange', `${JSON.stringify(r)} is not a range inside [0, ${maxParallelism - 1}] (maxParallelism ${maxParallelism})`);
  }
  const common = {
    keyGroupRange: { start: r.start, end: r.end },
    maxParallelism,
    operatorUid: options.operatorUid,
    subtask: options.subtask,
    storage: options.storage,
    ...(options.clock ? { clock: options.clock } : {}),
  };
  if (options.kind === 'heap') {
    const backend = new HeapKeyedStateBackend(common);
    await backend.restore(options.restore ?? []);
    return backend;
  }
  if (options.kind !== 'lmdb') throw new ConfigError('state.backend', `'${String(options.kind)}' is not a state backend: use 'lmdb' or 'heap'`);
  const safeUid = options.operatorUid.replace(/[^A-Za-z0-9_.-]/g, '_');
  const dir = path.join(options.workDir, `state-${safeUid}-${options.subtask}-${randomUUID().slice(0, 8)}`);
  await mkdir(dir, { recursive: true });
  const backend = new LmdbKeyedStateBackend({ ...common, path: dir, ...(options.flushEvery ? { flushEvery: options.flushEvery } : {}),
    ...(options.cacheEntries ? { cacheEntries: options.cacheEntries } : {}),
  });
  try {
    await backend.restore(options.restore ?? []);
  } catch (e) {
    await backend.dispose();
    throw e;
  }
  return backend;
}
