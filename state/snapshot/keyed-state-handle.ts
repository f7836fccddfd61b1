/**
 * What a keyed state snapshot is, as recorded in checkpoint metadata: one file per subtask whose
 * entries are grouped by key group, and per key group the byte range and CRC-32 of its block, so
 * that a subtask restoring at another parallelism reads only the key groups it owns.
 *
 * An entry is the LMDB layout of `state/layout.ts`: an ordered-binary key and a msgpack value, each
 * prefixed by its length (u32 little-endian). Both backends write and read this format, so a
 * snapshot of one restores into the other.
 */
import type { StateFileHandle } from '../checkpoint-storage/storage.ts';
import type { KeyGroupRange } from '../key-groups.ts';

export interface KeyGroupBlock {
  keyGroup: number;
  offset: number;
  length: number;
  entries: number;
  crc32: string;
}

export interface KeyedStateHandle {
  type: 'weir.keyed-state';
  version: 1;
  backend: 'lmdb' | 'heap';
  operatorUid: string;
  subtask: number;
  checkpointId: number;
  maxParallelism: number;
  keyGroupRange: KeyGroupRange;
  /** Absent when the subtask had no state. */
  file?: StateFileHandle;
  /** Non-empty key groups only, in key-group order (so their blocks are contiguous in the file). */
  keyGroups: KeyGroupBlock[];
  /** List elements are keyed by a per-backend sequence; a restore continues above this. */
  nextListSeq: number;
}
