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
