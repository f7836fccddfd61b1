/**
 * Keys and key groups. A key is hashed (Murmur3) into one of `maxParallelism` key groups; each
 * subtask of a keyed operator owns a contiguous range of key groups, and keyed state is stored by
 * key group so that it can be moved range by range when the parallelism changes (as in Flink's
 * KeyGroupRangeAssignment).
 */
import { finalize, mixBlock, scramble } from '../runtime/hash/murmur3.ts';

/** What a `keyBy` selector may return: primitives, or a tuple of them for composite keys. */
export type KeyPrimitive = string | number | boolean | bigint;
export type StateKey = KeyPrimitive | readonly KeyPrimitive[];

export const DEFAULT_MAX_PARALLELISM = 128;

export interface KeyGroupRange {
  /** First key group, inclusive. */
  start: number;
  /** Last key group, inclusive. */
  end: number;
}

function mixH(h: number, k: number): number {
  return mixBlock(h, scramble(k));
}

/**
 * Murmur3_32 over a string's UTF-16 code units, two to a word: the steps of runtime/hash/murmur3.ts
 * written out in one loop. Every keyBy record hashes its key here (record writer), and the written-out
 * loop takes about half the time of the calls (some 11 ns instead of 20-30 for a 8-character key on
 * this machine); test/unit/checkpoint/key-group-golden.test.ts holds it to the reference algorithm.
 */
export function hashString(s: string, seed = 0): number {
  let h = seed;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    let k = Math.imul(s.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= n * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

const f64 = new Float64Array(1);
const f64Words = new Int32Array(f64.buffer);

function hashNumber(x: number, seed: number): number {
  if ((x | 0) === x) return finalize(mixH(seed, x), 4);
  f64[0] = x;
  return finalize(mixH(mixH(seed, f64Words[0]!), f64Words[1]!), 8);
}

function hashPrimitive(key: KeyPrimitive, seed: number): number {
  switch (typeof key) {
    case 'string':
      return hashString(key, seed);
    case 'number':
      return hashNumber(key, seed);
    case 'boolean':
      return finalize(mixH(seed, key ? 1 : 0), 1);
    case 'bigint':
      return hashString(key.toString(), seed ^ 0x5bd1e995);
  }
}

/** A stable 32-bit hash of a key, the same in every thread and process. */
export function hashKey(key: StateKey): number {
  if (typeof key !== 'object') return hashPrimitive(key, 0);
  let h = 0x2a;
  for (let i = 0; i < key.length; i++) h = mixH(h, hashPrimitive(key[i]!, i));
  return finalize(h, key.length);
}

/**
 * How many times keyGroupOf ran in this thread. A record's key group is computed once, by the
 * record writer of the keyBy exchange, and carried with the record into the keyed operator
 * (`Operator.processBatch`'s `keyGroups`); tests read this counter to check no operator hashes again.
 */
export const keyGroupHashes = { count: 0 };

export function keyGroupOf(key: StateKey, maxParallelism: number): number {
  return keyGroupOfHash(keyGroupHash(key), maxParallelism);
}

/**
 * The hash a key's key group is cut from (counted in keyGroupHashes). The record writer of a keyBy
 * exchange carries it with the record (`Operator.processBatch`'s `keyHashes`) next to the key group,
 * so a state backend can index its tables by it without hashing the key again; for a string key it
 * is `hashString(key)`.
 */
export function keyGroupHash(key: StateKey): number {
  keyGroupHashes.count++;
  // Strings (the common key) skip hashKey's dispatch.
  return typeof key === 'string' ? hashString(key, 0) : hashKey(key);
}

/**
 * The key group of a key whose keyGroupHash is `hash`: the unsigned hash modulo maxParallelism,
 * as a mask when that is a power of two (the default 128): the same value without a division
 * (about 8 ns against 1 per record, micro-benchmark on this machine).
 */
export function keyGroupOfHash(hash: number, maxParallelism: number): number {
  return (maxParallelism & (maxParallelism - 1)) === 0 ? hash & (maxParallelism - 1) : (hash >>> 0) % maxParallelism;
}

/** The key groups owned by subtask `index` of `parallelism` (Flink's computeKeyGroupRangeForOperatorIndex). */
export function keyGroupRangeFor(index: number, parallelism: number, maxParallelism: number): KeyGroupRange {
  return {
    start: Math.ceil((index * maxParallelism) / parallelism),
    end: Math.ceil(((index + 1) * maxParallelism) / parallelism) - 1,
  };
}

/** The subtask that owns a key group (inverse of keyGroupRangeFor). */
export function subtaskForKeyGroup(keyGroup: number, parallelism: number, maxParallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

export function rangeContains(range: KeyGroupRange, keyGroup: number): boolean {
  return keyGroup >= range.start && keyGroup <= range.end;
}

/** Validates a key from a user's key selector; the message names the operator and the record. */
export function isStateKey(key: unknown): key is StateKey {
  const t = typeof key;
  if (t === 'string' || t === 'boolean' || t === 'bigint') return true;
  if (t === 'number') return !Number.isNaN(key);
  if (Array.isArray(key)) return key.every((k) => isStateKey(k) && !Array.isArray(k));
  return false;
}
