/**
 * A key as a value that JS Maps compare by content: primitives are themselves, tuples become a
 * tagged string. Used where state or timers are indexed in memory.
 */
import type { KeyPrimitive, StateKey } from './key-groups.ts';

function tag(k: KeyPrimitive): string {
  switch (typeof k) {
    case 'string':
      return `s${k.length}:${k}`;
    case 'number':
      return `n${k}`;
    case 'boolean':
      return k ? 'T' : 'F';
    case 'bigint':
      return `b${k}`;
  }
}

export type KeyId = string | number | boolean | bigint;

export function keyId(key: StateKey): KeyId {
  if (typeof key !== 'object') return key;
  let s = '\u0000';
  for (let i = 0; i < key.length; i++) s += tag(key[i]!);
  return s;
}

/** Total order on keys, as used for MapState user keys: numbers before strings, tuples element-wise. */
export function compareKeys(a: StateKey, b: StateKey): number {
  if (typeof a === 'object' && typeof b === 'object') {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = compareKeys(a[i]!, b[i]!);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  const ta = typeof a;
  const tb = typeof b;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a as KeyPrimitive) < (b as KeyPrimitive) ? -1 : (a as KeyPrimitive) > (b as KeyPrimitive) ? 1 : 0;
}

/**
 * A copy of `s` that keeps no larger string alive. A string decoded from an exchange batch is a
 * slice of the batch's column (V8 makes a substring of 13 or more characters a view into its
 * parent), so a key kept in state for the life of the job would keep its whole batch column alive:
 * with a few new keys in every batch, memory grows with the input, not with the keys. State takes
 * its own copy of a key when the key is new (200 keys sliced from 1 MB strings held 203 MB without
 * the copy, 4 MB with it; test/unit/state/owned-keys.test.ts).
 */
export function ownString(s: string): string {
  // (' ' + s) is a cons string; slicing it flattens it into a new string of s's length + 1.
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** `key` with its strings copied (ownString): a key that state keeps. */
export function ownKey<K extends StateKey>(key: K): K {
  if (typeof key === 'string') return ownString(key) as K;
  if (typeof key !== 'object') return key;
  return key.map((k) => (typeof k === 'string' ? ownString(k) : k)) as unknown as K;
}

/**
 * The KeyId state keeps with `own` (ownKey of the key whose id is `id`): a string key is its own
 * id, so the copy is shared, not made twice; a tuple's id (a string) is copied (ownString).
 */
export function ownKeyId(own: StateKey, id: KeyId): KeyId {
  if (typeof own === 'string') return own;
  return typeof id === 'string' ? ownString(id) : id;
}

/**
 * `key`, with a number that is a 32-bit integer (not -0) as a small integer (a V8 Smi). A number
 * read from bytes or from an array of doubles (a tuple holding a timestamp, say) is a heap number
 * even when it holds 7; put in the fields of the backend's entries and timers where the thread's
 * other keys are small integers, it changes their objects' layout for good, and every entry made
 * after that is migrated to the new layout in the runtime (Nexmark q4 keyed its averages by a
 * category read from such a tuple). The batch codec does the same for decoded record fields.
 */
export function smallIntegerKey(key: StateKey): StateKey {
  if (typeof key !== 'number') return key;
  const s = key | 0;
  return s === key && (s !== 0 || 1 / key > 0) ? s : key;
}
